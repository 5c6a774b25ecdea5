import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { Timeline } from "@nimbus/domain";
import { TimelineView } from "./timeline-view";
import { formatValue, resolveRange, summarize, toColumns } from "@/features/charts/chart-format";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const H = 3_600_000;

const timeline: Timeline = {
  from: T0,
  to: T0 + H,
  lanes: [
    { id: "vip:10.0.0.100", label: "VIP 10.0.0.100 holder", spans: [{ from: T0, to: T0 + H / 2, state: "ok", message: "held by nfs1" }, { from: T0 + H / 2, to: T0 + H / 2 + 4000, state: "crit", message: "no holder" }, { from: T0 + H / 2 + 4000, to: null, state: "ok", message: "held by nfs2" }] },
    { id: "host:kvm1", label: "host:kvm1", spans: [{ from: T0, to: null, state: "warn", message: "slow" }] },
  ],
  events: [
    { at: T0 + H - 60_000, kind: "operation", title: "Migrate web1 from kvm1 to kvm2", detail: "succeeded", by: "Ada", ref: "op-1", tone: "ok", end: T0 + H - 30_000 },
    { at: T0 + H / 2, kind: "failover", title: "VIP 10.0.0.100 moved from nfs1 to nfs2", detail: "the NFS server stopped on nfs1; without a holder for 4 s", by: null, ref: "10.0.0.100", tone: "warn", end: T0 + H / 2 + 4000 },
  ],
  failovers: [],
  nextBefore: null,
};

describe("the timeline renderer", () => {
  it("draws a lane per check with spans placed by time, and the events newest first with links to operations", () => {
    const html = renderToStaticMarkup(<TimelineView timeline={timeline} />);
    expect(html).toContain('data-testid="timeline-lane-vip:10.0.0.100"');
    // The crit span starts half-way along the track.
    expect(html).toMatch(/data-state="crit"[^>]*style="left:50%/);
    expect(html.indexOf("Migrate web1")).toBeLessThan(html.indexOf("moved from nfs1 to nfs2"));
    expect(html).toContain('href="/operations/op-1"');
    expect(html).toContain("took 30 s");
    expect(html).not.toContain("timeline-older");
  });

  it("says so when nothing happened, and offers older events when there are more", () => {
    expect(renderToStaticMarkup(<TimelineView timeline={{ ...timeline, lanes: [], events: [] }} />)).toContain("Nothing happened in this range");
    expect(renderToStaticMarkup(<TimelineView timeline={{ ...timeline, nextBefore: T0 }} onOlder={() => {}} />)).toContain("Older events");
  });
});

describe("chart formatting", () => {
  it("says values in their unit, a gap as a dash", () => {
    expect(formatValue(12.345, "%")).toBe("12 %");
    expect(formatValue(3.21, "%")).toBe("3.2 %");
    expect(formatValue(2048, "MiB")).toBe("2.0 GiB");
    expect(formatValue(1, "bool")).toBe("running");
    expect(formatValue(0, "bool")).toBe("stopped");
    expect(formatValue(null, "%")).toBe("–");
  });
  it("a preset ends at the moment it was picked (to the next 10 s), a zoom is kept as is", () => {
    expect(resolveRange({ preset: "1h" }, T0 + 1234)).toEqual({ from: T0 + 10_000 - H, to: T0 + 10_000 });
    expect(resolveRange({ from: 5.4, to: 99.2 }, T0)).toEqual({ from: 5, to: 100 });
  });
  it("the summary is the latest mean and the highest maximum; columns keep gaps as null", () => {
    const pts = [
      { t: 1000, avg: 10, max: 50 },
      { t: 2000, avg: null, max: null },
      { t: 3000, avg: 20, max: 30 },
    ];
    expect(summarize(pts)).toEqual({ last: 20, peak: 50 });
    expect(toColumns(pts)).toEqual([[1, 2, 3], [10, null, 20], [50, null, 30]]);
  });
});
