import type { FleetView } from "@nimbus/fleet";
import { afterEach, describe, expect, it, vi } from "vitest";
import { everyHostAnswered } from "../src/fleet-answered.js";

afterEach(() => vi.useRealTimers());

/** A fleet view whose hosts' states the test sets. */
function fleetOf(states: string[]) {
  const fleet = { hosts: () => states.map((state, i) => ({ name: `h${i}`, connection: { state } })) } as unknown as FleetView;
  return { fleet, states };
}

describe("everyHostAnswered (replica mode: what waits for the fleet's start)", () => {
  it("resolves once no host is connecting any more (online or failed), not before", async () => {
    vi.useFakeTimers();
    const { fleet, states } = fleetOf(["online", "connecting", "connecting"]);
    let done = false;
    void everyHostAnswered(fleet, { capMs: 60_000 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(done).toBe(false);
    states[1] = "online";
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done).toBe(false);
    // A host that failed its first attempt has answered too.
    states[2] = "unreachable";
    await vi.advanceTimersByTimeAsync(250);
    expect(done).toBe(true);
  });

  it("gives up waiting after capMs (a dead owner's hosts stay connecting until re-owned), and at once when the server stops", async () => {
    vi.useFakeTimers();
    const { fleet } = fleetOf(["connecting"]);
    let done = false;
    void everyHostAnswered(fleet, { capMs: 30_000 }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(29_000);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1_250);
    expect(done).toBe(true);
    let stopped = false;
    let done2 = false;
    void everyHostAnswered(fleet, { capMs: 30_000, stopped: () => stopped }).then(() => (done2 = true));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(done2).toBe(false);
    stopped = true;
    await vi.advanceTimersByTimeAsync(250);
    expect(done2).toBe(true);
  });
});
