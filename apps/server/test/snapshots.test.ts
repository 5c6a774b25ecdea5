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
