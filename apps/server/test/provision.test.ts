import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTopology, findings as findingsOf, type Operation } from "@nimbus/domain";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/**
 * Create and delete through the whole server, on the embedded lab over SSH: placement, quota,
 * the operation with its steps, the simulated host building, wiring, booting and cleaning up.
 * What a user would check is read from the hosts' reports: the domain, the datastore's usage
 * (the volume), the tenant's VXLAN ports, and the topology's findings.
 */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const acme = () => backend.as(viewers.acme);
const request = (name: string, over: Record<string, unknown> = {}) => ({
  name, image: "debian-12", vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "acme", network: { vlan: 10, vni: 5001 }, ...over,
});
const settled = (id: string) =>
  until(() => admin().operations.get({ id }), (op) => op.state !== "running" && op.state !== "pending", `operation ${id} to settle`, 60_000);
const hosts = () => backend.app.fleet.hosts();
const domain = (name: string) => hosts().flatMap((h) => (h.inventory.virt?.domains ?? []).filter((d) => d.name === name).map((d) => ({ host: h.name, domain: d })))[0];
const usedBytes = (datastore: string) =>
  Math.max(...hosts().flatMap((h) => h.inventory.storage?.nfs?.datastores.filter((d) => d.path === datastore).map((d) => d.usedBytes) ?? []));
const vniOn = (vni: number) => hosts().filter((h) => h.inventory.net?.bridges.some((b) => b.ports.some((p) => p.vxlan?.vni === vni))).map((h) => h.name);
const findings = () => findingsOf(buildTopology(hosts(), [...backend.app.deps.tenants.directory().values()])).map((f) => f.id).sort();
const stepOf = (op: Operation, id: string) => op.steps.find((s) => s.id === id)!;
const running = async (name: string, step: string): Promise<Operation> =>
  (await until(async () => (await admin().operations.list({ target: { type: "instance", name } }))[0], (op) => !!op && stepOf(op, step)?.state === "running", `${name} at ${step}`, 30_000))!;
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? e.code : String(e)));
/** The reports settle after the job: wait until the inventory shows what the operation did. */
const settledInventory = (what: string, ok: () => boolean) => until(async () => ok(), (v) => v, what, 10_000);

describe("create and delete", () => {
  it("creates an instance: placement says where and why, steps run in order, the guest boots with an address of its tenant's subnet; delete removes it all", async () => {
    const before = findings();
    const placement = await admin().instances.placement(request("acme-new1"));
    expect(placement.ok).toBe(true);
    expect(placement.chosen).toMatch(/^kvm[12]$/);
    expect(placement.reason).not.toBe("");
    const { operationId } = await admin().instances.create(request("acme-new1"));
    const op = await settled(operationId);
    expect(op.error).toBeNull();
    expect(op).toMatchObject({ kind: "create", state: "succeeded", tenant: "acme" });
    expect(op.steps.map((s) => [s.id, s.state])).toEqual([
      ["check", "succeeded"], ["build-volume", "succeeded"], ["wire-network", "skipped"], ["define", "succeeded"], ["start", "succeeded"], ["wait-address", "succeeded"],
    ]);
    expect(stepOf(op, "build-volume").log.join("\n")).toContain("Setting the hostname: acme-new1");
    expect(op.progress).toMatchObject({ kind: "create", address: expect.stringMatching(/^192\.168\.10\.\d+$/) });
    await settledInventory("the new VM in the inventory", () => domain("acme-new1")?.domain.state === "running");
    expect(findings()).toEqual(before);

    const volume = String(op.params.volumePath);
    const datastore = volume.slice(0, volume.lastIndexOf("/"));
    const withVolume = usedBytes(datastore);
    expect(await codeOf(admin().instances.delete({ name: "acme-new1", confirm: "acme-new" }))).toBe("BAD_REQUEST");
    const deleted = await settled((await admin().instances.delete({ name: "acme-new1", confirm: "acme-new1" })).operationId);
    expect(deleted).toMatchObject({ kind: "delete", state: "succeeded" });
    expect(deleted.steps.map((s) => s.label)).toEqual(["Stop", "Undefine", "Release the network", "Remove the volume"]);
    await settledInventory("the VM gone and its volume removed", () => !domain("acme-new1") && usedBytes(datastore) < withVolume);
    expect(findings()).toEqual(before);
  });

  it("a tenant's instances bring its VXLAN tunnels to the hosts they land on, and their deletes take them away; no finding either way", async () => {
    await admin().admin.tenants.create({ slug: "umbrella", name: "Umbrella", vni: 6100 });
    const before = findings();
    expect(vniOn(6100)).toEqual([]);
    const umbrella = (name: string, host: string) => request(name, { tenant: "umbrella", network: { vlan: 40, vni: 6100 }, host });
    const first = await settled((await admin().instances.create(umbrella("umbrella-1", "kvm1"))).operationId);
    const second = await settled((await admin().instances.create(umbrella("umbrella-2", "kvm2"))).operationId);
    for (const op of [first, second]) {
      expect(op.error).toBeNull();
      expect(stepOf(op, "wire-network")).toMatchObject({ state: "succeeded", log: [expect.stringContaining("vx6100")] });
    }
    // kvm2 got a port to kvm1 from its own agent; kvm1's port back came from the server's step on kvm1.
    expect(stepOf(second, "peer-tunnels")).toMatchObject({ label: "Tunnels back from peers", state: "succeeded", log: [expect.stringMatching(/^kvm1: added vx6100-kvm2 of VNI 6100 to /)] });
    expect(first.steps.some((s) => s.id === "peer-tunnels")).toBe(false);
    const tunnelsOn = (host: string) => hosts().find((h) => h.name === host)!.inventory.net!.bridges.flatMap((b) => b.ports.filter((p) => p.vxlan?.vni === 6100).map((p) => p.name));
    await settledInventory("VNI 6100 tunnelled both ways between kvm1 and kvm2", () => tunnelsOn("kvm1").join() === "vx6100,vx6100-kvm2" && tunnelsOn("kvm2").join() === "vx6100-kvm1");
    expect(findings()).toEqual(before);
    const firstDelete = await settled((await admin().instances.delete({ name: "umbrella-1", confirm: "umbrella-1" })).operationId);
    expect(firstDelete.state).toBe("succeeded");
    expect(stepOf(firstDelete, "peer-tunnels")).toMatchObject({ label: "Release peers' tunnels", state: "succeeded", log: [expect.stringMatching(/^kvm2: removed vx6100-kvm1 /)] });
    // kvm2 still runs umbrella-2: a flow-based port replaces its last one, so it stays in the tenant's network.
    await settledInventory("kvm2's port to kvm1 gone, a flow-based one in its place", () => tunnelsOn("kvm2").join() === "vx6100" && tunnelsOn("kvm1").length === 0);
    expect(findings()).toEqual(before);
    const secondDelete = await settled((await admin().instances.delete({ name: "umbrella-2", confirm: "umbrella-2" })).operationId);
    expect(secondDelete.state).toBe("succeeded");
    await settledInventory("VNI 6100 gone from every host", () => vniOn(6100).length === 0);
    expect(findings()).toEqual(before);
  });
});

describe("create failures clean up what was made", () => {
  const datastoreOf = (op: Operation) => String(op.params.volumePath).replace(/\/[^/]+$/, "");
  const usedNow = () => new Map(["/instance", "/instance2"].map((d) => [d, usedBytes(d)]));
  /** No domain, and the datastore the volume was on back to (at most) its usage before the create: the partial volume's bytes are gone. */
  const expectNothingLeft = async (op: Operation, usedBefore: Map<string, number>) => {
    await settledInventory(`nothing of ${op.target.name} left`, () => !domain(op.target.name) && usedBytes(datastoreOf(op)) <= usedBefore.get(datastoreOf(op))!);
  };

  it("image build fails: the operation fails at 'Build the volume' with what virt-builder printed, the partial volume is removed", async () => {
    const used = usedNow();
    await admin().lab.inject({ name: "fail-image-build", args: ["debian-12"] });
    try {
      const op = await settled((await admin().instances.create(request("acme-fail1"))).operationId);
      expect(op.state).toBe("failed");
      expect(op.error).toMatch(/^Build the volume failed: virt-builder: error: .*checksum.*; undone: removed \/instance2?\/acme-fail1\.qcow2$/);
      expect(stepOf(op, "build-volume").state).toBe("failed");
      expect(stepOf(op, "build-volume").log.at(-1)).toContain("virt-builder: error");
      expect(stepOf(op, "define").state).toBe("pending");
      expect(op.progress).toMatchObject({ undone: [`removed ${String(op.params.volumePath)}`] });
      await expectNothingLeft(op, used);
    } finally {
      await admin().lab.inject({ name: "restore-image-build", args: ["debian-12"] });
    }
  });

  it("the datastore runs out of space while the volume is built: failed with 'No space left on device', volume removed", async () => {
    const { operationId } = await admin().instances.create(request("acme-full1"));
    const building = await running("acme-full1", "build-volume");
    const datastore = datastoreOf(building);
    await admin().lab.inject({ name: "fill-datastore", args: [datastore, "100"] });
    try {
      const op = await settled(operationId);
      expect(op.state).toBe("failed");
      expect(op.error).toContain("No space left on device");
      expect(op.error).toContain(`undone: removed ${datastore}/acme-full1.qcow2`);
      expect(domain("acme-full1")).toBeUndefined();
    } finally {
      await admin().lab.inject({ name: "restore-datastore", args: [datastore] });
    }
  });

  it("cancelled mid-build: cancelled, says what was undone, nothing left", async () => {
    const used = usedNow();
    const { operationId } = await admin().instances.create(request("acme-cancel1"));
    await running("acme-cancel1", "build-volume");
    await admin().operations.cancel({ id: operationId });
    const op = await settled(operationId);
    expect(op.state).toBe("cancelled");
    expect(op.error).toBe(`cancelled during "Build the volume"; undone: removed ${String(op.params.volumePath)}`);
    await expectNothingLeft(op, used);
  });

  it("a tenant member cancels its own create; another tenant's create answers like a missing operation", async () => {
    await admin().tenants.setQuota({ tenant: "acme", quota: { instances: null, vcpus: null, memoryMiB: null, diskGiB: null } });
    const used = usedNow();
    const own = (await acme().instances.create(request("acme-cancel2"))).operationId;
    const theirs = (await admin().instances.create(request("globex-cancel1", { tenant: "globex", network: { vlan: 20, vni: 5002 } }))).operationId;
    await running("acme-cancel2", "build-volume");
    const notFound = async (id: string) => acme().operations.cancel({ id }).then(() => "OK", (e: TRPCError) => [e.code, e.message.replace(id, "ID")]);
    expect(await notFound(theirs)).toEqual(await notFound("no-such-operation"));
    expect(await notFound(theirs)).toEqual(["NOT_FOUND", expect.stringContaining("ID")]);
    await acme().operations.cancel({ id: own });
    const op = await settled(own);
    expect(op.state).toBe("cancelled");
    await expectNothingLeft(op, used);
    expect((await admin().operations.get({ id: theirs })).state).toBe("running");
    await admin().operations.cancel({ id: theirs });
    expect((await settled(theirs)).state).toBe("cancelled");
  });

  it("the host dies mid-create: the operation fails once the host is back and what the create made is removed", async () => {
    const used = usedNow();
    const { operationId } = await admin().instances.create(request("acme-dies1"));
    const started = await running("acme-dies1", "build-volume");
    await admin().lab.inject({ name: "stop-host", args: [started.host] });
    await until(async () => backend.app.fleet.host(started.host)?.connection.state, (s) => s !== "online", `${started.host} down`, 30_000);
    await admin().lab.inject({ name: "start-host", args: [started.host] });
    const op = await settled(operationId);
    expect(op.state).toBe("failed");
    expect(op.error).toContain("lost the job");
    await until(async () => backend.app.fleet.host(started.host)?.connection.state, (s) => s === "online", `${started.host} back`, 60_000);
    await expectNothingLeft(op, used);
    // Nothing came back to life on the rebooted host either (its agent died with the create).
    expect(domain("acme-dies1")).toBeUndefined();
  }, 120_000);
});

describe("quotas and tenants", () => {
  it("two creates at once cannot both take the last free slot", async () => {
    const usage = (await admin().tenants.quota({ tenant: "acme" })).usage;
    await admin().tenants.setQuota({ tenant: "acme", quota: { instances: usage.instances + 1, vcpus: null, memoryMiB: null, diskGiB: null } });
    const results = await Promise.allSettled([acme().instances.create(request("acme-race1")), acme().instances.create(request("acme-race2"))]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as TRPCError] : []));
    expect(ok).toHaveLength(1);
    expect(refused.map((e) => [e.code, e.message])).toEqual([["PRECONDITION_FAILED", `over acme's quota: needs 1 instance, 0 of ${usage.instances + 1} left`]]);
    const op = await settled((ok[0] as PromiseFulfilledResult<{ operationId: string }>).value.operationId);
    expect(op.state).toBe("succeeded");
    const quota = await acme().tenants.quota({});
    expect(quota.rows.find((r) => r.dimension === "instances")).toMatchObject({ used: usage.instances + 1, limit: usage.instances + 1, percent: 100 });

    // Both are audited with the quota state they were decided on.
    const audited = (await admin().audit.list({ action: "instances.create", limit: 10, offset: 0 })).records.filter((r) => r.userName === viewers.acme.name).slice(0, 2);
    expect(audited.map((r) => r.result).sort()).toEqual(["error", "ok"]);
    for (const r of audited) expect(r.inputSummary).toMatchObject({ quotaState: { tenant: "acme", quota: { instances: usage.instances + 1 } } });

    const name = op.target.name;
    await settled((await acme().instances.delete({ name, confirm: name })).operationId);
    await admin().tenants.setQuota({ tenant: "acme", quota: { instances: null, vcpus: null, memoryMiB: null, diskGiB: null } });
  }, 60_000);

  it("a tenant cannot pin a host or pick a bridge, is forced to its own tenant and VNI, and cannot delete another tenant's instance", async () => {
    expect(await codeOf(acme().instances.placement(request("acme-x", { host: "kvm1" })))).toBe("FORBIDDEN");
    expect(await codeOf(acme().instances.create(request("acme-x", { network: { vlan: 10, vni: 5001, bridge: "br-ovs" } })))).toBe("FORBIDDEN");
    const placement = await acme().instances.placement(request("acme-x", { tenant: "globex", network: { vlan: 20, vni: 5002 } }));
    expect(placement).toMatchObject({ tenant: "acme", network: { vni: 5001, vlan: 10 } });
    expect(JSON.stringify(placement)).not.toMatch(/kvm[12]|10\.10\.0\./);
    expect(await codeOf(acme().instances.delete({ name: "globex-app1", confirm: "globex-app1" }))).toBe("NOT_FOUND");
    expect(await codeOf(acme().tenants.setQuota({ tenant: "acme", quota: { instances: null, vcpus: null, memoryMiB: null, diskGiB: null } }))).toBe("FORBIDDEN");
    expect((await acme().tenants.quota({ tenant: "globex" })).tenant).toBe("acme");
  });

  it("over quota is refused before anything is recorded, with the reason", async () => {
    await admin().tenants.setQuota({ tenant: "acme", quota: { instances: null, vcpus: 1, memoryMiB: null, diskGiB: null } });
    try {
      const placement = await acme().instances.placement(request("acme-big", { vcpus: 4 }));
      expect(placement.ok).toBe(false);
      expect(placement.quotaProblem).toMatch(/^over acme's quota: needs 4 vCPU, 0 of 1 left$/);
      const before = (await admin().operations.list({})).length;
      await expect(acme().instances.create(request("acme-big", { vcpus: 4 }))).rejects.toMatchObject({ code: "PRECONDITION_FAILED", message: placement.quotaProblem });
      expect((await admin().operations.list({})).length).toBe(before);
    } finally {
      await admin().tenants.setQuota({ tenant: "acme", quota: { instances: null, vcpus: null, memoryMiB: null, diskGiB: null } });
    }
  });
});
