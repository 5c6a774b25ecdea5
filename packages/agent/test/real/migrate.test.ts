import { describe, expect, it } from "vitest";
import { MigrateOptions, MigrationProgress } from "@nimbus/domain";
import { initialProgress, migrateArgs, nextProgress } from "../../src/real/migrate.js";
import type { JobInfo } from "../../src/real/parse/virsh.js";

const params = (options: Partial<MigrateOptions> = {}) => ({
  jobId: "j1",
  domain: "pa-vm1",
  destination: { host: "kvm2", uri: "qemu+ssh://kvm2/system" },
  options: MigrateOptions.parse(options),
});
const job = (over: Partial<JobInfo>): JobInfo => ({
  type: "Unbounded",
  operation: "Outgoing migration",
  processedBytes: 0,
  remainingBytes: 0,
  totalBytes: 100,
  bandwidthBytesPerSec: 10,
  dirtyRateBytesPerSec: 0,
  iteration: 1,
  expectedDowntimeMs: 300,
  totalDowntimeMs: null,
  ...over,
});

describe("virsh migrate arguments", () => {
  it("are a live, persistent move that undefines the source", () => {
    expect(migrateArgs(params(), false, "60e025f5-28a4-48d2-89b6-08076bc1fa91")).toEqual(["migrate", "--live", "--persistent", "--undefinesource", "--", "60e025f5-28a4-48d2-89b6-08076bc1fa91", "qemu+ssh://kvm2/system"]);
  });
  it("carry bandwidth, auto-converge, post-copy and --unsafe only when asked", () => {
    expect(migrateArgs(params({ bandwidthMiBps: 50, autoConverge: true, postCopy: true }), true)).toEqual([
      "migrate", "--live", "--persistent", "--undefinesource", "--auto-converge", "--postcopy", "--postcopy-after-precopy", "--bandwidth", "50", "--unsafe", "--", "pa-vm1", "qemu+ssh://kvm2/system",
    ]);
  });
});

describe("migration progress", () => {
  it("is monotonic while later iterations re-send dirty memory", () => {
    let p = initialProgress();
    const seen: number[] = [];
    for (const j of [job({ remainingBytes: 60, iteration: 1 }), job({ remainingBytes: 10, iteration: 1 }), job({ remainingBytes: 30, iteration: 2 }), job({ remainingBytes: 0, iteration: 3 })]) {
      p = nextProgress(p, j);
      MigrationProgress.parse(p);
      seen.push(p.percent);
    }
    expect(seen).toEqual([40, 90, 90, 99]);
    expect(p).toMatchObject({ phase: "switchover", iteration: 3 });
  });
  it("ignores samples without an active job", () => {
    const p = initialProgress();
    expect(nextProgress(p, job({ type: "None", totalBytes: 0 }))).toBe(p);
  });
});
