import { AgentError, conflict, notFound } from "@nimbus/agent";
import { AgentErrorCode } from "@nimbus/domain";
import type { VmState } from "./model.js";
import { TIMINGS } from "./timings.js";
import type { World } from "./world.js";

export type PowerAction = "start" | "shutdown" | "reboot" | "destroy";

/**
 * `virsh start|shutdown|reboot|destroy` on a hypervisor. Like virsh, start returns once the
 * domain runs, shutdown and reboot return at once and the guest follows in its own time.
 */
export async function powerDomain(world: World, hostName: string, domain: string, action: PowerAction): Promise<void> {
  const hv = world.hypervisor(hostName);
  requireLibvirtd(world, hostName);
  const vm = hv.domains.get(domain);
  if (!vm) throw notFound(`domain ${domain} on ${hostName}`);
  if (vm.migrating) throw conflict(`${domain} is being migrated; power actions wait until the migration ends`);
  if (vm.diskJob && action === "start") throw conflict(`cannot start ${domain} on ${hostName}: its disk is being copied to another datastore`);
  const active = vm.state === "running" || vm.state === "paused";
  switch (action) {
    case "start":
      if (active) throw conflict(`cannot start ${domain} on ${hostName}: domain is already running`);
      await world.clock.sleep(TIMINGS.domainStartMs);
      if (!world.host(hostName).powered || vm.state !== "shutoff" || vm.host !== hostName) throw conflict(`${domain} changed state while starting`);
      startDomain(world, vm);
      return;
    case "shutdown":
      if (vm.state !== "running") throw conflict(`cannot shut down ${domain} on ${hostName}: domain is not running`);
      setGuestReady(world, vm, false);
      vm.pending?.();
      vm.pending = world.clock.after(TIMINGS.guestShutdownMs, () => stopDomain(world, vm));
      return;
    case "reboot":
      if (vm.state !== "running") throw conflict(`cannot reboot ${domain} on ${hostName}: domain is not running`);
      vm.pending?.();
      setGuestReady(world, vm, false);
      vm.pending = world.clock.after(TIMINGS.guestBootMs, () => guestBooted(world, vm));
      return;
    case "destroy":
      if (!active) throw conflict(`cannot destroy ${domain} on ${hostName}: domain is not running`);
      stopDomain(world, vm);
      return;
  }
}

export function requireLibvirtd(world: World, hostName: string): void {
  if (!world.hypervisor(hostName).libvirtdUp)
    throw new AgentError(AgentErrorCode.toolFailed, `failed to connect to the hypervisor on ${hostName}: libvirtd is not running (qemu:///system)`);
}

/** The domain runs now: taps plugged, the guest boots and answers after guestBootMs. */
export function startDomain(world: World, vm: VmState): void {
  const hv = world.hypervisor(vm.host);
  vm.pending?.();
  vm.state = "running";
  world.plugNics(vm, hv);
  vm.guestReady = false;
  vm.pending = world.clock.after(TIMINGS.guestBootMs, () => guestBooted(world, vm));
  world.changed(vm.host, "virt", "net", "node");
}

/** The domain is off (guest powered off, destroyed, or its hypervisor died). */
export function stopDomain(world: World, vm: VmState): void {
  vm.pending?.();
  vm.pending = null;
  vm.state = "shutoff";
  world.unplugNics(vm);
  setGuestReady(world, vm, false);
  world.changed(vm.host, "virt", "net", "node");
}

function guestBooted(world: World, vm: VmState): void {
  vm.pending = null;
  if (vm.state !== "running") return;
  if (world.isLabHost(vm.spec.name)) world.rebooted(vm.spec.name);
  setGuestReady(world, vm, true);
}

function setGuestReady(world: World, vm: VmState, ready: boolean): void {
  if (vm.guestReady === ready) return;
  vm.guestReady = ready;
  if (world.isLabHost(vm.spec.name)) world.changed(vm.spec.name, "reachability", "node");
}

/** A machine loses power: a hypervisor's domains die with it, a swarm VM is destroyed. */
export function powerOffHost(world: World, name: string): void {
  const h = world.host(name);
  if (h.kind === "swarm-vm") {
    const vm = world.vms.get(name);
    if (vm && (vm.state === "running" || vm.state === "paused")) stopDomain(world, vm);
    return;
  }
  if (!h.powered) return;
  h.powered = false;
  if (h.kind === "hypervisor") {
    for (const vm of world.hypervisor(name).domains.values()) if (vm.state !== "shutoff") stopDomain(world, vm);
  }
  world.changed(name, "reachability");
}

/** Power back on: a new boot (new agent, no jobs); a hypervisor then starts its autostart domains. */
export function powerOnHost(world: World, name: string): void {
  const h = world.host(name);
  if (h.kind === "swarm-vm") {
    const vm = world.vms.get(name);
    if (!vm) throw new Error(`cannot start ${name}: there is no VM of that name (build it again)`);
    if (!world.host(vm.host).powered) throw new Error(`cannot start ${name}: its hypervisor ${vm.host} is down`);
    if (vm.state === "shutoff") startDomain(world, vm);
    return;
  }
  if (h.powered) return;
  h.powered = true;
  world.rebooted(name);
  if (h.kind === "hypervisor") {
    const hv = world.hypervisor(name);
    hv.libvirtdUp = true;
    world.clock.after(TIMINGS.hostBootMs, () => {
      if (!h.powered) return;
      for (const vm of hv.domains.values()) if (vm.spec.autostart && vm.state === "shutoff" && !vm.migrating) startDomain(world, vm);
    });
  }
  world.changed(name, "reachability", "node");
}
