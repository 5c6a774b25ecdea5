import { describe, expect, it } from "vitest";
import { ImageRef, LineRate, LogLine, LOG_LIMITS, updateOutcome } from "../../src/index.js";

describe("service update rules", () => {
  it("accepts image references docker takes and refuses options and odd text", () => {
    for (const ok of ["nginx", "nginx:1.25", "registry:5000/team/app:1.2", `app@sha256:${"a".repeat(64)}`, "pa-busybox:2"]) expect(ImageRef.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["", "-rm", "--image=x", "Nginx", "app:tag with space", "a;b", "x".repeat(300), "app:"]) expect(ImageRef.safeParse(bad).success, bad).toBe(false);
  });

  it("an update ends when docker completes, pauses or rolls back on its own", () => {
    expect(updateOutcome("updating", false)).toBeNull();
    expect(updateOutcome("completed", false)).toBe("succeeded");
    expect(updateOutcome("paused", false)).toBe("failed");
    expect(updateOutcome("rollback_started", false)).toBe("failed");
    expect(updateOutcome("rollback_started", true)).toBeNull();
    expect(updateOutcome("rollback_completed", true)).toBe("succeeded");
    expect(updateOutcome("rollback_paused", true)).toBe("failed");
  });
});

describe("log bounds", () => {
  it("cuts long lines", () => {
    const line = LogLine.parse({ at: null, task: null, node: null, text: "x".repeat(LOG_LIMITS.lineChars + 50) });
    expect(line.text).toHaveLength(LOG_LIMITS.lineChars);
    expect(line.text.endsWith("…")).toBe(true);
  });

  it("admits at most N lines per second window and counts the rest", () => {
    const rate = new LineRate(3);
    const admitted = [0, 10, 20, 30, 40].map((t) => rate.admit(t));
    expect(admitted).toEqual([true, true, true, false, false]);
    expect(rate.takeDropped()).toBe(2);
    expect(rate.admit(1000)).toBe(true);
    expect(rate.takeDropped()).toBe(0);
  });
});
