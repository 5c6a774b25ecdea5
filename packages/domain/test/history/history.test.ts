import { describe, expect, it } from "vitest";
import { TimelineRange, VipWatch, failoverEvent, failovers, operationTouches, pageEvents, stateSpans, vipLane, type HistoryEvent, type TimelineEvent } from "../../src/history/index.js";
import type { HostRecord } from "../../src/fleet.js";
import type { Operation } from "../../src/operations.js";
import { hypervisor } from "../fixtures.js";

const at = (s: number) => new Date(Date.parse("2026-03-01T00:00:00Z") + s * 1000).toISOString();

function nfs(name: string, held: boolean, over: { state?: HostRecord["connection"]["state"]; running?: boolean; keepalived?: "master" | "backup" | "fault" | "stopped" } = {}): HostRecord {
  const h = hypervisor(name);
  h.connection = { ...h.connection, state: over.state ?? "online" };
  h.inventory.virt = null;
  h.inventory.storage = {
    mounts: [],
    nfs: { serverRunning: over.running ?? true, exports: [], datastores: [], vip: { address: "10.0.0.100", heldHere: held }, keepalivedState: over.keepalived ?? (held ? "master" : "backup") },
  };
  return h;
}

describe("following the VIP holder", () => {
  it("reports nothing when the holder is the one last recorded (a server restart)", () => {
    const w = new VipWatch(new Map([["10.0.0.100", "nfs1"]]));
    expect(w.update([nfs("nfs1", true), nfs("nfs2", false)], at(0))).toEqual([]);
  });

  it("a holder's NFS daemon dying: the VIP is lost with that cause, then held by the backup", () => {
    const w = new VipWatch(new Map([["10.0.0.100", "nfs1"]]));
    const lost = w.update([nfs("nfs1", false, { running: false, keepalived: "fault" }), nfs("nfs2", false)], at(10));
    expect(lost).toEqual([{ vip: "10.0.0.100", at: at(10), holder: null, previous: "nfs1", cause: "the NFS server stopped on nfs1; keepalived on nfs1 reports FAULT" }]);
    const held = w.update([nfs("nfs1", false, { running: false, keepalived: "fault" }), nfs("nfs2", true)], at(13));
    expect(held).toEqual([{ vip: "10.0.0.100", at: at(13), holder: "nfs2", previous: null, cause: "a server took the VIP" }]);
  });

  it("a holder that stops answering loses the VIP even though its last report says it holds it", () => {
    const w = new VipWatch(new Map([["10.0.0.100", "nfs1"]]));
    const changes = w.update([nfs("nfs1", true, { state: "unreachable" }), nfs("nfs2", true)], at(5));
    expect(changes).toEqual([{ vip: "10.0.0.100", at: at(5), holder: "nfs2", previous: "nfs1", cause: "nfs1 stopped answering (unreachable)" }]);
  });

  it("while a server of the pair is still connecting, no holder is not a failover", () => {
    const w = new VipWatch(new Map([["10.0.0.100", "nfs1"]]));
    expect(w.update([nfs("nfs1", true, { state: "connecting" }), nfs("nfs2", false)], at(0))).toEqual([]);
    expect(w.current().get("10.0.0.100")).toBe("nfs1");
  });
});

describe("failovers from VIP events", () => {
  const ev = (kind: HistoryEvent["kind"], s: number, actor: string | null, previous: string | null, detail = ""): HistoryEvent => ({ at: at(s), kind, subject: "10.0.0.100", actor, previous, detail });

  it("lost then held is one failover lasting the gap, with the loss's cause", () => {
    expect(failovers([ev("vip-held", 0, "nfs1", null, "first seen"), ev("vip-lost", 60, null, "nfs1", "the NFS server stopped on nfs1"), ev("vip-held", 64, "nfs2", null)], Date.parse(at(100)))).toEqual([
      { vip: "10.0.0.100", from: "nfs1", to: "nfs2", lostAt: at(60), heldAt: at(64), durationMs: 4000, cause: "the NFS server stopped on nfs1" },
    ]);
  });

  it("a VIP still unheld lasts until now; a move in one step lasts 0", () => {
    const f = failovers([ev("vip-held", 10, "nfs2", "nfs1", "nfs1 stopped answering"), ev("vip-lost", 20, null, "nfs2", "x")], Date.parse(at(50)));
    expect(f.map((x) => [x.from, x.to, x.durationMs])).toEqual([
      ["nfs1", "nfs2", 0],
      ["nfs2", null, 30_000],
    ]);
  });

  it("a failover says how long the VIP had no holder, or that it was taken over at once", () => {
    const [gap, atOnce] = [
      failovers([ev("vip-lost", 60, null, "nfs1", "down"), ev("vip-held", 64, "nfs2", null)], 0)[0]!,
      failovers([ev("vip-held", 60, "nfs2", "nfs1", "down")], 0)[0]!,
    ].map(failoverEvent);
    expect(gap).toMatchObject({ title: "VIP 10.0.0.100 moved from nfs1 to nfs2", detail: "down; without a holder for 4 s", tone: "warn" });
    expect(atOnce!.detail).toBe("down; taken over at once (no second without a holder)");
  });

  it("the holder lane starts in the state recorded before the range", () => {
    const lane = vipLane("10.0.0.100", [ev("vip-lost", 60, null, "nfs1", "down"), ev("vip-held", 64, "nfs2", null)], ev("vip-held", -3600, "nfs1", null), { from: Date.parse(at(0)), to: Date.parse(at(120)) });
    expect(lane.spans.map((s) => [s.state, s.message])).toEqual([
      ["ok", "held by nfs1"],
      ["crit", "no holder: down"],
      ["ok", "held by nfs2"],
    ]);
    expect(lane.spans[0]!.from).toBe(Date.parse(at(0)));
    expect(lane.spans[2]!.to).toBeNull();
  });
});

describe("state spans", () => {
  it("clips to the range, carries the state from before it, drops spans that ended before it", () => {
    const range = { from: Date.parse(at(100)), to: Date.parse(at(200)) };
    const spans = stateSpans(
      [
        { checkId: "host:kvm1", state: "crit", at: at(150), message: "down" },
        { checkId: "host:kvm1", state: "ok", at: at(180), message: "up" },
      ],
      [
        { checkId: "host:kvm1", state: "ok", at: at(10), message: "up" },
        { checkId: "host:kvm2", state: "warn", at: at(20), message: "slow" },
      ],
      range,
    );
    expect(spans.get("host:kvm1")).toEqual([
      { from: range.from, to: Date.parse(at(150)), state: "ok", message: "up" },
      { from: Date.parse(at(150)), to: Date.parse(at(180)), state: "crit", message: "down" },
      { from: Date.parse(at(180)), to: null, state: "ok", message: "up" },
    ]);
    expect(spans.get("host:kvm2")).toEqual([{ from: range.from, to: null, state: "warn", message: "slow" }]);
  });
});

describe("which operations a timeline shows", () => {
  const op = (over: Partial<Operation>): Operation =>
    ({ id: "op1", kind: "migrate", state: "succeeded", target: { type: "instance", name: "web1" }, host: "kvm1", tenant: null, requestedBy: "ada", summary: "", params: { source: "kvm1", destination: "kvm2" }, progress: null, steps: [], error: null, createdAt: at(0), updatedAt: at(0), finishedAt: at(5), ...over }) as Operation;
  it("a migration shows on its instance, its source and its destination, not elsewhere", () => {
    expect(operationTouches(op({}), { instance: "web1" })).toBe(true);
    expect(operationTouches(op({}), { host: "kvm2" })).toBe(true);
    expect(operationTouches(op({}), { host: "kvm3" })).toBe(false);
    expect(operationTouches(op({}), { instance: "web2" })).toBe(false);
    expect(operationTouches(op({}), {})).toBe(true);
  });
});

describe("paging and bounds", () => {
  it("newest first, at most `limit`, with the cursor of the oldest returned", () => {
    const events = [3, 1, 2, 5, 4].map((t) => ({ at: t }) as TimelineEvent);
    expect(pageEvents(events, 2)).toEqual({ events: [{ at: 5 }, { at: 4 }], nextBefore: 4 });
    expect(pageEvents(events, 5).nextBefore).toBeNull();
  });
  it("refuses a reversed range, one over 30 days, an oversized page", () => {
    expect(TimelineRange.safeParse({ from: 10, to: 5 }).success).toBe(false);
    expect(TimelineRange.safeParse({ from: 0, to: 31 * 86_400_000 }).success).toBe(false);
    expect(TimelineRange.safeParse({ from: 0, to: 10, limit: 501 }).success).toBe(false);
    expect(TimelineRange.parse({ from: 0, to: 10 }).limit).toBe(200);
  });
});
