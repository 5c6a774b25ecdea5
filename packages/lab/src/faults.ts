import { powerOffHost, powerOnHost, startDomain, stopDomain } from "./world/power.js";
import { sendLbRequests, setPortsRefused } from "./world/haproxy.js";
import { renameDomain } from "./world/rename.js";
import { joinState } from "./world/swarm-nodes.js";
import { restoreSwarm, teardownSwarm } from "./world/swarm-lifecycle.js";
import type { World } from "./world/world.js";
import { failingServiceImages, heldServiceUpdates } from "./world/swarm-services.js";
import { blockedPorts, portKey } from "./world/swarm-ports.js";

function parsePortProto(s: string): [number, "tcp" | "udp"] {
  const m = /^(\d{1,5})\/(tcp|udp)$/.exec(s);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new LabFaultError(`${JSON.stringify(s)} is not PORT/tcp or PORT/udp`);
  return [Number(m[1]), m[2] as "tcp" | "udp"];
}
import { addImage, removeImage, stackState } from "./world/swarm-stacks.js";

/** A fault that cannot be applied as asked (unknown host, wrong kind, nothing to undo). */
export class LabFaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LabFaultError";
  }
}

/** Host keys live in the SSH layer; faults reach them through this. */
export interface HostKeyControl {
  rotate(host: string): Promise<void>;
  restore(host: string): Promise<void>;
}

export interface ActiveFault {
  fault: string;
  target: string;
  since: string;
}

/**
 * Named, reversible faults on a running lab. Each changes the world the way the real failure
 * would and lets the world's rules play out (VIP failover, task rescheduling, migrations
 * failing); `active()` lists what is currently broken, for `pnpm lab status`.
 */
export class LabFaults {
  private readonly activeFaults = new Map<string, ActiveFault>();
  private readonly originalMtus = new Map<string, number>();
  private readonly linkTimers = new Map<string, () => void>();

  constructor(
    private readonly world: World,
    private readonly hostKeys?: HostKeyControl,
  ) {}

  active(): ActiveFault[] {
    return [...this.activeFaults.values()];
  }

  /** The machine powers off: its endpoint refuses connections; a hypervisor's VMs stop with it. */
  stopHost(host: string): void {
    this.known(host);
    powerOffHost(this.world, host);
    this.set("stop-host", host);
  }

  startHost(host: string): void {
    this.known(host);
    try {
      powerOnHost(this.world, host);
    } catch (err) {
      throw new LabFaultError(err instanceof Error ? err.message : String(err));
    }
    this.clear("stop-host", host);
  }

  /** The management link goes: connections drop, new ones hang unanswered (until restoreLink or `forMs`). */
  cutLink(host: string, forMs?: number): void {
    const h = this.world.host(this.known(host));
    h.linkCut = true;
    this.linkTimers.get(host)?.();
    if (forMs !== undefined) this.linkTimers.set(host, this.world.clock.after(forMs, () => this.restoreLink(host)));
    this.set("cut-link", host);
    this.world.changed(host, "reachability");
  }

  restoreLink(host: string): void {
    const h = this.world.host(this.known(host));
    this.linkTimers.get(host)?.();
    this.linkTimers.delete(host);
    h.linkCut = false;
    this.clear("cut-link", host);
    this.world.changed(host, "reachability");
  }

  /** The host offers a new SSH host key (reinstalled): a pinned client must see "key changed". */
  async changeHostKey(host: string): Promise<void> {
    await this.keys().rotate(this.known(host));
    this.set("change-host-key", host);
  }

  async restoreHostKey(host: string): Promise<void> {
    await this.keys().restore(this.known(host));
    this.clear("change-host-key", host);
  }

  /** The primary NFS server's daemon dies; keepalived's check fails and the VIP moves to the backup. */
  failNfsPrimary(): void {
    const primary = this.primary();
    primary.nfsRunning = false;
    this.set("fail-nfs-primary", primary.name);
    this.world.changed(primary.name, "storage", "node");
  }

  restoreNfsPrimary(): void {
    const primary = this.primary();
    primary.nfsRunning = true;
    this.clear("fail-nfs-primary", primary.name);
    this.world.changed(primary.name, "storage", "node");
  }

  fillDatastore(path: string, percent: number): void {
    if (!(percent >= 0 && percent <= 100)) throw new LabFaultError(`percent must be 0-100, got ${percent}`);
    const ds = this.datastore(path);
    ds.usedBytes = Math.round((ds.totalBytes * percent) / 100);
    this.set("fill-datastore", path);
    this.storageChanged();
  }

  restoreDatastore(path: string): void {
    const ds = this.datastore(path);
    ds.usedBytes = ds.initialUsedBytes;
    this.clear("fill-datastore", path);
    this.storageChanged();
  }

  /** The datastore's export returns I/O errors (a failing disk array): copies to or from it fail. */
  breakDatastore(path: string): void {
    this.datastore(path).broken = true;
    this.set("break-datastore", path);
    this.storageChanged();
  }

  repairDatastore(path: string): void {
    this.datastore(path).broken = false;
    this.clear("break-datastore", path);
    this.storageChanged();
  }

  /** A hypervisor loses its NFS mount of a datastore: VMs on it cannot migrate there, disks cannot move there. */
  unmountDatastore(host: string, path: string): void {
    const hv = this.hypervisor(host);
    const i = hv.mounts.findIndex((m) => m.target === path || m.source.endsWith(`:${path}`));
    if (i < 0) throw new LabFaultError(`${host} does not mount ${path} (mounts: ${hv.mounts.map((m) => m.target).join(", ") || "none"})`);
    hv.mounts.splice(i, 1);
    this.set("unmount-datastore", `${host}${path}`);
    this.world.changed(host, "storage");
  }

  mountDatastore(host: string, path: string): void {
    const hv = this.hypervisor(host);
    const spec = hv.spec.mounts.find((m) => m.target === path || m.source.endsWith(`:${path}`));
    if (!spec) throw new LabFaultError(`${host} never mounted ${path}`);
    if (!hv.mounts.some((m) => m.target === spec.target)) hv.mounts.push({ ...spec });
    this.clear("unmount-datastore", `${host}${path}`);
    this.world.changed(host, "storage");
  }

  /** virt-builder fails on this image (a template whose checksum no longer matches): creates from it fail at "Build the volume". */
  failImageBuild(image: string): void {
    this.world.failingImageBuilds.add(image);
    this.set("fail-image-build", image);
  }

  restoreImageBuild(image: string): void {
    if (!this.world.failingImageBuilds.delete(image)) throw new LabFaultError(`image builds of ${image} are not failing`);
    this.clear("fail-image-build", image);
  }

  /** Imports of this image name fail their checksum (a download that arrived damaged); the catalog is left as it was. */
  failImageImport(image: string): void {
    this.world.failingImageImports.add(image);
    this.set("fail-image-import", image);
  }

  restoreImageImport(image: string): void {
    if (!this.world.failingImageImports.delete(image)) throw new LabFaultError(`imports of ${image} are not failing`);
    this.clear("fail-image-import", image);
  }

  /** Tasks of this image are rejected ("No such image"): a service update to it pauses (world/swarm-services.ts). */
  failServiceImage(image: string): void {
    failingServiceImages(this.world).add(image);
    this.set("fail-service-image", image);
  }

  restoreServiceImage(image: string): void {
    if (!failingServiceImages(this.world).delete(image)) throw new LabFaultError(`tasks of ${image} are not failing`);
    this.clear("fail-service-image", image);
  }

  /** Updates to this image hold after their first new task until cancelled or released (a test hook: world/swarm-services.ts). */
  holdServiceUpdate(image: string): void {
    heldServiceUpdates(this.world).add(image);
    this.set("hold-service-update", image);
  }

  releaseServiceUpdate(image: string): void {
    if (!heldServiceUpdates(this.world).delete(image)) throw new LabFaultError(`updates to ${image} are not held`);
    this.clear("hold-service-update", image);
  }

  /** A swarm port blocked on a node, e.g. "4789/udp" (world/swarm-ports.ts): the port checks report it. */
  blockPort(node: string, portProto: string): void {
    this.swarmNode(node);
    const [port, proto] = parsePortProto(portProto);
    blockedPorts(this.world).add(portKey(node, port, proto));
    this.set("block-port", `${node} ${port}/${proto}`);
  }

  unblockPort(node: string, portProto: string): void {
    const [port, proto] = parsePortProto(portProto);
    if (!blockedPorts(this.world).delete(portKey(node, port, proto))) throw new LabFaultError(`${port}/${proto} is not blocked on ${node}`);
    this.clear("block-port", `${node} ${port}/${proto}`);
  }

  /** docker refuses the next deploys of this stack (the operation fails at its deploy step). */
  failStackDeploy(stack: string): void {
    if (!this.world.swarm) throw new LabFaultError("this lab has no swarm");
    stackState(this.world.swarm).failingDeploys.add(stack);
    this.set("fail-stack-deploy", stack);
  }

  /** An image disappears from a swarm node (docker image rm): tasks placed there are rejected with "No such image". */
  removeNodeImage(node: string, image: string): void {
    const sw = this.world.swarm;
    if (!sw?.nodes.has(node)) throw new LabFaultError(`${node} is not a swarm node of this lab`);
    if (!removeImage(sw, node, image)) throw new LabFaultError(`${node} has no image ${image}`);
    this.set("remove-node-image", `${node} ${image}`);
    this.world.changed(node, "swarm");
  }

  restoreNodeImage(node: string, image: string): void {
    const sw = this.world.swarm;
    if (!sw?.nodes.has(node)) throw new LabFaultError(`${node} is not a swarm node of this lab`);
    addImage(sw, node, image);
    this.clear("remove-node-image", `${node} ${image}`);
    this.world.changed(node, "swarm");
  }

  restoreStackDeploy(stack: string): void {
    if (!this.world.swarm || !stackState(this.world.swarm).failingDeploys.delete(stack)) throw new LabFaultError(`deploys of ${stack} are not failing`);
    this.clear("fail-stack-deploy", stack);
  }

  /** libvirtd stops; running VMs go on (QEMU processes live), but nothing can be migrated to or from it. */
  stopLibvirtd(host: string): void {
    this.hypervisor(host).libvirtdUp = false;
    this.set("stop-libvirtd", host);
  }

  startLibvirtd(host: string): void {
    this.hypervisor(host).libvirtdUp = true;
    this.clear("stop-libvirtd", host);
  }

  /** dockerd on a swarm node stops: the manager marks it down and moves its tasks after a delay. */
  swarmNodeDown(node: string): void {
    this.swarmNode(node).engineUp = false;
    this.set("swarm-node-down", node);
    this.world.changed(node, "swarm");
  }

  swarmNodeUp(node: string): void {
    this.swarmNode(node).engineUp = true;
    this.clear("swarm-node-down", node);
    this.world.changed(node, "swarm");
  }

  /** A VM that joins the swarm (add-worker) never becomes Ready: its engine sends no heartbeat. "all" holds every join. */
  stuckSwarmJoin(vm: string): void {
    joinState(this.world).stuck.add(vm);
    this.set("stuck-swarm-join", vm);
  }

  /** The swarm taken apart: every node leaves, its VMs are deleted (their hosts go unreachable); "Create swarm" can build one again (world/swarm-lifecycle.ts). */
  swarmTeardown(): void {
    try {
      teardownSwarm(this.world);
    } catch (err) {
      throw new LabFaultError(err instanceof Error ? err.message : String(err));
    }
    this.set("swarm-teardown", "swarm");
  }

  /** The original swarm and its VMs back; a swarm built meanwhile and VMs under their names go. */
  swarmRestore(): void {
    try {
      restoreSwarm(this.world);
    } catch (err) {
      throw new LabFaultError(err instanceof Error ? err.message : String(err));
    }
    this.clear("swarm-teardown", "swarm");
  }

  /** Nodes with no room for another task ("all": every node there is now; workers added later have room). */
  fillSwarmNodes(node: string): void {
    const names = node === "all" ? [...(this.world.swarm?.nodes.keys() ?? [])] : [this.swarmNode(node).hostname];
    for (const n of names) joinState(this.world).full.add(n);
    this.set("swarm-nodes-full", node);
  }

  roomOnSwarmNodes(node: string): void {
    if (node === "all") joinState(this.world).full.clear();
    else joinState(this.world).full.delete(node);
    this.clear("swarm-nodes-full", node);
  }

  unstickSwarmJoin(vm: string): void {
    joinState(this.world).stuck.delete(vm);
    this.clear("stuck-swarm-join", vm);
  }

  /** Removes the OVS VXLAN port(s) of a tenant VNI on one hypervisor (the other side keeps its own). */
  breakTunnel(host: string, vni: number): void {
    const hv = this.hypervisor(host);
    this.tenantVni(vni);
    hv.brokenVnis.add(vni);
    this.set("break-tunnel", `${host}/${vni}`);
    this.world.changed(host, "net");
  }

  repairTunnel(host: string, vni: number): void {
    const hv = this.hypervisor(host);
    this.tenantVni(vni);
    hv.brokenVnis.delete(vni);
    this.clear("break-tunnel", `${host}/${vni}`);
    this.world.changed(host, "net");
  }

  /** The hypervisor's OVS trunk stops carrying a VLAN: migrations of that VLAN's VMs to it fail. */
  removeVlan(host: string, vlan: number): void {
    const hv = this.hypervisor(host);
    if (!hv.trunkVlans.has(vlan)) throw new LabFaultError(`${host}'s trunk does not carry VLAN ${vlan}`);
    // OVS reads an empty trunks list as "all VLANs", so the last one cannot go this way.
    if (hv.trunkVlans.size === 1) throw new LabFaultError(`VLAN ${vlan} is the last one on ${host}'s trunk; an empty trunk list would carry every VLAN`);
    hv.trunkVlans.delete(vlan);
    this.set("remove-vlan", `${host}/${vlan}`);
    this.world.changed(host, "net");
  }

  restoreVlan(host: string, vlan: number): void {
    const hv = this.hypervisor(host);
    if (!hv.spec.network.ovsBridge.vlans.includes(vlan)) throw new LabFaultError(`VLAN ${vlan} was never on ${host}'s trunk`);
    hv.trunkVlans.add(vlan);
    this.clear("remove-vlan", `${host}/${vlan}`);
    this.world.changed(host, "net");
  }

  setMtu(host: string, iface: string, mtu: number): void {
    const hv = this.hypervisor(host);
    const current = hv.mtus.get(iface);
    if (current === undefined) throw new LabFaultError(`${host} has no interface ${iface} (has ${[...hv.mtus.keys()].join(", ")})`);
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65_535) throw new LabFaultError(`MTU must be 68-65535, got ${mtu}`);
    const key = `${host}/${iface}`;
    if (!this.originalMtus.has(key)) this.originalMtus.set(key, current);
    hv.mtus.set(iface, mtu);
    if (mtu === this.originalMtus.get(key)) this.clear("set-mtu", key);
    else this.set("set-mtu", key);
    this.world.changed(host, "net");
  }

  restoreMtu(host: string, iface: string): void {
    const original = this.originalMtus.get(`${host}/${iface}`);
    if (original === undefined) throw new LabFaultError(`the MTU of ${iface} on ${host} was not changed`);
    this.setMtu(host, iface, original);
  }

  /** Every health probe of a service's tasks fails: tasks turn unhealthy after `fall` probes and are replaced. */
  failServiceHealth(service: string): void {
    this.service(service).healthFault = true;
    this.set("fail-service-health", service);
  }

  restoreServiceHealth(service: string): void {
    this.service(service).healthFault = false;
    this.clear("fail-service-health", service);
  }

  /** A node's published ports refuse connections (its routing mesh broke): load balancers and active checks see it DOWN. */
  backendDown(host: string): void {
    this.known(host);
    setPortsRefused(this.world, host, true);
    this.set("lb-backend-down", host);
  }

  backendUp(host: string): void {
    this.known(host);
    setPortsRefused(this.world, host, false);
    this.clear("lb-backend-down", host);
  }

  /** Not a fault: a shut-off VM takes another name (virsh domrename), e.g. one with non-ASCII letters. */
  renameVm(from: string, to: string): void {
    try {
      renameDomain(this.world, from, to);
    } catch (err) {
      throw new LabFaultError(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Not a fault: a VM's power changes on its host outside the console (someone ran virsh there,
   * the guest powered itself off), at once and with no agent job: a change timed from the host.
   */
  powerVm(name: string, power: "on" | "off"): void {
    const vm = this.world.vms.get(name);
    if (!vm) throw new LabFaultError(`no VM named ${JSON.stringify(name)}`);
    if (vm.migrating) throw new LabFaultError(`${name} is being migrated`);
    if (!this.world.host(vm.host).powered) throw new LabFaultError(`${name}'s host ${vm.host} is powered off`);
    const active = vm.state === "running" || vm.state === "paused";
    if (power === "on" && vm.state === "shutoff") startDomain(this.world, vm);
    else if (power === "off" && active) stopDomain(this.world, vm);
    else throw new LabFaultError(`${name} is ${vm.state} already`);
  }

  /** Not a fault: `count` requests go through a load balancer (round robin over its servers UP), so its shares move. */
  lbRequests(host: string, name: string, count: number): void {
    this.known(host);
    try {
      sendLbRequests(this.world, host, name, count);
    } catch (err) {
      throw new LabFaultError(err instanceof Error ? err.message : String(err));
    }
  }

  private set(fault: string, target: string) {
    const key = `${fault}:${target}`;
    if (!this.activeFaults.has(key)) this.activeFaults.set(key, { fault, target, since: new Date().toISOString() });
  }

  private clear(fault: string, target: string) {
    this.activeFaults.delete(`${fault}:${target}`);
  }

  private known(host: string): string {
    if (!this.world.hosts.has(host)) throw new LabFaultError(`${host} is not a host of this lab (hosts: ${this.sample(this.world.hostNames())})`);
    return host;
  }

  private hypervisor(host: string) {
    const hv = this.world.hypervisors.get(host);
    if (!hv) throw new LabFaultError(`${host} is not a hypervisor of this lab (hypervisors: ${this.sample([...this.world.hypervisors.keys()])})`);
    return hv;
  }

  private swarmNode(node: string) {
    const n = this.world.swarm?.nodes.get(node);
    if (!n) throw new LabFaultError(`${node} is not a swarm node of this lab`);
    return n;
  }

  private service(name: string) {
    const s = this.world.swarm?.services.get(name);
    if (!s) throw new LabFaultError(`${name} is not a swarm service of this lab`);
    return s;
  }

  private tenantVni(vni: number) {
    if (!this.world.tenants.some((t) => t.vni === vni)) throw new LabFaultError(`VNI ${vni} belongs to no tenant (VNIs: ${this.world.tenants.map((t) => t.vni).join(", ")})`);
  }

  private primary() {
    return [...this.world.nfs.servers].sort((a, b) => b.priority - a.priority)[0]!;
  }

  private datastore(path: string) {
    const ds = this.world.nfs.datastores.find((d) => d.path === path);
    if (!ds) throw new LabFaultError(`no datastore ${path} (datastores: ${this.world.nfs.datastores.map((d) => d.path).join(", ")})`);
    return ds;
  }

  private storageChanged() {
    for (const s of this.world.nfs.servers) this.world.changed(s.name, "storage");
  }

  private keys(): HostKeyControl {
    if (!this.hostKeys) throw new LabFaultError("this world runs without SSH endpoints, so it has no host keys to change");
    return this.hostKeys;
  }

  private sample(names: string[]): string {
    return names.length > 8 ? `${names.slice(0, 8).join(", ")}, ...` : names.join(", ");
  }
}
