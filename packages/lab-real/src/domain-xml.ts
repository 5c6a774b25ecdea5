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
 * The boot sector of every lab VM (i386, loaded at 0x7c00). It fills 16 MiB of RAM from 1 MiB
 * with a non-zero pattern, then halts for good: the VM costs no CPU under TCG, yet it has
 * memory a migration must really copy. (With all-zero RAM QEMU sends each page as a flag, so a
 * 64 MiB VM migrated in ~2 s even at --bandwidth 1 and a cancel raced the migration's end.)
 * At 1 MiB/s the 16 MiB take ~16 s to copy; unlimited, well under a second.
 * Assembled with GNU as (`as --32`, `objcopy -O binary`); the source is the listing below.
 */
// prettier-ignore
const BOOT_CODE = [
  0xfa,                               // cli
  0x31, 0xc0, 0x8e, 0xd8,             // xor ax,ax; mov ds,ax
  0xe4, 0x92, 0x0c, 0x02, 0xe6, 0x92, // in al,0x92; or al,2; out 0x92,al  (fast A20: RAM above 1 MiB)
  0x0f, 0x01, 0x16, 0x58, 0x7c,       // lgdt [0x7c58]
  0x0f, 0x20, 0xc0,                   // mov eax,cr0
  0x66, 0x83, 0xc8, 0x01,             // or eax,1  (protected mode)
  0x0f, 0x22, 0xc0,                   // mov cr0,eax
  0xea, 0x1f, 0x7c, 0x08, 0x00,       // jmp 0x08:0x7c1f  (32-bit code from here)
  0x66, 0xb8, 0x10, 0x00,             // mov ax,0x10
  0x8e, 0xd8, 0x8e, 0xc0,             // mov ds,ax; mov es,ax
  0xfc,                               // cld
  0xbf, 0x00, 0x00, 0x10, 0x00,       // mov edi,0x100000
  0xb9, 0x00, 0x00, 0x40, 0x00,       // mov ecx,0x400000  (dwords: 16 MiB)
  0xb8, 0x3c, 0xc3, 0xa5, 0x5a,       // mov eax,0x5aa5c33c
  0xf3, 0xab,                         // rep stosd
  0xf4, 0xeb, 0xfd,                   // halt: hlt; jmp halt
  0x8d, 0x74, 0x26, 0x00,             // (padding to 0x40)
  0, 0, 0, 0, 0, 0, 0, 0,                         // GDT at 0x7c40: null
  0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00, // 0x08: code, flat 4 GiB, 32-bit
  0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, // 0x10: data, flat 4 GiB
  0x17, 0x00, 0x40, 0x7c, 0x00, 0x00,             // GDTR at 0x7c58: limit 23, base 0x7c40
];

/** Bytes of RAM the boot code fills with the pattern (mov ecx above, in dwords). */
export const VM_DIRTY_BYTES = 16 * 1024 * 1024;

/** A 1 MiB disk that boots BOOT_CODE. */
export function bootDisk(sizeBytes = 1024 * 1024): Buffer {
  const disk = Buffer.alloc(sizeBytes);
  disk.set(BOOT_CODE, 0);
  disk.set([0x55, 0xaa], 510);
  return disk;
}
