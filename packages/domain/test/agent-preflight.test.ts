import { describe, expect, it } from "vitest";
import {
  AgentPreflightParams,
  DEFAULT_POLICY,
  describePolicy,
  destinationAgentChecks,
  destinationPreflightParams,
  sourceAgentChecks,
  type DestinationObservation,
} from "../src/index.js";
import { hypervisor, vm } from "./fixtures.js";

const kvm2 = hypervisor("kvm2");
const seen = (over: Partial<DestinationObservation> = {}): DestinationObservation => ({
  host: "kvm2",
  freeMemoryMiB: 16_000,
  bridges: kvm2.inventory.net!.bridges,
  missingPaths: [],
  existingState: null,
  ...over,
});
const request = destinationPreflightParams(vm(), "kvm1");
const byId = (checks: ReturnType<typeof destinationAgentChecks>, id: string) => checks.find((c) => c.id === id);

describe("preflight re-run on the source agent", () => {
  it("passes when the host confirms the VM runs with no job", () => {
    expect(sourceAgentChecks({ host: "kvm1", domain: "web1", state: "running", migrating: false })).toEqual([
      { id: "agent-source", label: "kvm1 (source, now)", result: "pass", reason: "kvm1 confirms web1 is running with no job on it" },
    ]);
  });

  it("fails when the VM is no longer defined there (stale inventory)", () => {
    expect(sourceAgentChecks({ host: "kvm1", domain: "web1", state: null, migrating: false })[0]).toMatchObject({ result: "fail", reason: "web1 is no longer defined on kvm1" });
  });

  it("fails when the VM stopped meanwhile", () => {
    expect(sourceAgentChecks({ host: "kvm1", domain: "web1", state: "shutoff", migrating: false })[0]?.reason).toBe("web1 is shutoff on kvm1; only running VMs live-migrate");
  });

  it("fails when a migration or block job already runs on the VM", () => {
    expect(sourceAgentChecks({ host: "kvm1", domain: "web1", state: "running", migrating: true })[0]).toMatchObject({ result: "fail", reason: "web1 already has a migration or block job running on kvm1" });
  });
});

describe("preflight re-run on the destination agent", () => {
  it("builds the request from the VM and the headroom policy, and it validates", () => {
    expect(request).toMatchObject({ role: "destination", domain: "web1", source: "kvm1", memoryMiB: 2048, memoryHeadroomMiB: DEFAULT_POLICY.memoryHeadroomMiB, diskPaths: ["/instance/web1.qcow2"] });
    expect(AgentPreflightParams.safeParse(request).success).toBe(true);
  });

  it("passes memory, NIC and storage when the host has what the VM needs", () => {
    const checks = destinationAgentChecks(request, seen());
    expect(checks.every((c) => c.result === "pass")).toBe(true);
    expect(checks.map((c) => c.id)).toEqual(["agent-memory", "agent-net-52:54:00:00:00:01", "agent-storage"]);
  });

  it("fails on RAM as the host sees it, after headroom", () => {
    expect(byId(destinationAgentChecks(request, seen({ freeMemoryMiB: 2300 })), "agent-memory")).toMatchObject({
      result: "fail",
      reason: "needs 2048 MiB; kvm2 has 1788 MiB free after 512 MiB headroom",
    });
  });

  it("warns when the host cannot report its free memory", () => {
    expect(byId(destinationAgentChecks(request, seen({ freeMemoryMiB: null })), "agent-memory")?.result).toBe("warn");
  });

  it("fails when the VLAN left the trunk since the inventory was taken", () => {
    const bridges = structuredClone(kvm2.inventory.net!.bridges);
    bridges[0]!.ports[0]!.trunks = [20, 30];
    expect(byId(destinationAgentChecks(request, seen({ bridges })), "agent-net-52:54:00:00:00:01")?.reason).toBe("VLAN 10 is not carried by any trunk of br-ovs on kvm2");
  });

  it("fails when the bridge is missing or of another type", () => {
    expect(byId(destinationAgentChecks(request, seen({ bridges: [] })), "agent-net-52:54:00:00:00:01")?.reason).toBe("bridge br-ovs does not exist on kvm2");
    const linux = structuredClone(kvm2.inventory.net!.bridges);
    linux[0]!.type = "linux";
    expect(byId(destinationAgentChecks(request, seen({ bridges: linux })), "agent-net-52:54:00:00:00:01")?.reason).toMatch(/is a linux bridge on kvm2, the VM needs ovs/);
  });

  it("asks for a storage migration when the host cannot see a disk path", () => {
    expect(byId(destinationAgentChecks(request, seen({ missingPaths: ["/instance/web1.qcow2"] })), "agent-storage")).toMatchObject({
      result: "fail",
      reason: "storage migration needed: /instance/web1.qcow2 not visible on kvm2",
    });
  });

  it("fails when a domain of that name already runs on the destination", () => {
    expect(byId(destinationAgentChecks(request, seen({ existingState: "running" })), "agent-domain")?.result).toBe("fail");
    expect(byId(destinationAgentChecks(request, seen({ existingState: "shutoff" })), "agent-domain")).toBeUndefined();
  });

  it("says the headroom policy in words", () => {
    expect(describePolicy()).toBe("512 MiB of RAM stay free on every destination for the host itself; more than 4 vCPUs per physical CPU is a warning");
  });
});
