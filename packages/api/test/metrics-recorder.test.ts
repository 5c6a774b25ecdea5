import { describe, expect, it } from "vitest";
import { sampleFleet, type ObjectSample } from "@nimbus/domain";
import { MetricsRecorder } from "../src/services/metrics-recorder.js";
import { healthFleet } from "./health-fleet.js";

describe("MetricsRecorder samples a round in slices", () => {
  it("one slice of hosts a turn, then datastores and services; rounds in order, the rest at stop; the same samples as one pass", () => {
    const { fleet, hosts } = healthFleet(30, 9);
    const recorded: ObjectSample[][] = [];
    const turns: (() => void)[] = [];
    const recorder = new MetricsRecorder(fleet, { record: (s) => recorded.push(s), vipEvents: () => {}, slice: 8, nextTurn: (f) => turns.push(f) });
    const t0 = Date.UTC(2030, 0, 1);
    // 34 hosts: 5 slices of at most 8 hosts (72 samples), then the datastore and the services.
    expect(recorder.sample(t0)).toBe(6);
    // The first slice at once, nothing more before the loop turns.
    expect(recorded.map((s) => s.length)).toEqual([8 * 10]);
    recorder.sample(t0 + 10_000);
    expect(recorded).toHaveLength(1);
    while (turns.length) turns.shift()!();
    expect(recorded.every((s) => s.length <= 80)).toBe(true);
    // The first round wholly before the second, each as sampleFleet takes it in one pass.
    expect(recorded.flat()).toEqual([...sampleFleet(hosts, t0), ...sampleFleet(hosts, t0 + 10_000)]);
    expect(recorded.flat().filter((s) => s.object.startsWith("service:")).length).toBe(6);
    // At stop, what is still to sample is sampled and handed over at once (the writer's flush comes after).
    recorded.length = 0;
    recorder.sample(t0 + 20_000);
    recorder.stop();
    expect(recorded.flat()).toEqual(sampleFleet(hosts, t0 + 20_000));
    while (turns.length) turns.shift()!();
    expect(recorded.flat()).toEqual(sampleFleet(hosts, t0 + 20_000));
  });
});
