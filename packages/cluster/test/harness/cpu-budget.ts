import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const V2_ROOT = "/sys/fs/cgroup";
const V1_CPU = "/sys/fs/cgroup/cpu";
const PERIOD_US = 100_000;

/**
 * A CPU budget for the processes put in it: their own cgroup with a CFS quota of `cores` cores, as
 * if they ran on a machine of that size. The replicas benchmark (`--cpus-per-replica`) gives each
 * replica one, so N replicas are compared with one on equal machines rather than on this one box,
 * whose two cores the lab (2,000 simulated hosts) and PostgreSQL share with them.
 * cgroup v2 (`cpu.max`) or v1 (the `cpu` controller's `cpu.cfs_quota_us`); needs root.
 */
export class CpuBudget {
  private constructor(
    readonly dir: string,
    private readonly v2: boolean,
  ) {}

  static create(name: string, cores: number): CpuBudget {
    if (!(Number.isFinite(cores) && cores > 0 && cores <= 256)) throw new Error(`a CPU budget wants 0 to 256 cores, got ${cores}`);
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(name)) throw new Error(`not a cgroup name: ${JSON.stringify(name)}`);
    const quota = String(Math.max(1_000, Math.round(cores * PERIOD_US)));
    try {
      if (existsSync(join(V2_ROOT, "cgroup.controllers"))) {
        const enabled = readFileSync(join(V2_ROOT, "cgroup.subtree_control"), "utf8").split(/\s+/);
        if (!enabled.includes("cpu")) writeFileSync(join(V2_ROOT, "cgroup.subtree_control"), "+cpu");
        const dir = join(V2_ROOT, name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "cpu.max"), `${quota} ${PERIOD_US}`);
        return new CpuBudget(dir, true);
      }
      if (!existsSync(join(V1_CPU, "cpu.cfs_quota_us"))) throw new Error(`no cgroup CPU controller here (neither ${V2_ROOT}/cgroup.controllers nor ${V1_CPU})`);
      const dir = join(V1_CPU, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "cpu.cfs_period_us"), String(PERIOD_US));
      writeFileSync(join(dir, "cpu.cfs_quota_us"), quota);
      return new CpuBudget(dir, false);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EBUSY: cgroup v2 will not enable a controller under a cgroup that holds processes (a container's root).
      if (code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "EBUSY")
        throw new Error(`a CPU budget needs root and a cgroup file system whose cpu controller it may use: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Moves a process (all its threads) into the budget; children it starts later stay in it. */
  add(pid: number): void {
    writeFileSync(join(this.dir, "cgroup.procs"), String(pid));
  }

  /** How long its processes waited for the budget so far (throttled), in seconds. */
  throttledSeconds(): number {
    const stat = readFileSync(join(this.dir, "cpu.stat"), "utf8");
    const v = (key: string) => Number(stat.match(new RegExp(`^${key} (\\d+)$`, "m"))?.[1] ?? NaN);
    return this.v2 ? v("throttled_usec") / 1e6 : v("throttled_time") / 1e9;
  }

  /** Removes the cgroup once its processes have exited (a cgroup still in use is left as it is). */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // EBUSY: a process is still in it; ENOENT: already gone.
    }
  }
}
