import { describe, expect, it } from "vitest";
import {
  CreateStepId,
  OperationStep,
  STEP_LOG_MAX_LINES,
  appendStepLog,
  cleanupPlan,
  createInstanceParams,
  createSteps,
  failureSummary,
  setStep,
  type CreateInstanceParams,
  type WiringAction,
} from "../../src/index.js";
import { image, request } from "./fixtures.js";

const vxlan: WiringAction = { kind: "vxlan", bridge: "br-ovs", vni: 5001, vlan: 10, peers: [{ host: "kvm1", address: "10.10.0.11" }] };
const params = (wiring: WiringAction[] = [], bridge: { name: string; type: "linux" | "ovs" } = { name: "br-ovs", type: "ovs" }): CreateInstanceParams =>
  createInstanceParams("op-1", request(), image(), { mountTarget: "/instance", bridge, wiring });

describe("create steps", () => {
  it("lists the steps in order, as records the operation keeps", () => {
    const steps = createSteps(params([vxlan]));
    expect(steps.map((s) => [s.id, s.state])).toEqual([
      ["check", "pending"],
      ["build-volume", "pending"],
      ["wire-network", "pending"],
      ["define", "pending"],
      ["start", "pending"],
      ["wait-address", "pending"],
    ]);
    expect(steps.every((s) => OperationStep.safeParse(s).success)).toBe(true);
    expect(steps[1]!.detail).toBe("/instance/web2.qcow2, 20 GiB, from image debian-12-docker (host name, SSH keys, first-boot commands)");
    expect(steps[2]!.detail).toBe("VNI 5001 on br-ovs for VLAN 10, tunnels to kvm1");
  });

  it("skips the network step when the host already carries the tenant, and tags a Linux bridge port at start", () => {
    const ovs = createSteps(params());
    expect(ovs.find((s) => s.id === "wire-network")).toMatchObject({ state: "skipped", detail: "br-ovs already carries the tenant's network" });
    const linux = createSteps(params([{ kind: "port-vlan", bridge: "br0", vlan: 10 }], { name: "br0", type: "linux" }));
    expect(linux.find((s) => s.id === "start")?.detail).toBe("start web2, then tag the instance's port on br0 with VLAN 10");
  });
});

describe("cleanup of a failed or cancelled create", () => {
  const kinds = (failed: CreateStepId) => cleanupPlan(params([vxlan]), failed).map((a) => a.kind);

  it.each([
    ["check", []],
    ["build-volume", ["remove-volume"]],
    ["wire-network", ["release-network", "remove-volume"]],
    // define is atomic: a failed define made no domain (and one of that name would not be ours).
    ["define", ["release-network", "remove-volume"]],
    ["start", ["destroy-domain", "undefine-domain", "release-network", "remove-volume"]],
    ["wait-address", ["destroy-domain", "undefine-domain", "release-network", "remove-volume"]],
  ] as const)("after %s undoes %j, latest first", (failed, expected) => {
    expect(kinds(failed)).toEqual(expected);
  });

  it("describes each action, and releases the tenant's network only if no other instance uses it", () => {
    expect(cleanupPlan(params([vxlan]), "start").map((a) => a.description)).toEqual([
      "force off web2 if it runs",
      "undefine web2",
      "remove VNI 5001 from br-ovs unless another instance of acme uses it there",
      "remove /instance/web2.qcow2",
    ]);
    expect(cleanupPlan(params(), "wait-address").map((a) => a.kind)).toEqual(["destroy-domain", "undefine-domain", "remove-volume"]);
  });
});

describe("step records", () => {
  it("records times and the tool's last lines, bounded", () => {
    let steps = createSteps(params());
    steps = setStep(steps, "build-volume", "running", "2026-12-07T06:00:00.000Z");
    steps = appendStepLog(steps, "build-volume", Array.from({ length: STEP_LOG_MAX_LINES + 5 }, (_, i) => `line ${i}`));
    steps = appendStepLog(steps, "build-volume", ["x".repeat(5000), "virt-builder: error: no space left on device"]);
    steps = setStep(steps, "build-volume", "failed", "2026-12-07T06:03:41.000Z");
    const build = steps.find((s) => s.id === "build-volume")!;
    expect(build).toMatchObject({ state: "failed", startedAt: "2026-12-07T06:00:00.000Z", finishedAt: "2026-12-07T06:03:41.000Z" });
    expect(build.log).toHaveLength(STEP_LOG_MAX_LINES);
    expect(build.log.at(-2)!.length).toBe(512);
    expect(OperationStep.safeParse(build).success).toBe(true);
    expect(failureSummary(steps)).toBe("Build the volume failed: virt-builder: error: no space left on device");
    expect(failureSummary(createSteps(params()))).toBeNull();
  });
});
