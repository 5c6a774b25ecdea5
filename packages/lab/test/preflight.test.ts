import { afterEach, describe, expect, it } from "vitest";
import { AgentErrorCode, destinationPreflightParams, preflightVerdict } from "@nimbus/domain";
import { LabFaults } from "../src/faults.js";
import { migrateDomain } from "../src/world/migration.js";
import { labPreflight } from "../src/world/preflight.js";
import { domainOf } from "../src/world/sections/virt.js";
import type { World } from "../src/world/world.js";
import { jobContext, migrateParams, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const destination = (vm: string, to: string) => labPreflight(world, to, destinationPreflightParams(domainOf(world, world.vms.get(vm)!), world.vms.get(vm)!.host));
const source = (vm: string, host = "kvm1") => labPreflight(world, host, { role: "source", domain: vm, destination: "kvm2" });

describe("virt.preflight on lab hypervisors", () => {
  it("passes both sides for a healthy migration", () => {
    world = testWorld();
    expect(preflightVerdict(source("acme-web1"))).toBe("pass");
    expect(destination("acme-web1", "kvm2").filter((c) => c.result !== "pass")).toEqual([]);
  });

  it("the source says when the VM is off, gone from it, or already migrating", async () => {
    world = testWorld();
    expect(source("initech-legacy")[0]?.reason).toBe("initech-legacy is shutoff on kvm1; only running VMs live-migrate");
    expect(source("acme-web2")[0]?.reason).toBe("acme-web2 is no longer defined on kvm1");
    const ctx = jobContext();
    const migration = migrateDomain(world, "kvm1", migrateParams("acme-web1", "kvm2"), ctx);
    await waitFor(() => world.vms.get("acme-web1")!.migrating, "migration to start");
    expect(source("acme-web1")[0]?.reason).toBe("acme-web1 already has a migration or block job running on kvm1");
    ctx.cancel();
    await migration.catch(() => undefined);
  });

  it("the destination sees a VLAN removed from its trunk", () => {
    world = testWorld();
    new LabFaults(world).removeVlan("kvm2", 10);
    expect(destination("acme-web1", "kvm2").find((c) => c.result === "fail")?.reason).toBe("VLAN 10 is not carried by any trunk of br-ovs on kvm2");
  });

  it("the destination counts its memory as it is now", () => {
    world = testWorld();
    world.hypervisor("kvm2").hardware = { ...world.hypervisor("kvm2").hardware, memoryMiB: 24_000 };
    // 24000 - 2048 reserved - 20480 of running VMs - 512 headroom
    expect(destination("acme-web1", "kvm2").find((c) => c.id === "agent-memory")).toMatchObject({ result: "fail", reason: "needs 2048 MiB; kvm2 has 960 MiB free after 512 MiB headroom" });
  });

  it("the destination asks for a storage migration when it does not mount the disk's datastore", () => {
    world = testWorld();
    new LabFaults(world).unmountDatastore("kvm2", "/instance");
    expect(destination("acme-web1", "kvm2").find((c) => c.id === "agent-storage")?.reason).toBe("storage migration needed: /instance/acme-web1.qcow2 not visible on kvm2");
  });

  it("fails like libvirt when libvirtd is down", () => {
    world = testWorld();
    new LabFaults(world).stopLibvirtd("kvm2");
    expect(() => destination("acme-web1", "kvm2")).toThrow(/libvirtd is not running/);
  });
});

describe("live migration without shared storage", () => {
  it("is refused by the destination like libvirt does, the VM staying on the source", async () => {
    world = testWorld();
    new LabFaults(world).unmountDatastore("kvm2", "/instance");
    await expect(migrateDomain(world, "kvm1", migrateParams("acme-web1", "kvm2"), jobContext())).rejects.toMatchObject({
      code: AgentErrorCode.conflict,
      message:
        "migration of acme-web1 to kvm2 failed: its disk /instance/acme-web1.qcow2 is not on shared storage that both hosts see (no datastore kvm2 mounts), and libvirt refuses to live-migrate such a VM; move the disk to a datastore mounted on both hosts first; acme-web1 still runs on kvm1",
    });
    expect(world.vms.get("acme-web1")!.host).toBe("kvm1");
  });
});
