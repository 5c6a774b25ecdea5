import { chmod, copyFile, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreateProgress, type ImageEntry, type Operation, type SwarmSection } from "@nimbus/domain";
import { planStack } from "@nimbus/domain/compose";
import { MemoryOperationStore, OperationManager, type Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { SWARM_VM_BRIDGE, SWARM_VM_SUBNET, swarmVmRange } from "../../src/dhcp.js";
import { docker } from "../../src/docker.js";
import { run, type NodeExec } from "../../src/exec.js";
import { IMAGE, mgmtAddress, swarmManager } from "../../src/topology.js";
import { waitFor } from "../../src/wait.js";
import { ensureBaseImage } from "./base-image.js";
import { domainState, openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";

/**
 * "Add worker" on the real swarm, through the server's own code path (OperationManager's
 * SwarmNodeRunner, as `swarmNodes.addWorker` runs it): the worker token fetched from the
 * namespace manager at that moment, a VM built by virt-builder from the offline Docker-ready image
 * on br0 (the swarm VMs' network: DHCP and routing from kvm1, see src/dhcp.ts), booted under TCG,
 * its first boot mounting the export through the VIP and joining the real swarm; Ready and
 * active; labelled. Two workers are built at once to keep the run short:
 *
 * - swarm-vm1 joins while the manager is unreachable (its 2377/tcp dropped in the manager's
 *   namespace for that VM): docker goes on trying in the background and the operation, still
 *   waiting on the pushed inventory, succeeds once the manager answers again. A stack deployed
 *   through the server places tasks on it; a service published in ingress mode answers on the
 *   VM's address from the host side, load-balanced over both its tasks by the VM's IPVS (the
 *   routing mesh the namespace nodes lack; their host-mode port answers too). Then remove-worker
 *   drains it, its task runs elsewhere, the node is removed and the VM deleted with its volume.
 * - swarm-vm2's token is rotated right after the operation fetched it: the VM's join is refused
 *   (its first-boot log says why), the operation fails at the join after its timeout naming
 *   the join, and deletes the VM and its volume.
 */

const MINUTE = 60_000;
const OK_VM = "swarm-vm1";
const REFUSED_VM = "swarm-vm2";
const STACK = "meshdemo";
const MESH_PORT = 8098;
/** swarm-vm2's join is refused at once; the timeout covers its build-to-first-boot time only. */
const REFUSED_JOIN_TIMEOUT_S = 240;
const MANAGER = swarmManager();
const STAGE = ".nimbus-test-swarm";
/** A task's first start on the TCG worker (network sandboxes, the registry lookup that fails, the container) takes minutes under load. */
const DEPLOY_TIMEOUT_MS = 6 * MINUTE;

const composeFile = (withMesh: boolean) => `services:
${withMesh ? `  mesh:
    image: ${IMAGE}
    command: ["sh", "-c", "mkdir -p /w && hostname > /w/index.html && exec httpd -f -p ${MESH_PORT} -h /w"]
    stop_grace_period: 2s
    networks: [mesh]
    ports:
      - { target: ${MESH_PORT}, published: ${MESH_PORT}, protocol: tcp, mode: ingress }
    deploy:
      replicas: 2
      placement:
        constraints: ["node.labels.nimbus.managed == true"]
` : ""}  spread:
    image: ${IMAGE}
    command: ["sleep", "3600"]
    stop_grace_period: 2s
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      placement:
        preferences: [{ spread: node.labels.nimbus.managed }]
${withMesh ? `networks:
  mesh: {}
` : ""}`;

describe("real lab: add worker builds a VM that joins the real swarm; stacks, the routing mesh, failures, remove", () => {
  let lab: RealLab;
  let fleet: Fleet;
  let ops: OperationManager;
  let image: ImageEntry;
  let kvm1: NodeExec;
  let mgr: NodeExec;
  let key: string;
  let publicKey: string;
  let staging: string;
  const hosts = ["kvm1", "swarm1", "swarm2", "swarm3", "nfs1", "nfs2"];
  /** The two add-worker operations as started, and their ends. */
  const started: Record<string, Operation> = {};
  const finals: Record<string, Promise<Operation>> = {};
  const t0 = Date.now();
  const say = (line: string) => process.stderr.write(`[swarm-worker +${Math.round((Date.now() - t0) / 1000)} s] ${line}\n`);

  const ended = (id: string, timeoutMs: number) =>
    waitFor(`operation ${id} to end`, async () => {
      const op = await ops.get(id);
      return op && op.state !== "running" && op.state !== "pending" ? op : null;
    }, { timeoutMs, intervalMs: 1000 });
  const stepsOf = (op: Operation) => op.steps.map((s) => [s.id, s.state]);
  const explain = (op: Operation) => JSON.stringify(op.steps.map((s) => [s.id, s.state, s.log.slice(-4)]));
  const manager = () => fleet.host("swarm1")!.inventory.swarm as SwarmSection;
  const engines = () => ["swarm1", "swarm2", "swarm3"].flatMap((h) => (fleet.host(h)?.inventory.swarm ? [{ host: h, swarm: fleet.host(h)!.inventory.swarm as SwarmSection }] : []));

  /** The VM's address, once its create (the child operation) reported it. */
  async function addressOf(opId: string): Promise<string> {
    return waitFor(`the address of ${opId}'s VM`, async () => {
      const op = await ops.get(opId);
      if (op && op.state !== "running" && op.state !== "pending") throw new Error(`operation ${opId} ended ${op.state} before its VM had an address: ${op.error} ${explain(op)}`);
      const child = typeof op?.params.createOperation === "string" ? await ops.get(op.params.createOperation) : null;
      return (child?.progress as CreateProgress | null)?.address ?? null;
    }, { timeoutMs: 15 * MINUTE, intervalMs: 1000 });
  }

  /** root's shell on the VM, from its router (kvm1), with the key the add-worker request gave root. */
  const ssh = (address: string, command: string, timeoutMs = 60_000) =>
    kvm1("ssh", ["-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20", "-o", "LogLevel=ERROR", `root@${address}`, command], { timeoutMs, check: false });

  /** Packets the manager's INPUT chain counted from `address` to 2377/tcp (our rules only). */
  async function joinPackets(address: string): Promise<number> {
    const { stdout } = await mgr("iptables", ["-w", "-L", "INPUT", "-v", "-x", "-n"]);
    return stdout
      .split("\n")
      .filter((l) => l.includes(address) && l.includes("dpt:2377"))
      .reduce((s, l) => s + Number(l.trim().split(/\s+/)[0]), 0);
  }
  const rule = (action: "-I" | "-D", address: string, drop: boolean) =>
    mgr("iptables", ["-w", action, "INPUT", ...(action === "-I" ? ["1"] : []), "-s", `${address}/32`, "-p", "tcp", "--dport", "2377", ...(drop ? ["-j", "DROP"] : [])], { check: action === "-I" });

  beforeAll(async () => {
    lab = await openLab();
    kvm1 = await lab.exec("kvm1");
    mgr = await lab.exec(MANAGER.name);
    await cleanup(lab);
    staging = join(lab.layout.instance, STAGE);
    await mkdir(staging, { recursive: true });
    // root's key for the workers (a request field, as for any created instance).
    key = join(lab.layout.keys, "swarm-worker-test");
    await rm(key, { force: true });
    await rm(`${key}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "swarm-worker-test", "-f", key]);
    await chmod(key, 0o600);
    publicKey = (await readFile(`${key}.pub`, "utf8")).trim();
    // The lab's image for the worker's docker, shared through the export (no registry here).
    await copyFile(join(lab.layout.image, "rootfs.tar"), join(staging, "busybox-rootfs.tar"));
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    ops = new OperationManager(fleet, new MemoryOperationStore(), { swarmDrainTimeoutMs: 2 * MINUTE });
    await ops.start();
    await waitForHost(fleet, "swarm1", "a manager section", (h) => h.inventory.swarm?.role === "manager" && h.inventory.swarm.nodes.length === 3);
    image = await ensureBaseImage(lab, fleet, ops, staging, "swarm-worker");
  }, 15 * MINUTE);

  afterAll(async () => {
    await ops?.stop();
    await fleet?.stop();
    if (lab) await cleanup(lab);
  }, 3 * MINUTE);

  const request = (name: string, joinTimeoutSeconds: number) => ({
    name,
    image: image.name,
    vcpus: 1,
    memoryMiB: 1024,
    // The template's own size: virt-builder copies it without a resize.
    diskGiB: Math.ceil(image.virtualSizeBytes / 1024 ** 3),
    host: "kvm1",
    network: { bridge: SWARM_VM_BRIDGE, vlan: null },
    joinTimeoutSeconds,
    sshKeys: [publicKey],
  });

  it("starts two add-worker operations on br0: the second's token rotated right after it was fetched, the first fetching the new one", async () => {
    const plan = ops.swarmNodes.planWorker(request(REFUSED_VM, REFUSED_JOIN_TIMEOUT_S));
    expect(plan.problem).toBeNull();
    expect(plan.placement.chosen?.host).toBe("kvm1");
    expect(plan.network).toEqual({ bridge: "br0", vlan: null });

    const refused = await ops.swarmNodes.addWorker(request(REFUSED_VM, REFUSED_JOIN_TIMEOUT_S), "real-lab-test");
    expect(refused.kind).toBe("swarm-add-worker");
    expect(JSON.stringify(refused)).not.toMatch(/SWMTKN-1-/);
    await waitFor(`${REFUSED_VM}'s token step to be done`, async () => (await ops.get(refused.id))?.steps.find((s) => s.id === "token")?.state === "succeeded" || null, { timeoutMs: 30_000, intervalMs: 200 });
    const before = (await docker(mgr, ["swarm", "join-token", "-q", "worker"])).stdout.trim();
    await fleet.request("swarm1", "swarm.rotateToken", { role: "worker" });
    const after = (await docker(mgr, ["swarm", "join-token", "-q", "worker"])).stdout.trim();
    expect(after).not.toBe(before);
    say(`${REFUSED_VM}: token fetched, then rotated on swarm1`);

    const ok = await ops.swarmNodes.addWorker(request(OK_VM, 900), "real-lab-test");
    started[OK_VM] = ok;
    started[REFUSED_VM] = refused;
    finals[OK_VM] = ended(ok.id, 25 * MINUTE);
    finals[REFUSED_VM] = ended(refused.id, 25 * MINUTE);
    // Keep an unhandled rejection from ending the file before the tests that read them.
    for (const p of Object.values(finals)) p.catch(() => undefined);
  }, 2 * MINUTE);

  let okAddress: string;

  it(`${OK_VM}: its join meets an unreachable manager (2377 dropped), goes on in the background, and the node becomes Ready, active and labelled`, async () => {
    const op0 = started[OK_VM]!;
    okAddress = await addressOf(op0.id);
    // The moment the VM has its address its first boot is still ahead (network-online, docker): hold the manager back for it.
    await rule("-I", okAddress, true);
    say(`${OK_VM} at ${okAddress}: its 2377/tcp to ${mgmtAddress(MANAGER)} dropped`);
    const { first, last } = swarmVmRange();
    const octet = Number(okAddress.split(".")[3]);
    expect(okAddress.startsWith(SWARM_VM_SUBNET.split(".0/")[0]!)).toBe(true);
    expect(octet).toBeGreaterThanOrEqual(Number(first.split(".")[3]));
    expect(octet).toBeLessThanOrEqual(Number(last.split(".")[3]));
    try {
      await waitFor(`${OK_VM}'s join to knock on the manager's 2377`, async () => (await joinPackets(okAddress)) > 0 || null, { timeoutMs: 10 * MINUTE, intervalMs: 2000 });
      say(`${OK_VM}: join attempts dropped at the manager`);
      // docker swarm join gives up waiting after 20 s and goes on in the background: outlast that.
      await waitFor(`${OK_VM}'s first boot to be past the join command`, async () => {
        const log = await ssh(okAddress, "cat /root/virt-sysprep-firstboot.log 2>/dev/null", 60_000);
        return /continue in the background|Timeout was reached/i.test(log.stdout) ? log.stdout : null;
      }, { timeoutMs: 3 * MINUTE, intervalMs: 3000 });
      const op = await ops.get(op0.id);
      expect(op!.state).toBe("running");
      expect(op!.steps.find((s) => s.id === "join")?.state).toBe("running");
      expect(manager().nodes.some((n) => n.hostname === OK_VM)).toBe(false);
    } finally {
      await rule("-D", okAddress, true);
    }
    say(`${OK_VM}: manager reachable again`);
    const final = await finals[OK_VM]!;
    say(`${OK_VM}: ${final.state}`);
    expect(final.error, explain(final)).toBeNull();
    expect(final.state).toBe("succeeded");
    expect(stepsOf(final)).toEqual([
      ["token", "succeeded"],
      ["check", "succeeded"],
      ["build-volume", "succeeded"],
      ["wire-network", "skipped"],
      ["define", "succeeded"],
      ["start", "succeeded"],
      ["wait-address", "succeeded"],
      ["join", "succeeded"],
      ["label", "succeeded"],
    ]);
    expect(JSON.stringify(final)).not.toMatch(/SWMTKN-1-/);
    const node = manager().nodes.find((n) => n.hostname === OK_VM)!;
    expect(node).toMatchObject({ role: "worker", status: "ready", availability: "active", address: okAddress });
    const labels = (await docker(mgr, ["node", "inspect", OK_VM, "--format", "{{json .Spec.Labels}}"])).stdout;
    expect(JSON.parse(labels)).toEqual({ "nimbus.managed": "true", "nimbus.hypervisor": "kvm1" });
    // The VM is kvm1's, untenanted, on br0 (the inventory kvm1 pushes).
    const h = await waitForHost(fleet, "kvm1", `${OK_VM} in its inventory`, (x) => x.inventory.virt?.domains.some((d) => d.name === OK_VM && d.state === "running") === true, 30_000);
    const dom = h.inventory.virt!.domains.find((d) => d.name === OK_VM)!;
    expect(dom.tenant).toBeNull();
    expect(dom.nics[0]?.bridge).toBe("br0");
    // Its first boot mounted the export through the VIP (and kept it in fstab).
    const mounts = await ssh(okAddress, "grep ' /mnt/nimbus ' /proc/mounts; docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeAddr}}'");
    expect(mounts.stdout).toMatch(/^10\.77\.0\.30:\/instance \/mnt\/nimbus nfs4 /m);
    expect(mounts.stdout).toContain(`active ${okAddress}`);
  }, 30 * MINUTE);

  it(`${REFUSED_VM}: the rotated token is refused at the join; the operation fails after its timeout naming the join, and deletes the VM and its volume`, async () => {
    const address = await addressOf(started[REFUSED_VM]!.id).catch(() => null);
    let firstBoot = "";
    if (address) {
      // The VM's own account of its join (before the operation deletes it).
      firstBoot = await waitFor(`${REFUSED_VM}'s first-boot join to fail`, async () => {
        const log = await ssh(address, "cat /root/virt-sysprep-firstboot.log 2>/dev/null", 60_000);
        return /join token|docker swarm join/i.test(log.stdout) && /Error|rpc error/i.test(log.stdout) ? log.stdout : null;
      }, { timeoutMs: REFUSED_JOIN_TIMEOUT_S * 1000, intervalMs: 3000 }).catch(() => "");
    }
    const final = await finals[REFUSED_VM]!;
    say(`${REFUSED_VM}: ${final.state}: ${final.error}`);
    expect(address, `${REFUSED_VM} got no address: ${explain(final)}`).not.toBeNull();
    expect(firstBoot, "the first boot's join was refused for its token").toMatch(/valid join token is necessary|join token/i);
    expect(final.state).toBe("failed");
    expect(final.steps.find((s) => s.id === "join")?.state).toBe("failed");
    expect(final.error).toMatch(new RegExp(`${REFUSED_VM} did not join within ${REFUSED_JOIN_TIMEOUT_S} s .*token may have been rotated.*undone: deleted VM ${REFUSED_VM} and its volume`));
    expect(JSON.stringify(final)).not.toMatch(/SWMTKN-1-/);
    expect(firstBoot).not.toBe("");
    expect(await domainState(lab, "kvm1", REFUSED_VM)).toBeNull();
    await expect(stat(join(lab.layout.instance, `${REFUSED_VM}.qcow2`))).rejects.toThrow(/ENOENT/);
    expect(manager().nodes.some((n) => n.hostname === REFUSED_VM)).toBe(false);
  }, 30 * MINUTE);

  it(`a stack deployed through the server places tasks on ${OK_VM}; a service published in ingress mode answers on the VM's address through its routing mesh`, async () => {
    expect(okAddress).toBeTruthy();
    // No registry: the worker's docker imports the lab's image from the export it mounted.
    const load = await ssh(okAddress, `docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' /mnt/nimbus/${STAGE}/busybox-rootfs.tar ${IMAGE}`, 2 * MINUTE);
    expect(load.code, load.stderr).toBe(0);
    const plan = planStack({ name: STACK, tenant: null, compose: composeFile(true), manager: manager(), engines: engines() });
    expect(plan.validation.errors).toEqual([]);
    const op = await ended((await ops.startStackDeploy({ stack: plan.stack, tenant: null, labelled: plan.labelled!, services: plan.services, diff: plan.validation.diff, timeoutMs: DEPLOY_TIMEOUT_MS }, "real-lab-test")).id, DEPLOY_TIMEOUT_MS + MINUTE);
    expect(op.error, explain(op)).toBeNull();
    expect(op.state).toBe("succeeded");
    const section = await waitForHost(fleet, "swarm1", "the stack's tasks in the section", (h) => {
      const tasks = h.inventory.swarm?.tasks.filter((t) => t.serviceName.startsWith(`${STACK}_`) && t.desiredState === "running" && t.state === "running") ?? [];
      return tasks.length === 4;
    }, MINUTE);
    const onVm = (svc: string) => section.inventory.swarm!.tasks.filter((t) => t.serviceName === `${STACK}_${svc}` && t.desiredState === "running" && t.state === "running" && t.node === OK_VM).length;
    expect(onVm("mesh")).toBe(2);
    // Spread over the label's values: one task on the managed VM, one on a namespace node.
    expect(onVm("spread")).toBe(1);
    const mesh = section.inventory.swarm!.services.find((s) => s.name === `${STACK}_mesh`)!;
    expect(mesh.ports).toEqual([{ published: MESH_PORT, target: MESH_PORT, protocol: "tcp", mode: "ingress" }]);

    // From the host side (the VM's router): the VM's address answers on the published port, no
    // container binds it (ingress, not host mode), and IPVS in the VM spreads requests over both tasks.
    const get = async () => (await kvm1("/bin/busybox", ["nc", "-w", "5", okAddress, String(MESH_PORT)], { input: "GET / HTTP/1.0\r\n\r\n", check: false, timeoutMs: 15_000 })).stdout;
    const answers = new Set<string>();
    await waitFor(`both of ${STACK}_mesh's tasks to answer on ${okAddress}:${MESH_PORT}`, async () => {
      const body = await get();
      const id = /\r?\n\r?\n([0-9a-f]{12})\s*$/.exec(body)?.[1];
      if (id) answers.add(id);
      return answers.size >= 2 || null;
    }, { timeoutMs: MINUTE, intervalMs: 200 });
    const containers = await ssh(okAddress, `docker ps --filter label=com.docker.swarm.service.name=${STACK}_mesh --format '{{.ID}} {{.Ports}}'`);
    const ids = containers.stdout.trim().split("\n").map((l) => l.split(" ")[0]!.slice(0, 12));
    expect([...answers].sort()).toEqual(ids.sort());
    expect(containers.stdout).not.toContain(`:${MESH_PORT}->`);
    // The namespace nodes publish in host mode (no IPVS there): acme-web answers on swarm1's own address.
    const hostMode = await kvm1("/bin/busybox", ["nc", "-w", "5", mgmtAddress(MANAGER), "8080"], { input: "GET / HTTP/1.0\r\n\r\n", check: false, timeoutMs: 15_000 });
    expect(hostMode.stdout).toMatch(/^HTTP\/1\.[01] \d{3}/);
    say(`mesh answered from ${[...answers].join(", ")}`);
  }, 12 * MINUTE);

  it(`remove worker drains ${OK_VM}, its task runs elsewhere, the node is removed and the VM deleted with its volume`, async () => {
    // The mesh service is pinned to managed nodes: take it out of the stack first (the diff names it).
    const plan = planStack({ name: STACK, tenant: null, compose: composeFile(false), manager: manager(), engines: engines() });
    expect(plan.validation.errors).toEqual([]);
    expect(plan.validation.diff).toMatchObject({ exists: true, removed: [expect.objectContaining({ name: `${STACK}_mesh` })] });
    const redeploy = await ended((await ops.startStackDeploy({ stack: plan.stack, tenant: null, labelled: plan.labelled!, services: plan.services, diff: plan.validation.diff, timeoutMs: DEPLOY_TIMEOUT_MS }, "real-lab-test")).id, DEPLOY_TIMEOUT_MS + MINUTE);
    expect(redeploy.error, explain(redeploy)).toBeNull();
    await waitForHost(fleet, "swarm1", "the mesh service gone", (h) => !h.inventory.swarm?.services.some((s) => s.name === `${STACK}_mesh`), MINUTE);

    expect(ops.swarmNodes.removeProblem(OK_VM)).toBeNull();
    const removing = await ops.swarmNodes.removeWorker(OK_VM, "real-lab-test");
    const final = await ended(removing.id, 6 * MINUTE);
    say(`remove ${OK_VM}: ${final.state}`);
    expect(final.error, explain(final)).toBeNull();
    expect(final.state).toBe("succeeded");
    expect(stepsOf(final)).toEqual([
      ["drain", "succeeded"],
      ["tasks-moved", "succeeded"],
      // The VM runs no Nimbus agent: node rm --force and the VM's deletion stand for its leave.
      ["leave", "skipped"],
      ["node-rm", "succeeded"],
      ["delete-vm", "succeeded"],
    ]);
    const sw = manager();
    expect(sw.nodes.some((n) => n.hostname === OK_VM)).toBe(false);
    const spread = sw.tasks.filter((t) => t.serviceName === `${STACK}_spread` && t.desiredState === "running");
    expect(spread).toHaveLength(2);
    expect(spread.every((t) => t.node !== OK_VM)).toBe(true);
    expect((await docker(mgr, ["node", "ls", "--format", "{{.Hostname}}"])).stdout).not.toContain(OK_VM);
    expect(await domainState(lab, "kvm1", OK_VM)).toBeNull();
    await expect(stat(join(lab.layout.instance, `${OK_VM}.qcow2`))).rejects.toThrow(/ENOENT/);
  }, 12 * MINUTE);
});

/** Whatever a run left behind: the stack, the nodes, the VMs and volumes, the manager's rules, the staging files. */
async function cleanup(lab: RealLab): Promise<void> {
  const kvm1 = await lab.exec("kvm1");
  const mgr = await lab.exec(swarmManager().name);
  await docker(mgr, ["stack", "rm", STACK]).catch(() => undefined);
  for (const vm of [OK_VM, REFUSED_VM]) {
    await docker(mgr, ["node", "rm", "--force", vm]).catch(() => undefined);
    await kvm1("virsh", ["-c", "qemu:///system", "destroy", vm], { check: false });
    await kvm1("virsh", ["-c", "qemu:///system", "undefine", vm], { check: false });
    await rm(join(lab.layout.instance, `${vm}.qcow2`), { force: true });
  }
  const { stdout } = await mgr("iptables", ["-w", "-S", "INPUT"], { check: false });
  for (const line of stdout.split("\n").filter((l) => l.includes("--dport 2377") && l.includes(SWARM_VM_SUBNET.split(".0/")[0]!)))
    await mgr("iptables", ["-w", "-D", ...line.trim().split(/\s+/).slice(1)], { check: false });
  await rm(join(lab.layout.instance, STAGE), { recursive: true, force: true });
}
