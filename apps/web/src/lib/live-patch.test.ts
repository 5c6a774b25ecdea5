import { describe, expect, it } from "vitest";
import { byUrgency, type HealthCheck, type Operation } from "@nimbus/domain";
import { healthChecks, hostSummaries, instances, migrating, network, scaling } from "@/fixtures/views";
import { NOW } from "@/fixtures/hosts";
import { diskMoving, moveRecords } from "@/fixtures/moves";
import {
  applyHealthChanges,
  mergeOperation,
  replaceHostInstances,
  replaceHostNetwork,
  replaceHostSummaries,
  rowOperationFor,
  upsertMove,
  upsertOperation,
} from "./live-patch";

const at = (op: Operation, secondsAfter: number, patch: Partial<Operation> = {}): Operation => ({
  ...op,
  updatedAt: new Date(Date.parse(op.updatedAt) + secondsAfter * 1000).toISOString(),
  ...patch,
});

describe("host events", () => {
  it("replace only the hosts they name and keep the list sorted", () => {
    const kvm3 = hostSummaries.find((h) => h.name === "kvm3")!;
    const kvm2 = hostSummaries.find((h) => h.name === "kvm2")!;
    const next = replaceHostSummaries(hostSummaries, [{ ...kvm3, state: "online" }, { ...kvm2, cpuUsagePct: 99 }])!;
    expect(next.map((h) => h.name)).toEqual([...hostSummaries.map((h) => h.name)].sort());
    expect(next.find((h) => h.name === "kvm3")!.state).toBe("online");
    expect(next.find((h) => h.name === "kvm2")!.cpuUsagePct).toBe(99);
    expect(next.find((h) => h.name === "kvm1")).toBe(hostSummaries.find((h) => h.name === "kvm1"));
  });

  it("add a host the list did not have, in name order", () => {
    const next = replaceHostSummaries(hostSummaries, [{ ...hostSummaries[0]!, name: "kvm15" }])!;
    expect(next).toHaveLength(hostSummaries.length + 1);
    expect(next.map((h) => h.name)).toEqual([...hostSummaries.map((h) => h.name), "kvm15"].sort());
  });

  it("do not create a list the page never loaded", () => {
    expect(replaceHostSummaries(undefined, [hostSummaries[0]!])).toBeUndefined();
    expect(replaceHostInstances(undefined, "kvm1", [])).toBeUndefined();
    expect(replaceHostNetwork(undefined, network[0]!)).toBeUndefined();
  });
});

describe("health changes", () => {
  const list = [...healthChecks].sort(byUrgency);
  const byId = (id: string) => list.find((c) => c.id === id)!;

  it("replace a changed check and move it to where its new state sorts", () => {
    const failing: HealthCheck = { ...byId("host:kvm1"), state: "crit", since: "2020-01-01T00:00:00.000Z", message: "unreachable" };
    const next = applyHealthChanges(list, [failing], [])!;
    expect(next[0]).toBe(failing);
    expect(next).toHaveLength(list.length);
    expect(next.filter((c) => c.id === "host:kvm1")).toHaveLength(1);
    expect(next).toEqual([...next].sort(byUrgency));
  });

  it("remove the checks that went away and add new ones in order", () => {
    const crashed: HealthCheck = { ...byId("host:kvm1"), id: "instance:acme-web", category: "instance", target: "acme-web", state: "warn", message: "crashed" };
    const next = applyHealthChanges(list, [crashed], ["host:kvm3", "storage:vip"])!;
    expect(next.map((c) => c.id)).not.toContain("host:kvm3");
    expect(next.map((c) => c.id)).not.toContain("storage:vip");
    expect(next.map((c) => c.id)).toContain("instance:acme-web");
    expect(next).toEqual([...list.filter((c) => c.id !== "host:kvm3" && c.id !== "storage:vip"), crashed].sort(byUrgency));
  });

  it("leave unchanged checks as the same objects", () => {
    const acked: HealthCheck = { ...byId("host:kvm3"), ack: { by: "Olga", at: "2026-01-01T00:00:00.000Z" } };
    const next = applyHealthChanges(list, [acked], [])!;
    expect(next.find((c) => c.id === "host:kvm3")).toBe(acked);
    expect(next.find((c) => c.id === "host:kvm2")).toBe(byId("host:kvm2"));
  });

  it("do not create a list the page never loaded", () => {
    expect(applyHealthChanges(undefined, [list[0]!], [])).toBeUndefined();
  });
});

describe("host-instances events", () => {
  it("move a migrated VM from the source's rows to the destination's", () => {
    const vm = instances.find((i) => i.name === "acme-db")!;
    const kvm1After = instances.filter((i) => i.host === "kvm1" && i.name !== "acme-db");
    const kvm2After = [...instances.filter((i) => i.host === "kvm2"), { ...vm, host: "kvm2" }];
    const afterSource = replaceHostInstances(instances, "kvm1", kvm1After)!;
    const afterBoth = replaceHostInstances(afterSource, "kvm2", kvm2After)!;
    expect(afterBoth.filter((i) => i.name === "acme-db").map((i) => i.host)).toEqual(["kvm2"]);
    expect(afterBoth).toHaveLength(instances.length);
  });
});

describe("operation updates", () => {
  it("never lower a migration's percent, even when dirty pages are re-sent", () => {
    const later = at(migrating, 2, { progress: { ...(migrating.progress as Extract<Operation["progress"], { kind: "migrate" }>), percent: 30, iteration: 3 } });
    const merged = mergeOperation(migrating, later);
    expect(merged.progress).toMatchObject({ percent: 42, iteration: 3 });
  });

  it("drop an update older than the cached one (a slow mutation response)", () => {
    const newer = at(migrating, 5, { progress: { ...(migrating.progress as Extract<Operation["progress"], { kind: "migrate" }>), percent: 70 } });
    expect(mergeOperation(newer, migrating)).toBe(newer);
  });

  it("take the final state with its error", () => {
    const failed = at(migrating, 3, { state: "failed", error: "kvm2 went away", finishedAt: migrating.updatedAt });
    expect(mergeOperation(migrating, failed)).toMatchObject({ state: "failed", error: "kvm2 went away" });
  });

  it("are inserted newest first, only into lists whose target filter matches", () => {
    const fresh = { ...scaling, id: "op-99", createdAt: new Date(NOW).toISOString(), updatedAt: new Date(NOW).toISOString() };
    expect(upsertOperation([migrating], fresh)!.map((o) => o.id)).toEqual(["op-99", "op-7"]);
    const forAcmeDb = { target: { type: "instance" as const, name: "acme-db" } };
    const list = [migrating];
    expect(upsertOperation(list, fresh, forAcmeDb)).toBe(list);
  });

  it("respect the list's limit", () => {
    const fresh = { ...scaling, id: "op-99", createdAt: new Date(NOW).toISOString() };
    expect(upsertOperation([migrating, scaling], fresh, { limit: 2 })!.map((o) => o.id)).toEqual(["op-99", "op-7"]);
  });
});

describe("the operation a row shows", () => {
  const done = { ...migrating, state: "succeeded" as const, finishedAt: new Date(NOW - 30_000).toISOString() };
  it("is the running one", () => {
    expect(rowOperationFor([migrating], { type: "instance", name: "acme-db" }, NOW)).toBe(migrating);
  });
  it("stays a minute after it ends, then disappears", () => {
    expect(rowOperationFor([done], { type: "instance", name: "acme-db" }, NOW)).toBe(done);
    expect(rowOperationFor([done], { type: "instance", name: "acme-db" }, NOW + 60_000)).toBeUndefined();
  });
  it("belongs to that target only", () => {
    expect(rowOperationFor([migrating], { type: "instance", name: "acme-web" }, NOW)).toBeUndefined();
  });
});

describe("a disk move's percent", () => {
  it("never goes back either", () => {
    const stale = at(diskMoving, 2, { progress: { ...(diskMoving.progress as Extract<Operation["progress"], { kind: "storage-move" }>), phase: "verifying", percent: 30 } });
    expect(mergeOperation(diskMoving, stale).progress).toMatchObject({ percent: 40, phase: "verifying" });
  });
});

describe("the moves history", () => {
  const now = new Date(NOW).toISOString();
  const ended = at(diskMoving, 20, { state: "succeeded", finishedAt: new Date(NOW).toISOString() });

  it("gets a new move on top", () => {
    const fresh = { ...migrating, id: "op-50", createdAt: new Date(NOW).toISOString() };
    expect(upsertMove(moveRecords, fresh, {}, now)!.map((r) => r.id)[0]).toBe("op-50");
  });
  it("rewrites a move that ended in place", () => {
    const next = upsertMove(moveRecords, ended, {}, now)!;
    expect(next).toHaveLength(moveRecords.length);
    expect(next.find((r) => r.id === diskMoving.id)).toMatchObject({ state: "succeeded", to: "/instance2" });
  });
  it("drops a move from a list it no longer matches (running moves only)", () => {
    const running = moveRecords.filter((r) => r.state === "running");
    expect(upsertMove(running, ended, { result: "running" }, now)!.some((r) => r.id === diskMoving.id)).toBe(false);
  });
  it("leaves lists of other instances, kinds and operations alone", () => {
    expect(upsertMove(moveRecords, { ...diskMoving, id: "op-51" }, { instance: "globex-app" }, now)).toBe(moveRecords);
    expect(upsertMove(moveRecords, { ...diskMoving, id: "op-52" }, { kind: "migrate" }, now)).toBe(moveRecords);
    expect(upsertMove(moveRecords, scaling, {}, now)).toBe(moveRecords);
  });
  it("respects the list's limit", () => {
    const fresh = { ...migrating, id: "op-53", createdAt: new Date(NOW).toISOString() };
    expect(upsertMove(moveRecords, fresh, { limit: 2 }, now)).toHaveLength(2);
  });
});
