import { readFileSync } from "node:fs";
import { initialProgress, nextProgress } from "../../../src/real/migrate.js";
import { describe, expect, it } from "vitest";
import {
  blockCapacities,
  parseDomjobinfo,
  parseDominfo,
  parseDomstate,
  parseDomstats,
  parseNodeinfo,
  parseVersion,
  parseUuidList,
} from "../../../src/real/parse/virsh.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

describe("virsh list --all --uuid [--name], pool-list --all --uuid", () => {
  const u1 = "60e025f5-28a4-48d2-89b6-08076bc1fa91";
  const u2 = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  it("reads UUIDs alone", () => {
    expect(parseUuidList("virsh list", `${u1}\n${u2}\n\n`)).toEqual([{ uuid: u1, name: null }, { uuid: u2, name: null }]);
  });
  it("reads names as libvirt has them: not escaped, spaces kept, padding dropped", () => {
    expect(parseUuidList("virsh list", `${u1} café au lait\n${u2} --all                         \n`)).toEqual([
      { uuid: u1, name: "café au lait" },
      { uuid: u2, name: "--all" },
    ]);
  });
  it("reads an empty list", () => expect(parseUuidList("virsh list", "\n")).toEqual([]));
  it("rejects the table (a line that does not start with a UUID)", () =>
    expectUnparseable(() => parseUuidList("virsh list", sample("virsh-qemu-list-all.txt")), "virsh list", /UUID/));
  it("rejects a UUID run into a name", () => expectUnparseable(() => parseUuidList("virsh pool-list", `${u1}x\n`), "virsh pool-list", /UUID/));
});

describe("virsh dominfo", () => {
  it("reads the real QEMU output, including multi-line messages", () => {
    expect(parseDominfo(sample("virsh-qemu-dominfo-kvm.txt"))).toEqual({
      name: "pa-vm1",
      uuid: "60e025f5-28a4-48d2-89b6-08076bc1fa91",
      state: "running",
      vcpus: 1,
      maxMemoryKiB: 65536,
      persistent: true,
      autostart: false,
    });
  });
  it("reads the test driver's output", () => {
    expect(parseDominfo(sample("virsh-test-dominfo.txt"))).toMatchObject({ name: "test", vcpus: 2, maxMemoryKiB: 8388608 });
  });
  it("rejects output missing a field", () =>
    expectUnparseable(() => parseDominfo(sample("virsh-qemu-dominfo-kvm.txt").replace(/^UUID:.*\n/m, "")), "virsh dominfo", /UUID/));
  it("rejects garbage", () => expectUnparseable(() => parseDominfo("<html>oops</html>"), "virsh dominfo"));
  it("rejects a CPU count that is not a number", () =>
    expectUnparseable(() => parseDominfo(sample("virsh-test-dominfo.txt").replace("CPU(s):         2", "CPU(s):         two")), "virsh dominfo", /CPU/));
});

describe("virsh nodeinfo", () => {
  it("reads the real QEMU host", () => {
    expect(parseNodeinfo(sample("virsh-qemu-nodeinfo.txt"))).toEqual({ cpuModel: "x86_64", cpus: 2, mhz: 2596, memoryKiB: 6514904 });
  });
  it("rejects truncated output", () =>
    expectUnparseable(() => parseNodeinfo(sample("virsh-qemu-nodeinfo.txt").split("\n").slice(0, 2).join("\n")), "virsh nodeinfo", /Memory size|CPU frequency/));
});

describe("virsh domjobinfo", () => {
  it("reads an idle domain", () => {
    expect(parseDomjobinfo(sample("virsh-qemu-domjobinfo-idle.txt"))).toMatchObject({ type: "None", totalBytes: 0, iteration: 0, expectedDowntimeMs: null });
  });
  // No migration was captured in shared/samples yet (the test driver cannot migrate); these lines
  // follow virsh-domain.c's printf formats ("%-17s %-.3lf %s", "%-17s %-12llu ms", ...).
  const migrating = [
    "Job type:         Unbounded   ",
    "Operation:        Outgoing migration",
    "Time elapsed:     1002         ms",
    "Data processed:   63.156 MiB",
    "Data remaining:   17.758 MiB",
    "Data total:       80.914 MiB",
    "Memory processed: 63.156 MiB",
    "Memory remaining: 17.758 MiB",
    "Memory total:     80.914 MiB",
    "Memory bandwidth: 62.826 MiB/s",
    "Dirty rate:       120          pages/s",
    "Page size:        4096         bytes",
    "Iteration:        2           ",
    "Postcopy requests: 0           ",
    "Expected downtime: 300          ms",
    "Setup time:       2            ms",
    "",
  ].join("\n");
  it("reads a migration in progress", () => {
    const job = parseDomjobinfo(migrating);
    expect(job).toMatchObject({ type: "Unbounded", operation: "Outgoing migration", iteration: 2, expectedDowntimeMs: 300, totalDowntimeMs: null });
    expect(job.totalBytes).toBe(Math.round(80.914 * 1024 * 1024));
    expect(job.remainingBytes).toBe(Math.round(17.758 * 1024 * 1024));
    expect(job.bandwidthBytesPerSec).toBe(Math.round(62.826 * 1024 * 1024));
    expect(job.dirtyRateBytesPerSec).toBe(120 * 4096);
  });
  it("reads a completed migration's downtime", () => {
    const completed = migrating.replace("Unbounded", "Completed").replace("Expected downtime: 300          ms", "Total downtime:   42           ms");
    expect(parseDomjobinfo(completed)).toMatchObject({ type: "Completed", totalDowntimeMs: 42, expectedDowntimeMs: null });
  });
  it("converts a dirty rate in pages/s with the page size", () => {
    const job = parseDomjobinfo("Job type: Unbounded\nData total: 1.000 MiB\nDirty rate: 10 pages/s\nPage size: 4096 bytes\n");
    expect(job.dirtyRateBytesPerSec).toBe(40960);
  });
  it("reads a migration's first moments, before libvirt knows the totals (real capture)", () => {
    const early = readFileSync(new URL("../../../../lab-real/samples/kvm1/virsh-domjobinfo-migrating-2.txt", import.meta.url), "utf8");
    const job = parseDomjobinfo(early);
    expect(job).toMatchObject({ type: "Unbounded", operation: "Outgoing migration", totalBytes: 0, processedBytes: 0 });
    expect(nextProgress(initialProgress(), job)).toMatchObject({ phase: "preparing", percent: 0 });
  });
  it("rejects a size it cannot read", () =>
    expectUnparseable(() => parseDomjobinfo("Job type: Unbounded\nData total: lots\n"), "virsh domjobinfo", /size/));
  it("rejects output without a job type", () => expectUnparseable(() => parseDomjobinfo("Iteration: 2\n"), "virsh domjobinfo", /Job type/));
});

describe("virsh domstate --reason", () => {
  it("reads state and reason", () => {
    expect(parseDomstate(sample("virsh-qemu-domstate-reason.txt"))).toEqual({ state: "running", reason: "migrated" });
    expect(parseDomstate(sample("virsh-test-domstate-reason-shutoff.txt"))).toEqual({ state: "shutoff", reason: "shutdown" });
  });
  it("rejects garbage", () => expectUnparseable(() => parseDomstate("error: 42"), "virsh domstate"));
});

describe("virsh domstats", () => {
  it("reads block capacities per target", () => {
    const stats = parseDomstats(sample("virsh-qemu-domstats.txt"));
    expect([...stats.keys()]).toEqual(["pa-vm1"]);
    expect(blockCapacities(stats.get("pa-vm1"))).toEqual(new Map([["vda", 67108864]]));
  });
  it("reads domains without block stats", () => {
    expect(blockCapacities(parseDomstats(sample("virsh-test-domstats.txt")).get("test"))).toEqual(new Map());
  });
  it("rejects a field outside any domain", () => expectUnparseable(() => parseDomstats("  state.state=1\n"), "virsh domstats"));
});

describe("virsh version", () => {
  it("reads the hypervisor", () => {
    expect(parseVersion(sample("virsh-qemu-version.txt"))).toEqual({ library: "9.0.0", hypervisor: "QEMU 7.2.22" });
    expect(parseVersion(sample("virsh-test-version.txt")).hypervisor).toBe("TEST 0.0.2");
  });
  it("rejects a version without hypervisor", () =>
    expectUnparseable(() => parseVersion("Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\n"), "virsh version", /hypervisor/));
});
