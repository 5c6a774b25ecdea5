import { describe, expect, it } from "vitest";
import { renderAgentConfig } from "../../src/agent.js";
import { serviceCreateArgs } from "../../src/docker.js";
import { VM_DIRTY_BYTES, bootDisk, renderDomainXml } from "../../src/domain-xml.js";
import { layout } from "../../src/layout.js";
import { nodeMounts } from "../../src/holder.js";
import { renderLibvirtdConf, renderQemuConf } from "../../src/libvirt.js";
import { renderKeepalivedConf } from "../../src/nfs.js";
import { ovsTopology } from "../../src/ovs.js";
import { renderSshdConfig } from "../../src/sshd.js";
import { nodeByName, services, vms } from "../../src/topology.js";

const l = layout("/lab", "/repo");

describe("sshd config", () => {
  const cfg = renderSshdConfig(nodeByName("kvm1"), "/lab/nodes/kvm1/ssh/key");
  it("listens on the node's address with key auth only, as the lab user, with SFTP for agent uploads", () => {
    expect(cfg).toContain("ListenAddress 10.77.0.11");
    expect(cfg).toContain("UsePAM no");
    expect(cfg).toContain("StrictModes no");
    expect(cfg).toContain("PasswordAuthentication no");
    expect(cfg).toContain("AllowUsers nimbus");
    expect(cfg).toContain("Subsystem sftp internal-sftp");
  });
});

describe("libvirt config", () => {
  it("listens on TCP for migration at the node's address with a per-node host UUID", () => {
    const a = renderLibvirtdConf(nodeByName("kvm1"));
    const b = renderLibvirtdConf(nodeByName("kvm2"));
    expect(a).toContain('listen_addr = "10.77.0.11"');
    expect(a).toContain("listen_tcp = 1");
    const uuid = (s: string) => /host_uuid = "([^"]+)"/.exec(s)?.[1];
    expect(uuid(a)).toMatch(/^[0-9a-f-]{36}$/);
    expect(uuid(a)).not.toBe(uuid(b));
  });
  it("runs QEMU without cgroups or a security driver and migrates over the node's address", () => {
    const q = renderQemuConf(nodeByName("kvm2"));
    expect(q).toContain("cgroup_controllers = [ ]");
    expect(q).toContain('security_driver = "none"');
    expect(q).toContain('migration_address = "10.77.0.12"');
  });
});

describe("domain XML", () => {
  const vm = vms.find((v) => v.name === "acme-web1")!;
  const xml = renderDomainXml(vm, { kvm: false });
  it("carries the Nimbus tenant/role metadata and an OVS port tagged with the tenant's VLAN", () => {
    expect(xml).toContain('<nimbus:instance xmlns:nimbus="https://nimbus.dev/xmlns/1" tenant="acme" role="web"/>');
    expect(xml).toContain("<virtualport type='openvswitch'/>");
    expect(xml).toContain("<tag id='10'/>");
    expect(xml).toContain("<source file='/instance/acme-web1.img'/>");
    expect(xml.startsWith("<domain type='qemu'>")).toBe(true);
    expect(renderDomainXml(vm, { kvm: true }).startsWith("<domain type='kvm'>")).toBe(true);
  });
  it("boots from a disk whose boot sector fills 16 MiB of the VM's RAM (so migrations copy real data) and halts", () => {
    const d = bootDisk();
    const u16 = (at: number) => d.readUInt16LE(at);
    const u32 = (at: number) => d.readUInt32LE(at);
    expect(d.length).toBe(1024 * 1024);
    expect([d[510], d[511]]).toEqual([0x55, 0xaa]);
    // lgdt [GDTR] and GDTR -> the GDT, as addresses of the sector loaded at 0x7c00.
    const gdtr = u16(14) - 0x7c00;
    expect(u16(gdtr)).toBe(23);
    expect(u32(gdtr + 2)).toBe(0x7c40);
    expect(d.readBigUInt64LE(0x40 + 8)).toBe(0x00cf9a000000ffffn);
    // The far jump lands on `mov ax,0x10` in 32-bit code.
    expect(u16(27) - 0x7c00).toBe(0x1f);
    expect([...d.subarray(0x1f, 0x23)]).toEqual([0x66, 0xb8, 0x10, 0x00]);
    // mov edi,1 MiB; mov ecx,N dwords; rep stosd; then hlt; jmp hlt.
    expect(u32(0x29)).toBe(0x100000);
    expect(u32(0x2e) * 4).toBe(VM_DIRTY_BYTES);
    expect([...d.subarray(0x37, 0x3c)]).toEqual([0xf3, 0xab, 0xf4, 0xeb, 0xfd]);
    for (const v of vms) expect(1 + VM_DIRTY_BYTES / 2 ** 20).toBeLessThan(v.memoryMiB);
  });
});

describe("OVS topology", () => {
  const cmds = ovsTopology(nodeByName("kvm1"));
  it("adds one VXLAN port per tenant, tagged with its VLAN, keyed with its VNI, towards kvm2", () => {
    const vx = cmds.filter((c) => c.includes("type=vxlan"));
    expect(vx).toHaveLength(3);
    expect(vx[0]).toEqual(expect.arrayContaining(["vx5001", "tag=10", "options:key=5001", "options:remote_ip=10.77.1.12", "options:local_ip=10.77.1.11"]));
  });
  it("uses the userspace datapath and has a trunk carrying the tenant VLANs", () => {
    expect(cmds.filter((c) => c[0] === "add-br").every((c) => c.includes("datapath_type=netdev"))).toBe(true);
    expect(cmds).toContainEqual(["add-port", "br-ovs", "trunk0", "trunks=10,20,30"]);
  });
});

describe("keepalived config", () => {
  it("makes nfs1 master with the higher priority and a check heavy enough to hand the VIP to nfs2", () => {
    const a = renderKeepalivedConf(nodeByName("nfs1"));
    const b = renderKeepalivedConf(nodeByName("nfs2"));
    const prio = (s: string) => Number(/priority (\d+)/.exec(s)?.[1]);
    const weight = Number(/weight (-\d+)/.exec(a)?.[1]);
    expect(a).toContain("state MASTER");
    expect(b).toContain("state BACKUP");
    expect(prio(a) + weight).toBeLessThan(prio(b));
    expect(a).toContain("10.77.0.30/24 dev eth0");
  });
});

describe("swarm services", () => {
  it("never resolves the image, avoids the routing mesh and labels the tenant", () => {
    const args = serviceCreateArgs(services.find((s) => s.name === "acme-web")!);
    expect(args).toEqual(expect.arrayContaining(["--no-resolve-image", "--endpoint-mode", "dnsrr", "nimbus.tenant=acme", "mode=host,target=8080,published=8080"]));
    expect(args.slice(args.indexOf("--stop-grace-period"), args.indexOf("--stop-grace-period") + 2)).toEqual(["--stop-grace-period", "2s"]);
    expect(serviceCreateArgs(services.find((s) => s.name === "initech-worker")!)).not.toContain("--publish");
  });
});

describe("agent on a node", () => {
  it("enables only the node's capabilities and lets hypervisors migrate without shared-storage detection", () => {
    expect(renderAgentConfig(nodeByName("kvm1"))).toMatchObject({ hostname: "kvm1", capabilities: ["virt", "net", "storage"], virt: { allowUnsafeMigration: true } });
    expect(renderAgentConfig(nodeByName("swarm2"))).toMatchObject({ capabilities: ["swarm", "net"] });
    // The agent logs in as a non-root user, whose virsh would otherwise open qemu:///session.
    expect(renderAgentConfig(nodeByName("kvm1"))).toMatchObject({ tools: { virsh: { args: ["-c", "qemu:///system"] } } });
    expect(renderAgentConfig(nodeByName("nfs1"))).toMatchObject({ storage: { vip: "10.77.0.30", exports: [{ path: "/instance" }] } });
  });
  it("leaves the /usr/sbin tools at their defaults, so the agent's own lookup must find them", () => {
    const tools = renderAgentConfig(nodeByName("nfs1")).tools as Record<string, unknown>;
    expect(Object.keys(tools).sort()).toEqual(["docker", "virsh"]);
  });
  it("sees its own /etc/nimbus and home, and hypervisors and NFS servers share /instance", () => {
    const targets = (name: string) => nodeMounts(nodeByName(name), l).map((m) => m.target);
    expect(targets("swarm1")).toEqual(["/usr/local/bin", "/home/nimbus", "/etc/nimbus"]);
    expect(targets("kvm1")).toEqual(expect.arrayContaining(["/etc/libvirt", "/run/libvirt", "/etc/openvswitch", "/instance"]));
    expect(targets("nfs2")).toEqual(expect.arrayContaining(["/etc/keepalived", "/etc/ganesha", "/instance"]));
    const src = (name: string) => nodeMounts(nodeByName(name), l).find((m) => m.target === "/instance")?.source;
    expect(src("kvm1")).toBe(src("nfs1"));
  });
});
