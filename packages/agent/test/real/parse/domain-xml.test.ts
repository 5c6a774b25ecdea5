import { describe, expect, it } from "vitest";
import { DomainNic } from "@nimbus/domain";
import { parseDomainXml } from "../../../src/real/parse/domain-xml.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

describe("virsh dumpxml", () => {
  it("reads a running KVM domain on a Linux bridge", () => {
    const d = parseDomainXml(sample("virsh-qemu-dumpxml-running-kvm.xml"));
    expect(d).toEqual({
      name: "pa-vm1",
      uuid: "60e025f5-28a4-48d2-89b6-08076bc1fa91",
      vcpus: 1,
      memoryMiB: 64,
      tenant: null,
      role: null,
      cpuModel: "qemu64",
      cpuFeatures: ["x2apic", "hypervisor", "lahf_lm"],
      disks: [{ target: "vda", path: "/srv/nfs/instance/pa-vm1.qcow2", pool: null }],
      nics: [{ mac: "52:54:00:aa:00:01", bridge: "br0", bridgeType: "linux", device: "vnet0", vlan: null, model: "virtio", ipAddresses: [] }],
    });
    for (const nic of d.nics) DomainNic.parse(nic);
  });
  it("reads an inactive domain (no host device yet)", () => {
    const d = parseDomainXml(sample("virsh-qemu-dumpxml-inactive-tcg.xml"));
    expect(d.nics[0]).toMatchObject({ device: null, bridge: "br0" });
  });
  it("reads a libvirt network NIC", () => {
    expect(parseDomainXml(sample("virsh-test-dumpxml.xml")).nics[0]).toMatchObject({ bridge: "default", device: "testnet0", model: null });
  });
  it("reads OVS ports, VLAN tags, tenant metadata and skips empty cdroms", () => {
    const d = parseDomainXml(sample("virsh-test-dumpxml-ovs-vlan-metadata.xml"));
    expect(d).toMatchObject({ tenant: "acme", role: "swarm-worker", memoryMiB: 512, vcpus: 2, cpuModel: "Haswell-noTSX", cpuFeatures: ["vmx"] });
    expect(d.disks).toEqual([{ target: "vda", path: "/instance/acme-web1.qcow2", pool: null }]);
    expect(d.nics).toEqual([
      { mac: "52:54:00:ac:00:01", bridge: "br-tenant", bridgeType: "ovs", device: "testnet0", vlan: 20, model: "virtio", ipAddresses: [] },
      { mac: "52:54:00:ac:00:02", bridge: "br0", bridgeType: "linux", device: "testnet1", vlan: null, model: "e1000", ipAddresses: [] },
    ]);
  });
  it("ignores metadata in another namespace and invalid tenant ids", () => {
    const other = sample("virsh-test-dumpxml-ovs-vlan-metadata.xml").replace("https://nimbus.dev/xmlns/1", "https://example.org/x");
    expect(parseDomainXml(other).tenant).toBeNull();
    const bad = sample("virsh-test-dumpxml-ovs-vlan-metadata.xml").replace('tenant="acme"', 'tenant="ACME Corp"');
    expect(parseDomainXml(bad).tenant).toBeNull();
  });
  it("reads the image an instance was built from (what images.delete checks) and drops one that is no image name", () => {
    const withImage = (image: string) => sample("virsh-test-dumpxml-ovs-vlan-metadata.xml").replace('role="swarm-worker"', `role="swarm-worker" image="${image}"`);
    expect(parseDomainXml(withImage("debian-12")).image).toBe("debian-12");
    expect(parseDomainXml(withImage("-rf")).image).toBeUndefined();
    expect(parseDomainXml(sample("virsh-test-dumpxml-ovs-vlan-metadata.xml")).image).toBeUndefined();
  });
  it("reads volume disks with their pool and a trunk vlan as untagged", () => {
    const x = sample("virsh-test-dumpxml-ovs-vlan-metadata.xml")
      .replace("<source file='/instance/acme-web1.qcow2'/>", "<source pool='instance' volume='acme-web1.qcow2'/>")
      .replace("<vlan>", "<vlan trunk='yes'><tag id='30'/>");
    const d = parseDomainXml(x);
    expect(d.disks[0]).toEqual({ target: "vda", path: "instance/acme-web1.qcow2", pool: "instance" });
    expect(d.nics[0]!.vlan).toBeNull();
  });
  it("rejects truncated XML", () =>
    expectUnparseable(() => parseDomainXml(sample("virsh-qemu-dumpxml-running-kvm.xml").slice(0, 300)), "virsh dumpxml", /invalid XML/));
  it("rejects a domain without a name", () =>
    expectUnparseable(() => parseDomainXml(sample("virsh-test-dumpxml.xml").replace("<name>test</name>", "")), "virsh dumpxml", /name/));
  it("rejects a NIC without a MAC", () =>
    expectUnparseable(() => parseDomainXml(sample("virsh-test-dumpxml.xml").replace("<mac address='aa:bb:cc:dd:ee:ff'/>", "")), "virsh dumpxml", /mac/));
  it("rejects garbage", () => expectUnparseable(() => parseDomainXml("error: failed to get domain 'x'"), "virsh dumpxml"));
});
