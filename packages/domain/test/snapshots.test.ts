import { describe, expect, it } from "vitest";
import { Snapshot, SnapshotCreateParams, methodSpec, snapshotState, snapshotsAllowed } from "../src/index.js";

describe("snapshotsAllowed", () => {
  it("allows a VM whose disks are all qcow2", () => {
    expect(snapshotsAllowed([{ target: "vda", format: "qcow2" }, { target: "vdb", format: "qcow2" }])).toEqual({ ok: true });
  });
  it("refuses a raw disk and names it, with the reason", () => {
    const r = snapshotsAllowed([{ target: "vda", format: "qcow2" }, { target: "vdb", format: "raw" }]);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/need qcow2.*vdb is raw/) });
  });
  it("counts a disk without a stated format as raw, as libvirt does", () => {
    expect(snapshotsAllowed([{ target: "vda", format: null }])).toEqual({ ok: false, reason: expect.stringMatching(/vda is raw \(no format set\)/) });
  });
});

describe("snapshot schemas", () => {
  it("names are identifiers: an option, a path or a shell word is refused", () => {
    for (const name of ["--atomic", "-x", "../x", "a b", "a;b", "", "x".repeat(64)])
      expect(SnapshotCreateParams.safeParse({ domain: "web1", name }).success, name).toBe(false);
    expect(SnapshotCreateParams.parse({ domain: "web1", name: "before-upgrade_1.2" })).toEqual({ domain: "web1", name: "before-upgrade_1.2", description: "" });
  });
  it("a description is one bounded line", () => {
    expect(SnapshotCreateParams.safeParse({ domain: "web1", name: "s", description: "a\nb" }).success).toBe(false);
    expect(SnapshotCreateParams.safeParse({ domain: "web1", name: "s", description: "x".repeat(501) }).success).toBe(false);
    expect(SnapshotCreateParams.safeParse({ domain: "web1", name: "s", description: "--atomic é ok" }).success).toBe(true);
  });
  it("a host's snapshot list is bounded and long descriptions are cut", () => {
    const snap = { name: "s", createdAt: "2026-01-01T00:00:00.000Z", state: "running", description: "d".repeat(5000), current: true };
    expect(Snapshot.parse(snap).description.length).toBe(500);
    const result = methodSpec("virt.snapshotList")!.result;
    expect(result.safeParse({ allowed: { ok: true }, snapshots: Array(1025).fill(snap) }).success).toBe(false);
  });
  it("maps libvirt's snapshot states to VM states", () => {
    expect(snapshotState("running")).toBe("running");
    expect(snapshotState("disk-snapshot")).toBe("shutoff");
    expect(snapshotState("pmsuspended")).toBe("suspended");
    expect(snapshotState("weird")).toBe("other");
  });
});
