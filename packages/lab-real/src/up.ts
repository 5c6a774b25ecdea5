import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { writeAgentConfig } from "./agent.js";
import { createService, docker, buildImageTar, importImage, initSwarm, joinSwarm, runningReplicas, startDockerd, swarmNodeStates } from "./docker.js";
import { LabError } from "./errors.js";
import type { NodeExec } from "./exec.js";
import { buildFleetConfig } from "./fleet-config.js";
import { startForwarders, waitForSsh } from "./forwarders.js";
import { startHolder } from "./holder.js";
import { HOST_MOUNT_POINTS, type Layout } from "./layout.js";
import { startLibvirtd, waitForLibvirt, writeLibvirtConfig } from "./libvirt.js";
import { buildLinuxBridge } from "./linux-bridge.js";
import { createFabric, createNodeNamespace, plugIntoFabric } from "./netns.js";
import { startGanesha, startKeepalived, startRpcbind, vipHolder, writeNfsConfig } from "./nfs.js";
import { buildOvsTopology, startOvs } from "./ovs.js";
import { installPackages } from "./packages.js";
import { readRecord } from "./procs.js";
import { ensureClientKey, ensureUser, prepareSshd, startSshd } from "./sshd.js";
import { timer, writeState, type LabState } from "./state.js";
import { BR0_PREFIX, FULL_SIZE_PING_PAYLOAD, OVERLAY_MTU, accessPrefix, hypervisors, nfsNodes, nodes, services, swarmManager, swarmNodes, tenants, type LabNode } from "./topology.js";
import { defineAndStartVms, kvmUsable } from "./vms.js";
import { waitFor } from "./wait.js";
import { down } from "./down.js";
import { startTenantRouter } from "./dhcp.js";

type Log = (line: string) => void;
type Execs = Map<string, NodeExec>;
const execOf = (execs: Execs, node: LabNode) => {
  const e = execs.get(node.name);
  if (!e) throw new LabError(`${node.name}: node was not started`, { node: node.name });
  return e;
};

/** Builds the whole lab; on any failure the caller runs `down` (idempotent) to clean up. */
export async function up(l: Layout, log: Log): Promise<LabState> {
  if (process.getuid?.() !== 0) throw new LabError("the real lab needs root (network namespaces, daemons, mounts)");
  const state: LabState = { startedAt: new Date().toISOString(), finishedAt: null, hypervisor: kvmUsable() ? "kvm" : "tcg", timingsMs: {}, checks: {} };
  const step = timer(state, log);
  const t0 = Date.now();

  const installed = await step("packages", () => installPackages(log));
  state.checks.packages = installed.length ? `installed ${installed.join(" ")}` : "all present";
  await step("clean leftovers", () => down(l, () => undefined));
  const { publicKey, owner, imageTar } = await step("prepare", () => prepare(l));
  await writeState(l, state);

  await step("fabric", () => createFabric());
  const execs: Execs = new Map();
  await step("nodes (netns, holder, sshd, forwarders)", () =>
    Promise.all(nodes.map(async (node) => execs.set(node.name, await startNode(node, l, publicKey, owner)))),
  );
  await step("services (OVS+libvirt+VMs | dockerd+swarm | NFS+VRRP)", () =>
    Promise.all([
      step("hypervisors", () => Promise.all(hypervisors().map((n) => bringUpHypervisor(n, l, execOf(execs, n))))),
      step("swarm", () => bringUpSwarm(l, execs, imageTar)),
      step("storage", () => Promise.all(nfsNodes().map((n) => bringUpNfsNode(n, l, execOf(execs, n))))),
    ]),
  );
  await step("tenant router (DHCP on the tenant VLANs and br0, routes to the storage VIP and the swarm)", async () => {
    const router = hypervisors()[0]!;
    await startTenantRouter(router, l, await holderOf(l, router), execOf(execs, router), [...nfsNodes(), ...swarmNodes()].map((node) => ({ node, exec: execOf(execs, node) })));
  });
  await step("checks", () => runChecks(state, execs));
  await writeFile(l.fleetConfig, JSON.stringify(buildFleetConfig(l.clientKey), null, 2) + "\n");
  state.timingsMs.total = Date.now() - t0;
  state.finishedAt = new Date().toISOString();
  await writeState(l, state);
  return state;
}

async function prepare(l: Layout) {
  await rm(l.nodesDir, { recursive: true, force: true });
  await rm(l.instance, { recursive: true, force: true });
  for (const dir of [l.labDir, l.nodesDir, l.instance, l.pids, l.sockets]) await mkdir(dir, { recursive: true });
  for (const dir of HOST_MOUNT_POINTS) await mkdir(dir, { recursive: true });
  const publicKey = await ensureClientKey(l);
  const owner = await ensureUser();
  // The agents run as the SSH user: they write new instances' volumes (virt-builder on a
  // hypervisor) and the image repository (a storage server's import) into the export.
  await chown(l.instance, owner.uid, owner.gid);
  const imageTar = await buildImageTar(l);
  return { publicKey, owner, imageTar };
}

async function startNode(node: LabNode, l: Layout, publicKey: string, owner: { uid: number; gid: number }): Promise<NodeExec> {
  const n = l.node(node.name);
  await mkdir(n.logs, { recursive: true });
  await createNodeNamespace(node);
  if (node.role === "hypervisor") await plugIntoFabric(node, "eth1");
  await writeAgentConfig(node, l);
  if (node.role === "hypervisor") await writeLibvirtConfig(node, l);
  if (node.role === "nfs") await writeNfsConfig(node, l);
  await prepareSshd(node, l, publicKey, owner);
  const exec = await startHolder(node, l);
  const holder = (await readRecord(l.pids, `${node.name}.holder`))!.pid;
  await startSshd(node, l, holder);
  await startForwarders(node, l, holder);
  await waitForSsh(node);
  return exec;
}

const holderOf = async (l: Layout, node: LabNode) => (await readRecord(l.pids, `${node.name}.holder`))!.pid;

async function bringUpHypervisor(node: LabNode, l: Layout, exec: NodeExec): Promise<void> {
  const holder = await holderOf(l, node);
  // The node's /run is its own: `virsh console` (the agent's serial console) locks the guest's
  // pty in /var/lock (-> /run/lock), world-writable as on Debian.
  await exec("mkdir", ["-p", "-m", "1777", "/run/lock"]);
  // libvirtd's first answer waits for a QEMU capabilities probe: let it run while OVS is built.
  const libvirt = startLibvirtd(node, l, holder).then(() => waitForLibvirt(node, exec));
  const network = (async () => {
    await startOvs(node, l, holder, exec);
    await buildOvsTopology(node, exec);
    await buildLinuxBridge(node, exec);
  })();
  await Promise.all([libvirt, network]);
  await defineAndStartVms(node, l, exec);
}

async function bringUpSwarm(l: Layout, execs: Execs, imageTar: string): Promise<void> {
  await Promise.all(
    swarmNodes().map(async (n) => {
      await startDockerd(n, l, await holderOf(l, n), execOf(execs, n));
      await importImage(execOf(execs, n), imageTar);
    }),
  );
  const manager = swarmManager();
  const mgr = execOf(execs, manager);
  const { worker } = await initSwarm(manager, mgr);
  await Promise.all(swarmNodes().filter((n) => n !== manager).map((n) => joinSwarm(n, execOf(execs, n), manager, worker)));
  await waitFor("all swarm nodes Ready", async () => {
    const st = await swarmNodeStates(mgr);
    return st.length === swarmNodes().length && st.every((s) => s.status === "Ready");
  });
  for (const s of services) await createService(mgr, s);
  await waitFor("swarm services to converge", async () => {
    const r = await runningReplicas(mgr);
    return services.every((s) => r.get(s.name)?.running === s.replicas);
  }, { timeoutMs: 90_000 });
}

async function bringUpNfsNode(node: LabNode, l: Layout, exec: NodeExec): Promise<void> {
  const holder = await holderOf(l, node);
  await startRpcbind(node, l, holder, exec);
  await startGanesha(node, l, holder, exec);
  await startKeepalived(node, l, holder);
}

/** Proves the pieces talk to each other, not only that processes run. */
async function runChecks(state: LabState, execs: Execs): Promise<void> {
  const [kvm1, kvm2] = hypervisors();
  const e1 = execOf(execs, kvm1!);
  // Don't Fragment: a full-size packet passes only if the underlay carries it with the VXLAN header.
  const ping = (addr: string, payload = 56) => async () =>
    (await e1("ping", ["-c", "1", "-W", "1", "-M", "do", "-s", String(payload), addr], { check: false })).code === 0;
  const full = `${OVERLAY_MTU}-byte packets unfragmented`;
  for (const t of tenants) {
    const addr = `${accessPrefix(t.vlan)}.${kvm2!.octet}`;
    await waitFor(`${t.slug}'s VXLAN ${t.vni} (OVS) from kvm1 to ${addr}`, ping(addr), { timeoutMs: 15_000 });
    await waitFor(`${t.slug}'s VXLAN ${t.vni} (OVS) to carry ${full} to ${addr}`, ping(addr, FULL_SIZE_PING_PAYLOAD), { timeoutMs: 5_000 });
    state.checks[`ovs-vxlan-${t.vni}`] = `kvm1 acc${t.vlan} -> kvm2 ${addr} ok, ${full}`;
  }
  const br0Peer = `${BR0_PREFIX}.${kvm2!.octet}`;
  await waitFor(`br0's kernel VXLAN from kvm1 to ${br0Peer}`, ping(br0Peer), { timeoutMs: 15_000 });
  await waitFor(`br0's kernel VXLAN to carry ${full} to ${br0Peer}`, ping(br0Peer, FULL_SIZE_PING_PAYLOAD), { timeoutMs: 5_000 });
  state.checks["br0-vxlan"] = `kvm1 br0 -> kvm2 ${br0Peer} ok, ${full}`;
  const nfs = nfsNodes().map((node) => ({ node, exec: execOf(execs, node) }));
  const holder = await waitFor("the NFS VIP to be held", () => vipHolder(nfs), { timeoutMs: 20_000 });
  state.checks.vip = `held by ${holder}`;
  const mgr = execOf(execs, swarmManager());
  state.checks.swarm = (await swarmNodeStates(mgr)).map((s) => `${s.hostname}:${s.status}`).join(" ");
  const { stdout } = await docker(mgr, ["service", "ls", "--format", "{{.Name}}={{.Replicas}}"]);
  state.checks.services = stdout.trim().split("\n").join(" ");
}
