import { closeSync, openSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeExec } from "./exec.js";
import type { Layout } from "./layout.js";
import { virsh } from "./libvirt.js";
import { bootDisk, renderDomainXml } from "./domain-xml.js";
import { vms, type LabNode } from "./topology.js";

/** KVM only when the device is there and opens; this machine kind has none, so TCG. */
export function kvmUsable(): boolean {
  try {
    closeSync(openSync("/dev/kvm", "r+"));
    return true;
  } catch {
    return false;
  }
}

export async function defineAndStartVms(node: LabNode, l: Layout, exec: NodeExec): Promise<string[]> {
  const mine = vms.filter((v) => v.host === node.name);
  const kvm = kvmUsable();
  for (const vm of mine) {
    await writeFile(join(l.instance, `${vm.name}.img`), bootDisk());
    const xmlPath = join(l.node(node.name).dir, `${vm.name}.xml`);
    await writeFile(xmlPath, renderDomainXml(vm, { kvm }));
    await virsh(exec, ["define", xmlPath]);
    await virsh(exec, ["start", vm.name]);
  }
  return mine.map((v) => v.name);
}
