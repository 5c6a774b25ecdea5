import { describe, expect, it } from "vitest";
import { renderHtml, renderText } from "@/fixtures/render";
import { SnapshotList } from "./snapshot-list";

const snap = { name: "before-upgrade", createdAt: "2026-01-01T00:00:00.000Z", state: "running" as const, description: "clean install", current: true };

describe("SnapshotList", () => {
  it("shows name (current tagged), VM state, description, and the actions only when given", () => {
    const withActions = renderHtml(<SnapshotList data={{ allowed: { ok: true }, snapshots: [snap] }} onRevert={() => undefined} onDelete={() => undefined} />);
    expect(withActions).toContain('data-testid="snapshot-before-upgrade"');
    expect(withActions).toContain("current");
    expect(withActions).toContain("clean install");
    expect(withActions).toContain('data-testid="revert-before-upgrade"');
    const readOnly = renderHtml(<SnapshotList data={{ allowed: { ok: true }, snapshots: [snap] }} />);
    expect(readOnly).not.toContain("revert-before-upgrade");
    expect(readOnly).not.toContain("Delete…");
  });

  it("a VM with a raw disk says why it has no snapshots", () => {
    const text = renderText(<SnapshotList data={{ allowed: { ok: false, reason: "snapshots need qcow2 disks; vda is raw" }, snapshots: [] }} />);
    expect(text).toContain("Snapshots are not available for this instance: snapshots need qcow2 disks; vda is raw.");
    expect(text).toContain("No snapshots");
  });
});
