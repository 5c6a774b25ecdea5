import { describe, expect, it } from "vitest";
import type { ObjectSample } from "@nimbus/domain";
import { MetricsRecorder } from "../src/services/metrics-recorder.js";
import { healthFleet } from "./health-fleet.js";

describe("MetricsRecorder hands a round over in slices", () => {
  it("one slice a turn, rounds in order, the rest at stop; every sample once", () => {
    const { fleet } = healthFleet(30, 9);
    const recorded: ObjectSample[][] = [];
    const turns: (() => void)[] = [];
    const recorder = new MetricsRecorder(fleet, { record: (s) => recorded.push(s), vipEvents: () => {}, slice: 50, nextTurn: (f) => turns.push(f) });
    const t0 = Date.UTC(2030, 0, 1);
    const first = recorder.sample(t0);
    expect(first.length).toBeGreaterThan(300);
    // The first slice at once, nothing more before the loop turns.
    expect(recorded.map((s) => s.length)).toEqual([50]);
    const second = recorder.sample(t0 + 10_000);
    expect(recorded).toHaveLength(1);
    while (turns.length) turns.shift()!();
    // Every slice at most 50, the first round wholly before the second.
    expect(recorded.every((s) => s.length <= 50)).toBe(true);
    const flat = recorded.flat();
    expect(flat).toEqual([...first, ...second]);
    // At stop, what is still queued is handed over at once (the writer's flush comes after).
    recorded.length = 0;
    const third = recorder.sample(t0 + 20_000);
    recorder.stop();
    expect(recorded.flat()).toEqual(third);
    expect(turns).toHaveLength(1);
    turns.shift()!();
    expect(recorded.flat()).toEqual(third);
  });
});
