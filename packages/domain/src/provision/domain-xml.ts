import type { CreateInstanceParams } from "./params.js";
import { el, type Markup } from "./xml.js";

/**
 * The libvirt domain of a new instance, defined with `virsh define` (see virshDefineArgs) rather
 * than virt-install: virt-install's --network has no VLAN sub-option (only virtualport.*; checked
 * against virt-manager 5's ParserNetwork) and its --metadata takes name, uuid, title and
 * description only, not the namespaced element the agent reads tenants from. One XML is also one
 * step to undo: undefine.
 */

/** The namespace of Nimbus's metadata element; the agent's domain XML parser reads tenant and role from it. */
export const NIMBUS_XMLNS = "https://nimbus.dev/xmlns/1";

export interface DomainXmlOptions {
  /** `qemu` is software emulation (TCG): the lab and nested hosts, where KVM cannot run a stock guest kernel. */
  virtType: "kvm" | "qemu";
  /** Free-form role label, e.g. "swarm-worker". */
  role?: string | null;
  /** A fixed MAC (52:54:00:…); libvirt picks one when absent. */
  mac?: string | null;
}

type Spec = Pick<CreateInstanceParams, "name" | "tenant" | "image" | "volumePath" | "vcpus" | "memoryMiB" | "nic">;

export function buildDomainXml(spec: Spec, options: DomainXmlOptions): string {
  return el("domain", { type: options.virtType }, [
    el("name", {}, [spec.name]),
    el("metadata", {}, [
      el("nimbus:instance", { "xmlns:nimbus": NIMBUS_XMLNS, tenant: spec.tenant, role: options.role ?? null, image: spec.image.name }),
    ]),
    el("memory", { unit: "MiB" }, [spec.memoryMiB]),
    el("currentMemory", { unit: "MiB" }, [spec.memoryMiB]),
    el("vcpu", { placement: "static" }, [spec.vcpus]),
    el("os", {}, [el("type", { arch: "x86_64", machine: "pc" }, ["hvm"]), el("boot", { dev: "hd" })]),
    el("features", {}, [el("acpi"), el("apic")]),
    el("clock", { offset: "utc" }),
    el("on_poweroff", {}, ["destroy"]),
    el("on_reboot", {}, ["restart"]),
    el("on_crash", {}, ["destroy"]),
    el("devices", {}, [
      // cache='none': the volume is on shared storage, and libvirt refuses to live-migrate a cached disk.
      el("disk", { type: "file", device: "disk" }, [
        el("driver", { name: "qemu", type: "qcow2", cache: "none", discard: "unmap" }),
        el("source", { file: spec.volumePath }),
        el("target", { dev: "vda", bus: "virtio" }),
      ]),
      nic(spec.nic, options.mac ?? null),
      el("serial", { type: "pty" }, [el("target", { port: 0 })]),
      el("console", { type: "pty" }, [el("target", { type: "serial", port: 0 })]),
      el("channel", { type: "unix" }, [el("target", { type: "virtio", name: "org.qemu.guest_agent.0" })]),
      el("rng", { model: "virtio" }, [el("backend", { model: "random" }, ["/dev/urandom"])]),
      el("memballoon", { model: "virtio" }),
    ]),
  ]).xml;
}

/**
 * Open vSwitch: libvirt plugs the tap into the bridge and tags it. A Linux bridge: libvirt
 * before 11 has no VLAN for it, so the XML stays untagged and the agent tags the tap after start
 * (the create's port-vlan wiring).
 */
function nic(n: Spec["nic"], mac: string | null): Markup {
  const ovs = n.bridgeType === "ovs";
  return el("interface", { type: "bridge" }, [
    ...(mac ? [el("mac", { address: mac })] : []),
    el("source", { bridge: n.bridge }),
    ...(ovs ? [el("virtualport", { type: "openvswitch" }), el("vlan", {}, [el("tag", { id: n.vlan })])] : []),
    el("model", { type: "virtio" }),
  ]);
}
