import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, viewers, type Backend } from "./backend.js";

// Snapshots through the API on the embedded lab: a tenant on its own instance, end to end.
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

describe("instances.snapshot*", () => {
  it("a tenant takes, lists, reverts and deletes snapshots of its own instance; each mutation is audited", async () => {
    const acme = backend.as(viewers.acme).instances;
    const taken = await acme.snapshotCreate({ instance: "acme-web1", name: "before-upgrade", description: "clean" });
    expect(taken).toMatchObject({ name: "before-upgrade", description: "clean", state: "running", current: true });
    expect(await acme.snapshots({ instance: "acme-web1" })).toEqual({ allowed: { ok: true }, snapshots: [taken] });
    await expect(acme.snapshotRevert({ instance: "acme-web1", name: "before-upgrade" })).resolves.toEqual({ ok: true });
    await expect(acme.snapshotDelete({ instance: "acme-web1", name: "before-upgrade" })).resolves.toEqual({ ok: true });
    expect((await acme.snapshots({ instance: "acme-web1" })).snapshots).toEqual([]);
    const { records } = await backend.as(viewers.admin).audit.list({ action: "instances.snapshotCreate", limit: 10, offset: 0 });
    expect(records[0]).toMatchObject({ userName: viewers.acme.name, target: "acme-web1", result: "ok" });
  });

  it("another tenant's instance answers like a missing one, for reads and every mutation", async () => {
    await backend.as(viewers.acme).instances.snapshotCreate({ instance: "acme-web1", name: "mine" });
    const globex = backend.as(viewers.globex).instances;
    for (const call of [
      () => globex.snapshots({ instance: "acme-web1" }),
      () => globex.snapshotCreate({ instance: "acme-web1", name: "theirs" }),
      () => globex.snapshotRevert({ instance: "acme-web1", name: "mine" }),
      () => globex.snapshotDelete({ instance: "acme-web1", name: "mine" }),
    ])
      await expect(call()).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.not.stringContaining("kvm") });
    expect((await backend.as(viewers.acme).instances.snapshots({ instance: "acme-web1" })).snapshots.map((s) => s.name)).toEqual(["mine"]);
  });

  it("oncall reads snapshots but may not take one", async () => {
    const oncall = backend.as(viewers.oncall).instances;
    await expect(oncall.snapshots({ instance: "acme-web1" })).resolves.toMatchObject({ allowed: { ok: true } });
    await expect(oncall.snapshotCreate({ instance: "acme-web1", name: "x" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("a name that could be read as an option never reaches the host", async () => {
    await expect(backend.as(viewers.admin).instances.snapshotCreate({ instance: "acme-web1", name: "--atomic" })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("snapshots in the pushed inventory", () => {
  it("the list is answered from memory (no host request), and a snapshot taken reaches the tenant's live channel as a changed row", async () => {
    const abort = new AbortController();
    const events: { type: string; instances?: { name: string; snapshots?: unknown }[] }[] = [];
    const stream = (await backend.as(viewers.acme, abort.signal).live.events({})) as AsyncIterable<unknown>;
    void (async () => {
      for await (const e of stream) events.push((Array.isArray(e) ? e[1] : e) as (typeof events)[number]);
    })().catch(() => undefined);
    const fleet = backend.app.deps.fleet;
    const asked: string[] = [];
    const request = fleet.request.bind(fleet);
    fleet.request = ((host: string, method: string, params: unknown) => {
      if (method.startsWith("virt.snapshot")) asked.push(method);
      return request(host as never, method as never, params as never);
    }) as typeof fleet.request;
    try {
      const acme = backend.as(viewers.acme).instances;
      await acme.snapshotCreate({ instance: "acme-web2", name: "pushed" });
      const listed = await acme.snapshots({ instance: "acme-web2" });
      expect(listed.snapshots.map((s) => [s.name, s.current])).toEqual([["pushed", true]]);
      expect(asked).toEqual(["virt.snapshotCreate"]);
      const row = await backend.waitFor(
        () => events.flatMap((e) => (e.type === "host-instances" ? (e.instances ?? []) : [])).find((i) => i.name === "acme-web2" && i.snapshots),
        "acme-web2's row with its snapshots",
      );
      expect(row.snapshots).toMatchObject({ total: 1, current: "pushed" });
      await acme.snapshotDelete({ instance: "acme-web2", name: "pushed" });
      expect((await acme.snapshots({ instance: "acme-web2" })).snapshots).toEqual([]);
      expect(asked).toEqual(["virt.snapshotCreate", "virt.snapshotDelete"]);
    } finally {
      fleet.request = request;
      abort.abort();
    }
  });
});

describe("VMs with names Nimbus would not give a new instance", () => {
  it("a VM named café-db is listed and acted on (power, snapshots) like any other; names libvirt refuses are refused", async () => {
    const admin = backend.as(viewers.admin);
    // virsh domrename in the lab (initech-legacy is shut off); straight to the lab: the admin API's fault arguments are ASCII.
    await backend.app.deps.lab!.inject("rename-vm", ["initech-legacy", "café-db"]);
    await backend.waitFor(() => backend.app.fleet.hosts().some((h) => h.inventory.virt?.domains.some((d) => d.name === "café-db")), "café-db in the inventory");
    expect((await admin.instances.get({ name: "café-db" })).instance).toMatchObject({ name: "café-db", tenant: "initech", state: "shutoff" });
    await expect(admin.instances.power({ name: "café-db", action: "start" })).resolves.toEqual({ ok: true });
    await backend.waitFor(() => backend.app.fleet.hosts().some((h) => h.inventory.virt?.domains.some((d) => d.name === "café-db" && d.state === "running")), "café-db running");
    const taken = await admin.instances.snapshotCreate({ instance: "café-db", name: "before-move" });
    expect(taken).toMatchObject({ name: "before-move", state: "running" });
    expect((await admin.instances.snapshots({ instance: "café-db" })).snapshots.map((s) => s.name)).toEqual(["before-move"]);
    await expect(admin.instances.snapshotDelete({ instance: "café-db", name: "before-move" })).resolves.toEqual({ ok: true });
    await expect(admin.instances.power({ name: "café-db", action: "destroy" })).resolves.toEqual({ ok: true });
    const { records } = await admin.audit.list({ action: "instances.power", limit: 5, offset: 0 });
    expect(records[0]).toMatchObject({ target: "café-db", result: "ok" });
    // What libvirt would refuse, or what could break a line: refused before anything is looked up.
    for (const bad of ["a/b", "line\nbreak", "esc\u001b[2J", "x".repeat(201), " "])
      await expect(admin.instances.get({ name: bad })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    // Another tenant's café-db answers like a missing one.
    await expect(backend.as(viewers.acme).instances.get({ name: "café-db" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    // A new instance keeps the strict rule (its name is also the guest's host name).
    await expect(admin.instances.create({ name: "café-db2", image: "debian-12", vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "initech", sshKeys: [], firstBoot: [] } as never)).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
