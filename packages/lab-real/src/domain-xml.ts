import { EXPORT_PATH, tenantBySlug, vmMac, type LabVm } from "./topology.js";

/**
 * A lab VM's libvirt definition. Small on purpose: TCG (or KVM when /dev/kvm works), 64 MiB,
 * one disk on the shared /instance path, one NIC on an OVS access port tagged with the
 * tenant's VLAN. Tenant and role use the Nimbus metadata convention the agent parses.
 */
export const NIMBUS_XMLNS = "https://nimbus.dev/xmlns/1";

export const vmDiskPath = (vm: LabVm) => `${EXPORT_PATH}/${vm.name}.img`;

export function renderDomainXml(vm: LabVm, opts: { kvm: boolean }): string {
  const vlan = tenantBySlug(vm.tenant).vlan;
  return `<domain type='${opts.kvm ? "kvm" : "qemu"}'>
  <name>${vm.name}</name>
  <metadata>
    <nimbus:instance xmlns:nimbus="${NIMBUS_XMLNS}" tenant="${vm.tenant}" role="${vm.role}"/>
  </metadata>
  <memory unit='MiB'>${vm.memoryMiB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='${vmDiskPath(vm)}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='bridge'>
      <source bridge='br-ovs'/>
      <virtualport type='openvswitch'/>
      <vlan><tag id='${vlan}'/></vlan>
      <mac address='${vmMac(vm)}'/>
      <model type='virtio'/>
      <rom bar='off'/>
    </interface>
    <serial type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}

/**
 * A 1 MiB disk whose boot sector halts the CPU in a loop (sti; hlt; jmp hlt), so a VM under
 * TCG boots in milliseconds and then costs nothing, yet runs and migrates like any guest.
 */
export function bootDisk(sizeBytes = 1024 * 1024): Buffer {
  const disk = Buffer.alloc(sizeBytes);
  disk.set([0xfb, 0xf4, 0xeb, 0xfd], 0);
  disk.set([0x55, 0xaa], 510);
  return disk;
}
