import { describe, expect, it } from "vitest";
import { network } from "@/fixtures/views";
import { portConfig } from "./ports";

describe("port descriptions", () => {
  it("say what a trunk and a VXLAN port carry", () => {
    const ports = network[0]!.bridges.flatMap((b) => b.ports);
    expect(portConfig(ports.find((p) => p.mode === "trunk")!)).toBe("trunk VLANs 10, 20, 30");
    expect(portConfig(ports.find((p) => p.name === "vx10010")!)).toBe("VNI 10010 → 10.0.0.12:4789");
  });
});
