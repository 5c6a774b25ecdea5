import { describe, expect, it } from "vitest";
import { UNLIMITED, checkQuota, quotaRefusal, quotaRows, tenantUsage } from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";

const GiB = 1024 ** 3;
const disk = (path: string, gib: number) => ({ target: "vda", path, pool: null, capacityBytes: gib * GiB });

describe("tenant usage", () => {
  const hosts = [
    hypervisor("kvm1", [
      vm({ name: "web1", vcpus: 2, memoryMiB: 2048, disks: [disk("/instance/web1.qcow2", 20)] }),
      vm({ name: "db1", state: "shutoff", vcpus: 4, memoryMiB: 8192, disks: [disk("/instance/db1.qcow2", 100), { ...disk("/instance/db1-b.qcow2", 0), capacityBytes: 1.5 * GiB }] }),
      vm({ name: "other", tenant: "globex", vcpus: 8, memoryMiB: 16384 }),
      vm({ name: "manager", tenant: null, vcpus: 2 }),
    ]),
    // A stale shut-off copy of web1 left on kvm2 is the same instance: counted once.
    hypervisor("kvm2", [vm({ name: "web1", state: "shutoff", vcpus: 2, memoryMiB: 2048, disks: [disk("/instance/web1.qcow2", 20)] })]),
  ];

  it("counts every instance of the tenant once, stopped ones too, disks rounded up to GiB", () => {
    expect(tenantUsage("acme", hosts)).toEqual({ instances: 2, vcpus: 6, memoryMiB: 10240, diskGiB: 122 });
    expect(tenantUsage("initech", hosts)).toEqual({ instances: 0, vcpus: 0, memoryMiB: 0, diskGiB: 0 });
  });

  it("adds creates in flight, but not twice once their domain is defined", () => {
    const inFlight = [
      { name: "web2", tenant: "acme", vcpus: 1, memoryMiB: 1024, diskGiB: 10 },
      { name: "web1", tenant: "acme", vcpus: 2, memoryMiB: 2048, diskGiB: 20 },
      { name: "g2", tenant: "globex", vcpus: 1, memoryMiB: 1024, diskGiB: 10 },
    ];
    expect(tenantUsage("acme", hosts, inFlight)).toEqual({ instances: 3, vcpus: 7, memoryMiB: 11264, diskGiB: 132 });
  });
});

describe("checkQuota", () => {
  const usage = { instances: 3, vcpus: 6, memoryMiB: 6144, diskGiB: 90 };
  const quota = { instances: 5, vcpus: 8, memoryMiB: 8192, diskGiB: 100 };

  it("passes a request that fits and anything under an unlimited quota", () => {
    expect(checkQuota(quota, usage, { vcpus: 2, memoryMiB: 2048, diskGiB: 10 })).toEqual([]);
    expect(checkQuota(UNLIMITED, usage, { vcpus: 64, memoryMiB: 262_144, diskGiB: 4096 })).toEqual([]);
  });

  it("names every exceeded dimension with what is left", () => {
    const excess = checkQuota(quota, usage, { vcpus: 4, memoryMiB: 4096, diskGiB: 20 });
    expect(excess.map((e) => e.reason)).toEqual(["needs 4 vCPU, 2 of 8 left", "needs 4096 MiB of RAM, 2048 of 8192 MiB left", "needs 20 GiB of disk, 10 of 100 GiB left"]);
    expect(excess[0]).toMatchObject({ dimension: "vcpus", needs: 4, used: 6, limit: 8, left: 2 });
    expect(quotaRefusal("acme", excess)).toBe(
      "over acme's quota: needs 4 vCPU, 2 of 8 left; needs 4096 MiB of RAM, 2048 of 8192 MiB left; needs 20 GiB of disk, 10 of 100 GiB left",
    );
    expect(quotaRefusal("acme", [])).toBeNull();
  });

  it("refuses the instance over the count, and says 0 left when an admin lowered the quota below usage", () => {
    expect(checkQuota({ ...UNLIMITED, instances: 3 }, usage, { vcpus: 1, memoryMiB: 256, diskGiB: 1 }).map((e) => e.reason)).toEqual(["needs 1 instance, 0 of 3 left"]);
    expect(checkQuota({ ...UNLIMITED, vcpus: 4 }, usage, { vcpus: 1, memoryMiB: 256, diskGiB: 1 })[0]).toMatchObject({ left: 0, reason: "needs 1 vCPU, 0 of 4 left" });
  });

  it("lets a request take exactly the last free units", () => {
    expect(checkQuota(quota, usage, { vcpus: 2, memoryMiB: 2048, diskGiB: 10 })).toEqual([]);
    expect(checkQuota(quota, { ...usage, instances: 4 }, { vcpus: 2, memoryMiB: 2048, diskGiB: 10 })).toEqual([]);
  });

  it("shows usage against quota per dimension for the tenant's pages", () => {
    expect(quotaRows({ ...quota, diskGiB: null }, usage)).toEqual([
      { dimension: "instances", used: 3, limit: 5, percent: 60 },
      { dimension: "vcpus", used: 6, limit: 8, percent: 75 },
      { dimension: "memoryMiB", used: 6144, limit: 8192, percent: 75 },
      { dimension: "diskGiB", used: 90, limit: null, percent: null },
    ]);
  });
});
