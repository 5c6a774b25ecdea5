import { DomainName } from "@nimbus/domain";
import type { World } from "./world.js";

/**
 * `virsh domrename`: a shut-off domain takes another name (libvirt refuses a running one), so the
 * lab can hold VMs whose names Nimbus would not give a new instance ("café-db", "web 2"). The
 * UUID stays; the name is checked by the rule for existing VMs (DomainName).
 */
export function renameDomain(world: World, from: string, to: string): void {
  const vm = world.vms.get(from);
  if (!vm) throw new Error(`no VM named ${JSON.stringify(from)}`);
  const ok = DomainName.safeParse(to);
  if (!ok.success) throw new Error(`libvirt refuses the name ${JSON.stringify(to)}: ${ok.error.issues[0]!.message}`);
  if (world.vms.has(to)) throw new Error(`a VM named ${JSON.stringify(to)} exists already`);
  if (vm.state !== "shutoff") throw new Error(`cannot rename ${from}: the domain must be shut off (virsh domrename)`);
  if (world.isLabHost(from)) throw new Error(`cannot rename ${from}: it is a lab host`);
  const hv = world.hypervisor(vm.host);
  world.vms.delete(from);
  hv.domains.delete(from);
  vm.spec = { ...vm.spec, name: to };
  world.vms.set(to, vm);
  hv.domains.set(to, vm);
  world.changed(vm.host, "virt");
}
