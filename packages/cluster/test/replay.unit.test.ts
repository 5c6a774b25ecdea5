import { describe, expect, it } from "vitest";
import type { Operation } from "@nimbus/domain";
import type { BusMessage } from "../src/bus.js";
import { MAX_CURSOR_ORIGINS, ReplayIndex, formatCursor, parseCursor } from "../src/replay.js";

/** A bus as ReplayIndex sees it: a watermark, received messages and this replica's published ones. */
function fakeBus(origin = "me@00000001") {
  const marks = new Map<string, number>([[origin, 0]]);
  const subs = new Set<(m: BusMessage) => void>();
  const pubs = new Set<(m: BusMessage) => void>();
  return {
    watermark: () => new Map(marks),
    subscribe: (l: (m: BusMessage) => void) => (subs.add(l), () => subs.delete(l)),
    onPublished: (l: (m: BusMessage) => void) => (pubs.add(l), () => pubs.delete(l)),
    receive(kind: string, payload: unknown, from: string, n: number) {
      marks.set(from, n);
      for (const l of subs) l({ kind, from, payload, origin: from, n });
    },
    publish(kind: string, payload: unknown) {
      const n = marks.get(origin)! + 1;
      marks.set(origin, n);
      for (const l of pubs) l({ kind, from: origin, payload, origin, n });
    },
  };
}
const hostsMsg = (host: string, ...changed: string[]) => ({ hosts: [{ host, epoch: 1, changed, full: false }] });
const op = (id: string) => ({ id, host: "kvm1", tenant: null, state: "running" }) as unknown as Operation;
const OTHER = "r2@0000000a";

describe("cluster cursor (ReplayIndex)", () => {
  it("parses only well-formed cursors, bounded in length and origins", () => {
    expect(parseCursor("a@0000000a=1,b.c_d-e@ffffffff=123456789012345")).toEqual(new Map([["a@0000000a", 1], ["b.c_d-e@ffffffff", 123456789012345]]));
    for (const bad of ["", "=1", "a@0000000a", "a@0000000a=", "a@0000000a=-1", "a@0000000a=1.5", "a@0000000a=1e9", "a@0000000a=1234567890123456", "a@0000000A=1", "a@0000000a=1,a@0000000a=2", "a b@0000000a=1", "x".repeat(1201), 42, null])
      expect(parseCursor(bad)).toBeNull();
    const many = Array.from({ length: MAX_CURSOR_ORIGINS + 1 }, (_, i) => `r${i}@0000000a=1`);
    expect(parseCursor(many.slice(0, MAX_CURSOR_ORIGINS).join(","))?.size).toBe(MAX_CURSOR_ORIGINS);
    expect(parseCursor(many.join(","))).toBeNull();
    // A watermark with more origins than a cursor holds keeps the newest.
    expect(parseCursor(formatCursor(new Map(many.map((e) => [e.split("=")[0]!, 1]))))?.has("r0@0000000a")).toBe(false);
    // Long replica names: what a cursor holds stays parseable (fewer origins, the newest).
    const long = new Map(Array.from({ length: 16 }, (_, i) => [`${"x".repeat(60)}${i}@0000000a`, 123456789012345] as const));
    const text = formatCursor(long);
    expect(text.length).toBeLessThanOrEqual(1_200);
    expect(parseCursor(text)?.has(`${"x".repeat(60)}15@0000000a`)).toBe(true);
  });

  it("names what changed after the cursor, per host section and operation, in arrival order; its own messages by their number", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: (h) => h.startsWith("kvm") });
    bus.receive("hosts", hostsMsg("kvm1", "virt"), OTHER, 1);
    const cursor = index.cursor();
    bus.receive("hosts", hostsMsg("kvm2", "net", "virt"), OTHER, 2);
    bus.publish("operation", op("op-1"));
    bus.publish("hosts", hostsMsg("kvm1", "storage"));
    // Not fleet hosts, junk sections, junk payloads: nothing recorded.
    bus.receive("hosts", { hosts: [{ host: "evil", changed: ["virt"] }, { host: "kvm3", changed: ["<script>", 7] }, null] }, OTHER, 3);
    bus.receive("hosts", "junk", OTHER, 4);
    bus.receive("operation", { id: 5 }, OTHER, 5);
    const changes = index.changesSince(cursor)!;
    expect(changes.hosts.map((h) => [h.host, [...h.changed]])).toEqual([
      ["kvm2", ["net", "virt"]],
      ["kvm1", ["storage"]],
    ]);
    expect(changes.operations.map((o) => o.operation.id)).toEqual(["op-1"]);
    expect(index.changesSince(index.cursor())).toEqual({ hosts: [], operations: [] });
  });

  it("a cursor below what was forgotten, or from origins this replica never heard of, is refused (null: reset)", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: () => true, maxOperations: 2 });
    bus.receive("operation", op("a"), OTHER, 1);
    const old = index.cursor();
    for (const id of ["b", "c", "d"]) bus.receive("operation", op(id), OTHER, 2 + ["b", "c", "d"].indexOf(id));
    expect(index.changesSince(old)).toBeNull();
    expect(index.changesSince(`${OTHER}=2`)?.operations.map((o) => o.operation.id)).toEqual(["c", "d"]);
    expect(index.changesSince("ghost@12345678=1")).toBeNull();
    expect(index.changesSince("not a cursor")).toBeNull();
  });
});

/** A host message as ClusterFleet sends it: the connection in `base`, the virt section when it changed. */
const virtMsg = (host: string, domains: { name: string; tenant?: string | null; state: string }[] | null, opts: { connection?: string; changed?: string[]; full?: boolean } = {}) => ({
  hosts: [
    {
      host,
      epoch: 1,
      base: { name: host, connection: { state: opts.connection ?? "online" } },
      sections: domains ? { virt: { domains: domains.map((d) => ({ tenant: null, ...d })) } } : {},
      changed: opts.changed ?? (domains ? ["virt"] : ["connection"]),
      full: opts.full ?? false,
    },
  ],
});

describe("cluster cursor: instances that arrived, left or changed state (the replay's host-instances)", () => {
  it("names per host what arrived, left and changed state after the cursor, and nothing the cursor saw", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: (h) => h.startsWith("kvm") });
    bus.receive("hosts", virtMsg("kvm1", [{ name: "a", state: "running" }, { name: "b", state: "running", tenant: "acme" }], { full: true, changed: ["connection", "virt"] }), OTHER, 1);
    bus.receive("hosts", virtMsg("kvm1", [{ name: "a", state: "running" }, { name: "b", state: "running", tenant: "acme" }, { name: "c", state: "shutoff" }]), OTHER, 2);
    const cursor = index.cursor();
    // After the cursor: b pauses, c leaves, d arrives (one message), then a pauses (this replica's own message).
    bus.receive("hosts", virtMsg("kvm1", [{ name: "a", state: "running" }, { name: "b", state: "paused", tenant: "acme" }, { name: "d", state: "running", tenant: "acme" }]), OTHER, 3);
    bus.publish("hosts", virtMsg("kvm1", [{ name: "a", state: "paused" }, { name: "b", state: "paused", tenant: "acme" }, { name: "d", state: "running", tenant: "acme" }]));
    const [h] = index.changesSince(cursor)!.hosts;
    expect(h!.members).toEqual({ added: [["d", "acme"]], removed: [["c", null]], restated: [["b", "acme"], ["a", null]] });
    // A cursor that saw the first of them gets only the second; the one that saw all, none.
    expect(index.changesSince(`${OTHER}=3`)!.hosts[0]!.members).toEqual({ added: [], removed: [], restated: [["a", null]] });
    expect(index.changesSince(index.cursor())!.hosts).toEqual([]);
  });

  it("a host going offline restates its instances (unknown), coming back restates them again; a host's first record names none", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: () => true });
    bus.receive("hosts", virtMsg("kvm1", [{ name: "a", state: "running" }], { full: true, changed: ["connection", "virt"] }), OTHER, 1);
    expect(index.changesSince(`${OTHER}=0,me@00000001=0`)!.hosts[0]!.members).toBeUndefined();
    const cursor = index.cursor();
    bus.receive("hosts", virtMsg("kvm1", null, { connection: "unreachable" }), OTHER, 2);
    expect(index.changesSince(cursor)!.hosts[0]!.members).toEqual({ added: [], removed: [], restated: [["a", null]] });
    const offline = index.cursor();
    bus.receive("hosts", virtMsg("kvm1", null, { connection: "online" }), OTHER, 3);
    expect(index.changesSince(offline)!.hosts[0]!.members?.restated).toEqual([["a", null]]);
    // A section change that moves nothing a page shows (storage) names no instance.
    const now = index.cursor();
    bus.receive("hosts", { hosts: [{ host: "kvm1", epoch: 1, base: { connection: { state: "online" } }, sections: {}, changed: ["storage"], full: false }] }, OTHER, 4);
    expect(index.changesSince(now)!.hosts[0]!.members).toBeUndefined();
  });

  it("keeps a bounded log per host: older changes merge, so an old cursor gets every name it missed (and a few more), never fewer", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: () => true });
    bus.receive("hosts", virtMsg("kvm1", [], { full: true, changed: ["connection", "virt"] }), OTHER, 1);
    const cursor = index.cursor();
    const names: string[] = [];
    for (let i = 0; i < 40; i++) {
      names.push(`vm${i}`);
      bus.receive("hosts", virtMsg("kvm1", names.map((name) => ({ name, state: "running" }))), OTHER, 2 + i);
    }
    expect(index.changesSince(cursor)!.hosts[0]!.members!.added.map(([n]) => n).sort()).toEqual([...names].sort());
    // Near the end: at least the last two arrivals, at most what the merged deltas hold.
    const late = index.changesSince(`${OTHER}=39`)!.hosts[0]!.members!.added.map(([n]) => n);
    expect(late).toEqual(expect.arrayContaining(["vm38", "vm39"]));
    expect(late.length).toBeLessThan(40);
  });

  it("hostile or malformed domains are skipped, not thrown on", () => {
    const bus = fakeBus();
    const index = new ReplayIndex(bus, { isHost: () => true });
    bus.receive("hosts", virtMsg("kvm1", [{ name: "a", state: "running" }], { full: true, changed: ["connection", "virt"] }), OTHER, 1);
    const cursor = index.cursor();
    const junk = { hosts: [{ host: "kvm1", epoch: 1, base: { connection: { state: 7 } }, sections: { virt: { domains: [null, { name: 5, state: "x" }, { name: "b", state: "running", tenant: { evil: true } }, "zzz"] } }, changed: ["virt"], full: false }] };
    bus.receive("hosts", junk, OTHER, 2);
    bus.receive("hosts", { hosts: [{ host: "kvm1", epoch: 1, sections: { virt: { domains: "nope" } }, changed: ["virt"], full: false }] }, OTHER, 3);
    const m = index.changesSince(cursor)!.hosts[0]!.members!;
    expect(m.added).toEqual([["b", null]]);
    expect(m.removed).toEqual([["a", null], ["b", null]]);
  });
});
