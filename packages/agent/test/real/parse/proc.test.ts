import { describe, expect, it } from "vitest";
import { cpuUsagePct, parseCpuinfo, parseMeminfo, parseOsRelease, parseProcStat, parseUptime } from "../../../src/real/parse/proc.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

describe("/proc parsers", () => {
  it("reads cpuinfo: model, count, flags", () => {
    const cpu = parseCpuinfo(sample("proc-cpuinfo.txt"));
    expect(cpu.count).toBe(2);
    expect(cpu.model).not.toBe("unknown");
    expect(cpu.features).toContain("fpu");
  });
  it("rejects cpuinfo without processors", () => expectUnparseable(() => parseCpuinfo("hello\n"), "/proc/cpuinfo", /processor/));
  it("reads meminfo as MiB used = total - available", () => {
    const m = parseMeminfo("MemTotal:       2048000 kB\nMemFree:         100000 kB\nMemAvailable:   1024000 kB\n");
    expect(m).toEqual({ totalMiB: 2000, usedMiB: 1000 });
    expect(parseMeminfo(sample("proc-meminfo.txt")).totalMiB).toBeGreaterThan(0);
  });
  it("rejects meminfo without MemAvailable", () => expectUnparseable(() => parseMeminfo("MemTotal: 1 kB\n"), "/proc/meminfo", /MemAvailable/));
  it("computes CPU usage between two /proc/stat readings", () => {
    const a = parseProcStat("cpu  100 0 100 800 0 0 0 0 0 0\n");
    const b = parseProcStat("cpu  150 0 150 900 0 0 0 0 0 0\n");
    expect(cpuUsagePct(a, b)).toBe(50);
    expect(cpuUsagePct(a, a)).toBe(0);
    expect(parseProcStat(sample("proc-stat.txt")).total).toBeGreaterThan(0);
  });
  it("rejects /proc/stat without the cpu line", () => expectUnparseable(() => parseProcStat("intr 1 2 3\n"), "/proc/stat", /cpu/));
  it("reads uptime and os-release", () => {
    expect(parseUptime(sample("proc-uptime.txt"))).toBeGreaterThan(0);
    expect(parseOsRelease(sample("os-release.txt"))).toMatch(/Debian/);
    expect(parseOsRelease('NAME="Alpine"\nVERSION=3.20\n')).toBe("Alpine 3.20");
  });
  it("rejects garbage uptime and os-release", () => {
    expectUnparseable(() => parseUptime("soon"), "/proc/uptime");
    expectUnparseable(() => parseOsRelease("# nothing\n"), "/etc/os-release");
  });
});
