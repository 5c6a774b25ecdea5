import { describe, expect, it } from "vitest";
import { applyCheckResult, describeCheckState, initialCheckState, type CheckState } from "../../src/index.js";

const t = { rise: 2, fall: 3 };
const run = (results: boolean[], from: CheckState = initialCheckState()) =>
  results.reduce((s, ok, i) => applyCheckResult(s, ok, `t${i}`, t), from);

describe("active check state (HAProxy rise/fall)", () => {
  it("stays unknown until rise successes or fall failures in a row decide it", () => {
    expect(run([true]).status).toBe("unknown");
    expect(run([true, true]).status).toBe("up");
    expect(run([false, false]).status).toBe("unknown");
    expect(run([false, false, false]).status).toBe("down");
    // A failure in between restarts the count.
    expect(run([true, false, true]).status).toBe("unknown");
  });

  it("goes DOWN after exactly `fall` consecutive failures and names the moment", () => {
    const up = run([true, true]);
    expect(up.since).toBe("t1");
    const one = applyCheckResult(up, false, "a", t);
    const two = applyCheckResult(one, false, "b", t);
    expect([one.status, two.status]).toEqual(["up", "up"]);
    expect(describeCheckState(two, t)).toBe("UP 2/3");
    const three = applyCheckResult(two, false, "c", t);
    expect(three).toMatchObject({ status: "down", since: "c" });
    expect(describeCheckState(three, t)).toBe("DOWN");
  });

  it("comes back UP after `rise` consecutive successes", () => {
    const down = run([false, false, false]);
    const one = applyCheckResult(down, true, "a", t);
    expect(one.status).toBe("down");
    expect(describeCheckState(one, t)).toBe("DOWN 1/2");
    expect(applyCheckResult(one, true, "b", t)).toMatchObject({ status: "up", since: "b" });
  });

  it("a success while going down resets the count (flapping never takes an UP target down)", () => {
    let s = run([true, true]);
    for (let i = 0; i < 50; i++) s = applyCheckResult(s, i % 2 === 0, `f${i}`, t);
    expect(s.status).toBe("up");
    expect(s.since).toBe("t1");
    // …and a DOWN target flapping one success, one failure never comes up.
    let d = run([false, false, false]);
    for (let i = 0; i < 50; i++) d = applyCheckResult(d, i % 2 === 0, `f${i}`, t);
    expect(d.status).toBe("down");
  });

  it("fall 1 and rise 1 flip on every result", () => {
    const t1 = { rise: 1, fall: 1 };
    let s = applyCheckResult(initialCheckState(), true, "a", t1);
    expect(s.status).toBe("up");
    s = applyCheckResult(s, false, "b", t1);
    expect(s.status).toBe("down");
    s = applyCheckResult(s, true, "c", t1);
    expect(s.status).toBe("up");
  });
});
