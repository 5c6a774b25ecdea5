import { describe, expect, it } from "vitest";
import { AgentErrorCode, VirtSection } from "@nimbus/domain";
import { AgentError } from "../../src/errors.js";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { RealVirtDriver } from "../../src/real/virt.js";
import { fakeVirsh, type FakeDomain, type FakePool } from "./fake-virsh.js";

// Names virsh gets wrong when a driver passes them back to it: the driver addresses every
// domain and pool by UUID (see src/real/virt-ids.ts).
const cfg = AgentConfig.parse({});
const CAFE: FakeDomain = { id: 3, name: "café-ünïcode", uuid: "0b4e1a52-0000-4000-8000-000000000001" };
const FIVE: FakeDomain = { id: null, name: "5", uuid: "0b4e1a52-0000-4000-8000-000000000002" };
const ID5: FakeDomain = { id: 5, name: "web1", uuid: "0b4e1a52-0000-4000-8000-000000000003" };
const DASHES: FakeDomain = { id: null, name: "--inactive", uuid: "0b4e1a52-0000-4000-8000-000000000004" };
const GUEST_POOL: FakePool = { name: "--all", uuid: "7c0d9f10-0000-4000-8000-000000000001", path: "/guest" };

const driver = (domains: FakeDomain[], pools: FakePool[] = [], calls: string[][] = []) =>
  new RealVirtDriver("kvm-test", fakeVirsh(domains, pools, calls), cfg.virt, silentLog);

describe("virt driver: names virsh would misread", () => {
  it("lists a VM whose name is not ASCII (virsh's table prints it escaped under LC_ALL=C)", async () => {
    const section = VirtSection.parse(await driver([CAFE, ID5]).snapshot());
    expect(section.domains.map((d) => [d.name, d.uuid])).toEqual([
      [CAFE.name, CAFE.uuid],
      [ID5.name, ID5.uuid],
    ]);
    expect(section.domains[0]!.disks).toEqual([{ target: "vda", path: "/guest/diskimage1", pool: null, capacityBytes: 1073741824 }]);
  });

  it("a VM or a pool named like an option does not break the snapshot", async () => {
    const section = await driver([DASHES, ID5], [GUEST_POOL]).snapshot();
    expect(section.domains.map((d) => d.name)).toEqual(["--inactive", "web1"]);
    expect(section.domains[0]!.disks[0]!.pool).toBe("--all");
  });

  it("a VM named 5 is started, not the VM whose id is 5", async () => {
    const calls: string[][] = [];
    await driver([ID5, FIVE], [], calls).power("5", "start");
    expect(calls.at(-1)).toEqual(["start", "--", FIVE.uuid]);
  });

  it("every domain argument of a snapshot is a UUID after --", async () => {
    const calls: string[][] = [];
    await driver([CAFE, FIVE, ID5], [GUEST_POOL], calls).snapshot();
    const perObject = calls.filter((c) => ["dumpxml", "dominfo", "domstats", "pool-dumpxml"].includes(c[0]!));
    expect(perObject.length).toBe(10);
    for (const c of perObject) expect(c.slice(-2)).toEqual(["--", expect.stringMatching(/^[0-9a-f-]{36}$/)]);
  });

  it("power on a VM that is not here is notFound naming it", async () => {
    const e = (await driver([ID5]).power("gone", "start").catch((x: unknown) => x)) as AgentError;
    expect(e).toBeInstanceOf(AgentError);
    expect(e.code).toBe(AgentErrorCode.notFound);
    expect(e.message).toBe("domain gone on kvm-test not found");
  });
});
