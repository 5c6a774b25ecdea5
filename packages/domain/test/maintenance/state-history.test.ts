import { describe, expect, it } from "vitest";
import { hostMaintenanceView, moveHistory, moveRecord, operationDurationMs, type Operation } from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";

const op = (over: Partial<Operation> = {}): Operation => ({
  id: "op1",
  kind: "migrate",
  state: "succeeded",
  target: { type: "instance", name: "web1" },
  host: "kvm1",
  tenant: "acme",
  requestedBy: "Ada",
  summary: "Migrate web1 from kvm1 to kvm2",
  params: { source: "kvm1", destination: "kvm2", options: { bandwidthMiBps: 100, maxDowntimeMs: null, autoConverge: true, postCopy: false } },
  progress: {
    kind: "migrate", phase: "done", memoryTotalBytes: 1, memoryProcessedBytes: 1, memoryRemainingBytes: 0, bandwidthBytesPerSec: 1,
    dirtyRateBytesPerSec: 0, iteration: 3, expectedDowntimeMs: 20, percent: 100, downtimeMs: 37,
  },
  steps: [],
  error: null,
  createdAt: "2026-01-01T10:00:00.000Z",
  updatedAt: "2026-01-01T10:00:07.500Z",
  finishedAt: "2026-01-01T10:00:07.500Z",
  ...over,
});

describe("host maintenance state", () => {
  const evacuation = op({ id: "m1", kind: "maintenance", state: "running", finishedAt: null });

  it("is active without the flag", () => {
    expect(hostMaintenanceView(hypervisor("kvm1", [vm()]), null)).toMatchObject({ state: "active", flag: false, runningVms: ["web1"] });
  });

  it("is evacuating while the operation runs", () => {
    expect(hostMaintenanceView(hypervisor("kvm1", [vm()], { maintenance: true }), evacuation)).toMatchObject({ state: "evacuating", operationId: "m1" });
  });

  it("is in maintenance only once empty (VMs that are off do not count)", () => {
    const empty = hypervisor("kvm1", [vm({ state: "shutoff" })], { maintenance: true });
    expect(hostMaintenanceView(empty, null)).toMatchObject({ state: "in-maintenance", message: "kvm1 is in maintenance and empty: safe to work on" });
  });

  it("stays in maintenance while the host is off, saying its VMs are not known", () => {
    const off = hypervisor("kvm1", [], { maintenance: true });
    off.connection = { ...off.connection, state: "unreachable" };
    expect(hostMaintenanceView(off, null)).toMatchObject({ state: "in-maintenance", current: false, message: "kvm1 is in maintenance (unreachable: its VMs are not known right now)" });
  });

  it("says which VMs still run when the flag is on but the host is not empty", () => {
    expect(hostMaintenanceView(hypervisor("kvm1", [vm()], { maintenance: true }), null)).toMatchObject({
      state: "not-empty",
      message: "kvm1 takes no new VMs, but web1 still run on it",
    });
  });
});

describe("moves history", () => {
  const now = "2026-01-01T11:00:00.000Z";

  it("records who, from, to, options, duration, measured downtime and result of a migration", () => {
    expect(moveRecord(op({ params: { ...op().params, maintenanceId: "m1" } }), now)).toEqual({
      id: "op1", kind: "migrate", instance: "web1", tenant: "acme", requestedBy: "Ada", from: "kvm1", to: "kvm2",
      options: { bandwidthMiBps: 100, maxDowntimeMs: null, autoConverge: true, postCopy: false },
      state: "succeeded", error: null, startedAt: "2026-01-01T10:00:00.000Z", finishedAt: "2026-01-01T10:00:07.500Z",
      durationMs: 7500, downtimeMs: 37, maintenanceId: "m1", summary: "Migrate web1 from kvm1 to kvm2",
    });
  });

  it("counts a running move's duration until now, and has no downtime yet", () => {
    const running = op({ state: "running", finishedAt: null, progress: null });
    expect(operationDurationMs(running, now)).toBe(3_600_000);
    expect(moveRecord(running, now)?.downtimeMs).toBeNull();
  });

  it("records a storage move between datastores with its bandwidth", () => {
    const move = op({ kind: "storage-move", params: { disk: "vda", fromDatastore: "/instance", toDatastore: "/instance2", bandwidthMiBps: 50, mode: "live" }, progress: null });
    expect(moveRecord(move, now)).toMatchObject({ kind: "storage-move", from: "/instance", to: "/instance2", options: { bandwidthMiBps: 50, disk: "vda", mode: "live" } });
  });

  it("leaves out operations that move nothing", () => {
    expect(moveRecord(op({ kind: "scale" }), now)).toBeNull();
  });

  it("filters by instance, host (either end), result and who, newest first", () => {
    const ops = [
      op({ id: "a", createdAt: "2026-01-01T09:00:00.000Z" }),
      op({ id: "b", target: { type: "instance", name: "db" }, host: "kvm2", params: { source: "kvm2", destination: "kvm3", options: {} }, createdAt: "2026-01-01T09:30:00.000Z" }),
      op({ id: "c", state: "failed", error: "kvm2 is unreachable", requestedBy: "Otto" }),
      op({ id: "d", kind: "scale" }),
    ];
    expect(moveHistory(ops, {}, now).map((r) => r.id)).toEqual(["c", "b", "a"]);
    expect(moveHistory(ops, { instance: "web1" }, now).map((r) => r.id)).toEqual(["c", "a"]);
    expect(moveHistory(ops, { host: "kvm3" }, now).map((r) => r.id)).toEqual(["b"]);
    expect(moveHistory(ops, { result: "failed" }, now).map((r) => [r.id, r.error])).toEqual([["c", "kvm2 is unreachable"]]);
    expect(moveHistory(ops, { requestedBy: "Otto" }, now).map((r) => r.id)).toEqual(["c"]);
  });
});
