import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CpuBudget } from "./harness/cpu-budget.js";

/** A process that spins for `ms` of wall time and prints the CPU seconds it got meanwhile. */
function spin(ms: number, budget: CpuBudget | null): Promise<number> {
  const child = spawn(process.execPath, ["-e", `const t = Date.now(); while (Date.now() - t < ${ms}); const u = process.cpuUsage(); console.log((u.user + u.system) / 1e6);`], { stdio: ["ignore", "pipe", "inherit"] });
  budget?.add(child.pid!);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  return new Promise((resolve, reject) => child.on("exit", (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`spin exited ${code}`)))));
}

/** Root, and a cgroup CPU controller this kernel offers (v1's cpu hierarchy, or cpu among v2's controllers). */
const canBudget =
  process.getuid?.() === 0 &&
  (existsSync("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") || (existsSync("/sys/fs/cgroup/cgroup.controllers") && /\bcpu\b/.test(readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8"))));

describe("CpuBudget (the replicas benchmark's machine per replica)", () => {
  it("refuses a budget of no cores, too many, or a name that is not one cgroup", () => {
    expect(() => CpuBudget.create("nimbus-test", 0)).toThrow(/0 to 256 cores/);
    expect(() => CpuBudget.create("nimbus-test", Number.NaN)).toThrow(/0 to 256 cores/);
    expect(() => CpuBudget.create("nimbus-test", 1_000)).toThrow(/0 to 256 cores/);
    expect(() => CpuBudget.create("../escape", 1)).toThrow(/not a cgroup name/);
    expect(() => CpuBudget.create("a/b", 1)).toThrow(/not a cgroup name/);
  });

  // Writing cgroups needs root (CI runs as root; the real lab needs it too).
  it.runIf(canBudget)("a process in a 0.2-core budget gets about a fifth of a core, is throttled, and the cgroup goes with remove()", async () => {
    const budget = CpuBudget.create(`nimbus-test-${process.pid}`, 0.2);
    try {
      const cpu = await spin(1_500, budget);
      // Without the budget it would get ~1.5 s on an idle core; within it ~0.3 s (a period's slack either
      // way, and less on a loaded machine). It spent time waiting for the budget, not only for a core.
      expect(cpu).toBeGreaterThan(0.02);
      expect(cpu).toBeLessThan(0.6);
      expect(budget.throttledSeconds()).toBeGreaterThan(0);
    } finally {
      budget.remove();
    }
    expect(existsSync(budget.dir)).toBe(false);
  }, 20_000);
});
