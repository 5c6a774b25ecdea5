import { describe, expect, it } from "vitest";
import { moveOptionsText } from "./move-text";

describe("move options in words", () => {
  it("list a migration's non-default options", () => {
    expect(moveOptionsText({ kind: "migrate", options: { bandwidthMiBps: 200, maxDowntimeMs: 300, autoConverge: true, postCopy: true } })).toBe(
      "limit 200 MiB/s · max downtime 300 ms · auto-converge · post-copy",
    );
  });
  it("say defaults when a migration ran with none", () => {
    expect(moveOptionsText({ kind: "migrate", options: { bandwidthMiBps: null, maxDowntimeMs: null, autoConverge: false, postCopy: false } })).toBe("defaults");
  });
  it("name a disk move's disk, mode and limit", () => {
    expect(moveOptionsText({ kind: "storage-move", options: { disk: "vdb", mode: "offline", bandwidthMiBps: null } })).toBe("vdb · offline copy · no bandwidth limit");
  });
});
