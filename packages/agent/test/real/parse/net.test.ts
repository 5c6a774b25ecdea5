import { describe, expect, it } from "vitest";
import { NetSection } from "@nimbus/domain";
import { parseBridgeVlans, parseIpAddr, parseIpLink, parseVxlanFloodRemotes } from "../../../src/real/parse/ip.js";
import { parseOvsBridges, parseOvsInterfaces, parseOvsPorts } from "../../../src/real/parse/ovs.js";
import { buildNetSection, type NetInputs } from "../../../src/real/parse/net.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

describe("ip -j -d link show", () => {
  const links = parseIpLink(sample("iproute2-ip-j-d-link-show.json"));
  it("reads kinds, masters, MTUs and state", () => {
    expect(links.map((l) => [l.name, l.kind, l.master, l.mtu, l.up])).toEqual([
      // 65536 is outside the schema's MTU range (65535): reported as unknown.
      ["lo", "loopback", null, null, true],
      ["vxlan100", "vxlan", "br0", 1450, true],
      ["br0", "bridge", null, 1450, true],
      ["vnet0", "tap", "br0", 1500, false],
      ["vnet2", "tap", "br0", 1450, true],
      ["vnet3", "tap", "br0", 1450, true],
      ["eth0", "veth", null, 1500, true],
    ]);
  });
  it("reads the VXLAN id, endpoints and port", () => {
    expect(links.find((l) => l.name === "vxlan100")!.vxlan).toEqual({ id: 100, local: "10.99.0.1", remote: "10.99.0.2", port: 4789 });
  });
  it("reads pretty-printed output the same way", () => {
    expect(parseIpLink(sample("iproute2-ip-j-p-d-link-show.pretty.json"))).toEqual(links);
  });
  it("rejects truncated JSON", () => expectUnparseable(() => parseIpLink(sample("iproute2-ip-j-d-link-show.json").slice(0, 500)), "ip link", /not JSON/));
  it("rejects a link without a name", () => expectUnparseable(() => parseIpLink('[{"flags":[]}]'), "ip link", /ifname/));
  it("rejects text output", () => expectUnparseable(() => parseIpLink(sample("iproute2-ip-d-link-show.txt")), "ip link"));
});

describe("ip -j addr show", () => {
  it("reads addresses and leaves out link-local IPv6", () => {
    const addrs = parseIpAddr(sample("iproute2-ip-j-addr-show.json"));
    expect(addrs.get("br0")).toEqual(["192.168.100.1/24"]);
    expect(addrs.get("lo")).toEqual(["127.0.0.1/8", "::1/128"]);
    expect(addrs.get("vxlan100")).toEqual([]);
  });
  it("rejects an address without a prefix length", () =>
    expectUnparseable(() => parseIpAddr('[{"ifname":"br0","addr_info":[{"family":"inet","local":"10.0.0.1"}]}]'), "ip addr", /prefixlen/));
});

describe("bridge -j vlan show / fdb", () => {
  it("reads an empty VLAN table (no VLAN filtering)", () => expect(parseBridgeVlans(sample("bridge-j-vlan-show.json")).size).toBe(0));
  it("reads access and tagged VLANs", () => {
    const v = parseBridgeVlans('[{"ifname":"eth0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},{"vlan":10,"vlanEnd":12}]},{"ifname":"vnet0","vlans":[{"vlan":20,"flags":["PVID","Egress Untagged"]}]}]');
    expect(v.get("eth0")).toEqual({ pvid: 1, tagged: [10, 11, 12] });
    expect(v.get("vnet0")).toEqual({ pvid: 20, tagged: [] });
  });
  it("rejects garbage", () => expectUnparseable(() => parseBridgeVlans("port vlan-id"), "bridge vlan"));
  it("reads VXLAN flood remotes from the fdb", () => {
    expect(parseVxlanFloodRemotes(sample("bridge-j-fdb.json"))).toEqual(new Map([["vxlan100", ["10.99.0.2"]]]));
  });
  it("reads `fdb show dev X`, whose entries carry no ifname", () => {
    expect(parseVxlanFloodRemotes('[{"mac":"00:00:00:00:00:00","dst":"10.0.0.3","flags":["self"],"state":"permanent"}]', "vxlan300")).toEqual(
      new Map([["vxlan300", ["10.0.0.3"]]]),
    );
  });
  it("rejects an fdb entry without a MAC", () => expectUnparseable(() => parseVxlanFloodRemotes('[{"ifname":"x"}]'), "bridge fdb", /mac/));
});

describe("ovs-vsctl --format=json list", () => {
  const bridges = parseOvsBridges(sample("ovs-vsctl-format-json-list-Bridge.json"));
  const ports = parseOvsPorts(sample("ovs-vsctl-format-json-list-Port.json"));
  const interfaces = parseOvsInterfaces(sample("ovs-vsctl-format-json-list-Interface.json"));
  it("reads bridges with their port uuids", () => {
    expect(bridges.map((b) => [b.name, b.ports.length, b.datapathType])).toEqual([["br-pa", 6, "netdev"], ["br-ul", 2, "netdev"]]);
  });
  it("reads tags (empty set = none) and trunks", () => {
    const byName = new Map(ports.map((p) => [p.name, p]));
    expect(byName.get("pa-o1p")).toMatchObject({ tag: 10, trunks: [] });
    expect(byName.get("pa-otr")).toMatchObject({ tag: null, trunks: [10, 20] });
    expect(byName.get("pa-ul0")).toMatchObject({ tag: null, trunks: [], vlanMode: null });
  });
  it("reads interface types, options and MTUs", () => {
    const vx = interfaces.find((i) => i.name === "vxlan-h2")!;
    expect(vx).toMatchObject({ type: "vxlan", options: { dst_port: "4789", key: "200", remote_ip: "10.95.0.2" }, mtu: null, linkState: "up" });
    expect(interfaces.find((i) => i.name === "br-pa")).toMatchObject({ type: "internal", mtu: 1500, linkState: "down" });
  });
  it("rejects truncated JSON", () => expectUnparseable(() => parseOvsPorts(sample("ovs-vsctl-format-json-list-Port.json").slice(0, 200)), "ovs-vsctl list Port", /not JSON/));
  it("rejects a table missing a column it needs", () =>
    expectUnparseable(() => parseOvsBridges('{"headings":["name"],"data":[["br0"]]}'), "ovs-vsctl list Bridge", /_uuid/));
  it("rejects an unknown cell type", () =>
    expectUnparseable(() => parseOvsBridges('{"headings":["_uuid","name","ports"],"data":[[["uuid","a"],"br0",["bag",[]]]]}'), "ovs-vsctl list Bridge", /cell/));
  it("rejects a row shorter than the headings", () =>
    expectUnparseable(() => parseOvsBridges('{"headings":["_uuid","name","ports"],"data":[[["uuid","a"],"br0"]]}'), "ovs-vsctl list Bridge", /row/));
  it("rejects text output", () => expectUnparseable(() => parseOvsInterfaces(sample("ovs-vsctl-list-Interface.txt")), "ovs-vsctl list Interface"));
});

describe("NetSection from ip + bridge + ovs-vsctl", () => {
  const inputs = (): NetInputs => ({
    links: parseIpLink(sample("iproute2-ip-j-d-link-show.json")),
    addresses: parseIpAddr(sample("iproute2-ip-j-addr-show.json")),
    bridgeVlans: parseBridgeVlans(sample("bridge-j-vlan-show.json")),
    floodRemotes: parseVxlanFloodRemotes(sample("bridge-j-fdb.json")),
    ovs: {
      bridges: parseOvsBridges(sample("ovs-vsctl-format-json-list-Bridge.json")),
      ports: parseOvsPorts(sample("ovs-vsctl-format-json-list-Port.json")),
      interfaces: parseOvsInterfaces(sample("ovs-vsctl-format-json-list-Interface.json")),
    },
    vmNics: [
      { domain: "pa-vm1", domainUuid: "60e025f5-28a4-48d2-89b6-08076bc1fa91", mac: "52:54:00:aa:00:01", device: null },
      { domain: "pa-vm2", domainUuid: "505c24e6-0d99-4519-ad06-c1da9d5bc099", mac: "52:54:00:aa:00:02", device: "vnet2" },
    ],
  });

  it("validates against the domain schema", () => {
    NetSection.parse(buildNetSection(inputs()));
  });
  it("describes the Linux bridge: vxlan, VM taps matched by device or tap MAC", () => {
    const br0 = buildNetSection(inputs()).bridges.find((b) => b.name === "br0")!;
    expect(br0.type).toBe("linux");
    expect(br0.ports.map((p) => [p.name, p.mode, p.attached?.domain ?? null])).toEqual([
      ["vnet0", "vm", null],
      ["vnet2", "vm", "pa-vm2"],
      ["vnet3", "vm", "pa-vm1"],
      ["vxlan100", "vxlan", null],
    ]);
    expect(br0.ports.find((p) => p.name === "vxlan100")!.vxlan).toEqual({ vni: 100, local: "10.99.0.1", remote: "10.99.0.2", dstPort: 4789 });
  });
  it("describes OVS ports: access, trunk, vxlan, internal, uplink", () => {
    const net = buildNetSection(inputs());
    const pa = net.bridges.find((b) => b.name === "br-pa")!;
    expect(pa).toMatchObject({ type: "ovs", mtu: 1500 });
    expect(pa.ports.map((p) => [p.name, p.mode, p.vlan, p.trunks])).toEqual([
      ["br-pa", "internal", null, []],
      ["pa-o1p", "access", 10, []],
      ["pa-o2p", "access", 10, []],
      ["pa-otr", "trunk", null, [10, 20]],
      ["vnet-int", "internal", null, []],
      ["vxlan-h2", "vxlan", 10, []],
    ]);
    expect(pa.ports.find((p) => p.name === "vxlan-h2")!.vxlan).toEqual({ vni: 200, local: null, remote: "10.95.0.2", dstPort: 4789 });
    expect(net.bridges.find((b) => b.name === "br-ul")!.ports.map((p) => [p.name, p.mode])).toEqual([["br-ul", "internal"], ["pa-ul0", "uplink"]]);
  });
  it("counts a tunnel whose egress interface lost carrier as down", () => {
    const inp = inputs();
    const vx = inp.ovs!.interfaces.find((i) => i.name === "vxlan-h2")!;
    expect(vx.status).toMatchObject({ tunnel_egress_iface: "br-ul", tunnel_egress_iface_carrier: "up" });
    const upBefore = buildNetSection(inp).bridges.find((b) => b.name === "br-pa")!.ports.find((p) => p.name === "vxlan-h2")!.up;
    expect(upBefore).toBe(true);
    vx.status = { ...vx.status, tunnel_egress_iface_carrier: "down" };
    expect(buildNetSection(inp).bridges.find((b) => b.name === "br-pa")!.ports.find((p) => p.name === "vxlan-h2")!.up).toBe(false);
  });

  it("marks an OVS port as a VM port from libvirt's external_ids", () => {
    const inp = inputs();
    const o1p = inp.ovs!.interfaces.find((i) => i.name === "pa-o1p")!;
    o1p.externalIds = { "attached-mac": "52:54:00:AA:00:01", "vm-id": "60e025f5-28a4-48d2-89b6-08076bc1fa91" };
    const port = buildNetSection(inp).bridges.find((b) => b.name === "br-pa")!.ports.find((p) => p.name === "pa-o1p")!;
    expect(port).toMatchObject({ mode: "vm", vlan: 10, attached: { domain: "pa-vm1", mac: "52:54:00:aa:00:01" } });
  });
  it("gives interfaces their addresses and OVS bridges as masters", () => {
    const inp = inputs();
    inp.links.push({ ...inp.links.find((l) => l.name === "vnet0")!, name: "pa-o1p", master: null });
    const net = buildNetSection(inp);
    expect(net.interfaces.find((i) => i.name === "br0")!.addresses).toEqual(["192.168.100.1/24"]);
    expect(net.interfaces.find((i) => i.name === "pa-o1p")!.master).toBe("br-pa");
  });
  it("works without OVS", () => {
    const net = buildNetSection({ ...inputs(), ovs: null });
    expect(net.bridges.map((b) => b.name)).toEqual(["br0"]);
  });
});
