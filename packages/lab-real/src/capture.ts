import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { execIn } from "./holder.js";
import { hypervisors, migrationUri, nfsNodes, swarmNodes, vms } from "./topology.js";

/**
 * Saves real tool outputs from the running lab, for parser tests: what the agent's parsers
 * meet on real daemons, including the domjobinfo states of a live migration in progress.
 * `lab:real capture DIR` (lab up).
 */

type Capture = { file: string; cmd: string; args: string[] };

const DOCKER = "/usr/bin/docker";
const json = ["--format", "{{json .}}"];

export function capturesFor(role: "hypervisor" | "swarm" | "nfs", firstVm: string | null): Capture[] {
  const common: Capture[] = [
    { file: "ip-j-d-link.json", cmd: "ip", args: ["-j", "-d", "link"] },
    { file: "ip-j-addr.json", cmd: "ip", args: ["-j", "addr"] },
    { file: "bridge-j-link.json", cmd: "bridge", args: ["-j", "link"] },
    { file: "bridge-j-fdb.json", cmd: "bridge", args: ["-j", "fdb"] },
  ];
  switch (role) {
    case "hypervisor":
      return [
        ...common,
        { file: "ovs-vsctl-bridge.json", cmd: "ovs-vsctl", args: ["--format=json", "list", "Bridge"] },
        { file: "ovs-vsctl-port.json", cmd: "ovs-vsctl", args: ["--format=json", "list", "Port"] },
        { file: "ovs-vsctl-interface.json", cmd: "ovs-vsctl", args: ["--format=json", "list", "Interface"] },
        { file: "virsh-list-all.txt", cmd: "virsh", args: ["-c", "qemu:///system", "list", "--all"] },
        { file: "virsh-nodeinfo.txt", cmd: "virsh", args: ["-c", "qemu:///system", "nodeinfo"] },
        ...(firstVm
          ? [
              { file: `virsh-dumpxml-${firstVm}.xml`, cmd: "virsh", args: ["-c", "qemu:///system", "dumpxml", firstVm] },
              { file: `virsh-dominfo-${firstVm}.txt`, cmd: "virsh", args: ["-c", "qemu:///system", "dominfo", firstVm] },
              { file: `virsh-domstats-${firstVm}.txt`, cmd: "virsh", args: ["-c", "qemu:///system", "domstats", firstVm] },
            ]
          : []),
      ];
    case "swarm":
      return [
        ...common,
        { file: "docker-info.json", cmd: DOCKER, args: ["info", ...json] },
        { file: "docker-node-ls.jsonl", cmd: DOCKER, args: ["node", "ls", ...json] },
        { file: "docker-service-ls.jsonl", cmd: DOCKER, args: ["service", "ls", ...json] },
        { file: "docker-service-ps-initech-worker.jsonl", cmd: DOCKER, args: ["service", "ps", "initech-worker", ...json] },
        { file: "docker-service-inspect-acme-web.json", cmd: DOCKER, args: ["service", "inspect", "acme-web"] },
      ];
    case "nfs":
      return [
        ...common,
        { file: "showmount-e.txt", cmd: "showmount", args: ["-e", "127.0.0.1"] },
        { file: "rpcinfo-p.txt", cmd: "rpcinfo", args: ["-p", "127.0.0.1"] },
        { file: "df-instance.txt", cmd: "df", args: ["-P", "-B1", "/instance"] },
        { file: "ip-j-addr-eth0.json", cmd: "ip", args: ["-j", "addr", "show", "dev", "eth0"] },
      ];
  }
}

async function saveAll(exec: NodeExec, dir: string, captures: Capture[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const saved: string[] = [];
  for (const c of captures) {
    const res = await exec(c.cmd, c.args, { check: false, timeoutMs: 30_000 });
    // Workers refuse `node ls`: that refusal is a real output worth keeping too.
    await writeFile(join(dir, c.file), res.code === 0 ? res.stdout : `# exit ${res.code}\n${res.stderr}`);
    saved.push(join(dir, c.file));
  }
  return saved;
}

/** Every distinct `virsh domjobinfo` output during one live migration kvm1 -> kvm2 and back. */
async function captureMigration(l: Layout, dir: string): Promise<string[]> {
  const [src, dst] = hypervisors();
  const vm = vms.find((v) => v.host === src!.name)!.name;
  const from = await execIn(l, src!.name);
  const back = await execIn(l, dst!.name);
  const seen = new Set<string>();
  let running = true;
  const migrate = from("virsh", ["-c", "qemu:///system", "migrate", "--live", "--persistent", "--undefinesource", "--unsafe", "--bandwidth", "2", vm, migrationUri(dst!)], { timeoutMs: 180_000 })
    .finally(() => (running = false));
  while (running) {
    const res = await from("virsh", ["-c", "qemu:///system", "domjobinfo", vm], { check: false, timeoutMs: 10_000 });
    // Elapsed time changes every sample; keep one sample per shape of output.
    const shape = res.stdout.split("\n").map((line) => line.split(":")[0]).join("|");
    if (res.code === 0 && !seen.has(shape)) {
      seen.add(shape);
      await writeFile(join(dir, `virsh-domjobinfo-migrating-${seen.size}.txt`), res.stdout);
    }
  }
  await migrate;
  await back("virsh", ["-c", "qemu:///system", "migrate", "--live", "--persistent", "--undefinesource", "--unsafe", vm, migrationUri(src!)], { timeoutMs: 180_000 });
  return [...seen].map((_, i) => join(dir, `virsh-domjobinfo-migrating-${i + 1}.txt`));
}

export async function capture(l: Layout, outDir: string): Promise<string[]> {
  const saved: string[] = [];
  for (const h of hypervisors()) {
    const firstVm = vms.find((v) => v.host === h.name)?.name ?? null;
    saved.push(...(await saveAll(await execIn(l, h.name), join(outDir, h.name), capturesFor("hypervisor", firstVm))));
  }
  for (const s of swarmNodes()) saved.push(...(await saveAll(await execIn(l, s.name), join(outDir, s.name), capturesFor("swarm", null))));
  for (const n of nfsNodes()) saved.push(...(await saveAll(await execIn(l, n.name), join(outDir, n.name), capturesFor("nfs", null))));
  saved.push(...(await captureMigration(l, join(outDir, hypervisors()[0]!.name))));
  return saved;
}
