import { describe, expect, it } from "vitest";
import type { HostNetworkView } from "@nimbus/domain";
import { network } from "@/fixtures/views";
import { portConfig, tunnelsByVni } from "./ports";

describe("VXLAN tunnels per VNI", () => {
  it("find a complete mesh between kvm1 and kvm2 for every tenant VNI", () => {
    const rows = tunnelsByVni(network);
    expect(rows.map((r) => r.vni)).toEqual([10010, 10020, 10030]);
    for (const r of rows) {
      expect(r.hosts).toEqual(["kvm1", "kvm2"]);
      expect(r.missing).toEqual([]);
    }
  });

  it("name the missing direction when one host lost its tunnel", () => {
    const broken: HostNetworkView[] = network.map((v) =>
      v.host !== "kvm2" ? v : { ...v, bridges: v.bridges.map((b) => ({ ...b, ports: b.ports.filter((p) => p.vxlan?.vni !== 10020 || p.name !== "vx10020") })) },
    );
    const kvm1Only = tunnelsByVni(broken).find((r) => r.vni === 10020)!;
    // kvm2 no longer carries the VNI at all: only kvm1 is left, so no pair to check.
    expect(kvm1Only.hosts).toEqual(["kvm1"]);

    const oneWay: HostNetworkView[] = network.map((v) =>
      v.host !== "kvm2"
        ? v
        : { ...v, bridges: v.bridges.map((b) => ({ ...b, ports: b.ports.map((p) => (p.vxlan?.vni === 10020 ? { ...p, vxlan: { ...p.vxlan, remote: "10.0.0.99" } } : p)) })) },
    );
    expect(tunnelsByVni(oneWay).find((r) => r.vni === 10020)!.missing).toEqual(["kvm2 → kvm1"]);
  });
});

describe("port descriptions", () => {
  it("say what a trunk and a VXLAN port carry", () => {
    const ports = network[0]!.bridges.flatMap((b) => b.ports);
    expect(portConfig(ports.find((p) => p.mode === "trunk")!)).toBe("trunk VLANs 10, 20, 30");
    expect(portConfig(ports.find((p) => p.name === "vx10010")!)).toBe("VNI 10010 → 10.0.0.12:4789");
  });
});
