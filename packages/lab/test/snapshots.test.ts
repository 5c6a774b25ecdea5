import { afterEach, describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import type { AgentError } from "@nimbus/agent";
import { createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot } from "../src/world/snapshots.js";
import { powerDomain } from "../src/world/power.js";
import type { World } from "../src/world/world.js";
import { placesOf, testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());
const stateOf = (vm: string) => placesOf(world, vm)[0]?.state;
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;

describe("lab snapshots", () => {
  it("take, list, revert to a running snapshot of a VM now off, delete", async () => {
    world = testWorld();
    const snap = await createSnapshot(world, "kvm1", { domain: "acme-web1", name: "before", description: "clean" });
    expect(snap).toMatchObject({ name: "before", description: "clean", state: "running", current: true });
    await createSnapshot(world, "kvm1", { domain: "acme-web1", name: "after", description: "" });
    expect(listSnapshots(world, "kvm1", "acme-web1")).toEqual({
      allowed: { ok: true },
      snapshots: [expect.objectContaining({ name: "before", current: false }), expect.objectContaining({ name: "after", current: true })],
    });
    await powerDomain(world, "kvm1", "acme-web1", "destroy");
    await revertSnapshot(world, "kvm1", { domain: "acme-web1", name: "before" });
    expect(stateOf("acme-web1")).toBe("running");
    expect(listSnapshots(world, "kvm1", "acme-web1").snapshots.map((s) => [s.name, s.current])).toEqual([["before", true], ["after", false]]);
    await deleteSnapshot(world, "kvm1", { domain: "acme-web1", name: "before" });
    expect(listSnapshots(world, "kvm1", "acme-web1").snapshots.map((s) => s.name)).toEqual(["after"]);
  });

  it("reverting a running VM to a snapshot taken while off stops it", async () => {
    world = testWorld();
    await createSnapshot(world, "kvm1", { domain: "initech-legacy", name: "off", description: "" });
    await powerDomain(world, "kvm1", "initech-legacy", "start");
    await revertSnapshot(world, "kvm1", { domain: "initech-legacy", name: "off" });
    expect(stateOf("initech-legacy")).toBe("shutoff");
  });

  it("a raw disk is refused with the reason, in the list and on create", async () => {
    world = testWorld();
    world.vms.get("acme-web1")!.diskPath = "/instance/acme-web1.img";
    expect(listSnapshots(world, "kvm1", "acme-web1").allowed).toEqual({ ok: false, reason: expect.stringMatching(/need qcow2.*vda is raw/) });
    const e = await reject(createSnapshot(world, "kvm1", { domain: "acme-web1", name: "s", description: "" }));
    expect(e.code).toBe(AgentErrorCode.conflict);
    expect(e.message).toMatch(/cannot take a snapshot: snapshots need qcow2/);
  });

  it("a taken name is a conflict; a missing snapshot or VM is notFound", async () => {
    world = testWorld();
    await createSnapshot(world, "kvm1", { domain: "acme-web1", name: "s", description: "" });
    expect((await reject(createSnapshot(world, "kvm1", { domain: "acme-web1", name: "s", description: "" }))).code).toBe(AgentErrorCode.conflict);
    expect((await reject(revertSnapshot(world, "kvm1", { domain: "acme-web1", name: "nope" }))).code).toBe(AgentErrorCode.notFound);
    expect((await reject(deleteSnapshot(world, "kvm1", { domain: "nope", name: "s" }))).code).toBe(AgentErrorCode.notFound);
  });
});
