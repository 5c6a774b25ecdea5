import { describe, expect, it } from "vitest";
import type { Operation } from "@nimbus/domain";
import { hostSummaries, instances, migrating, network, scaling } from "@/fixtures/views";
import { NOW } from "@/fixtures/hosts";
import { diskMoving, moveRecords } from "@/fixtures/moves";
import { mergeOperation, replaceHostInstances, replaceHostNetwork, replaceHostSummary, rowOperationFor, upsertMove, upsertOperation } from "./live-patch";

const at = (op: Operation, secondsAfter: number, patch: Partial<Operation> = {}): Operation => ({
  ...op,
  updatedAt: new Date(Date.parse(op.updatedAt) + secondsAfter * 1000).toISOString(),
  ...patch,
});

describe("host events", () => {
  it("replace only the host they name and keep the list sorted", () => {
    const kvm3 = hostSummaries.find((h) => h.name === "kvm3")!;
    const next = replaceHostSummary(hostSummaries, { ...kvm3, state: "online" })!;
    expect(next.map((h) => h.name)).toEqual([...hostSummaries.map((h) => h.name)].sort());
    expect(next.find((h) => h.name === "kvm3")!.state).toBe("online");
    expect(next.find((h) => h.name === "kvm1")).toBe(hostSummaries.find((h) => h.name === "kvm1"));
  });

  it("do not create a list the page never loaded", () => {
    expect(replaceHostSummary(undefined, hostSummaries[0]!)).toBeUndefined();
    expect(replaceHostInstances(undefined, "kvm1", [])).toBeUndefined();
    expect(replaceHostNetwork(undefined, network[0]!)).toBeUndefined();
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
