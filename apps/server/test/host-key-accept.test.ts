import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, viewers, type Backend } from "./backend.js";

/** An admin accepts a changed host key by naming the fingerprint they saw; the audit trail keeps it. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

const lastAccept = async () => (await backend.app.auth.audit.query({ action: "hosts.acceptKey" }, { limit: 1 })).records[0]!;

describe("accepting a changed host key", () => {
  it("refuses a fingerprint the host does not present, then accepts the one named, both audited with it", async () => {
    const admin = backend.as(viewers.admin);
    const pinned = backend.app.fleet.host("kvm2")!.connection.pinnedKey!;
    await backend.app.deps.lab!.inject("change-host-key", ["kvm2"]);
    const changed = await backend.waitFor(() => {
      const c = backend.app.fleet.host("kvm2")!.connection;
      return c.state === "key-changed" && c.offeredKey ? c : null;
    }, "kvm2 key-changed");
    const offered = changed.offeredKey!;

    await expect(admin.hosts.acceptKey({ name: "kvm2", fingerprint: pinned })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await lastAccept()).toMatchObject({ result: "error", errorCode: "CONFLICT", target: "kvm2", inputSummary: { name: "kvm2", fingerprint: pinned } });
    expect(backend.app.fleet.host("kvm2")!.connection.state).toBe("key-changed");

    await expect(admin.hosts.acceptKey({ name: "kvm2", fingerprint: offered })).resolves.toEqual({ ok: true, fingerprint: offered, replaced: pinned });
    expect(await lastAccept()).toMatchObject({ result: "ok", userName: viewers.admin.name, target: "kvm2", inputSummary: { name: "kvm2", fingerprint: offered } });
    await backend.waitFor(() => backend.app.fleet.host("kvm2")!.connection.state === "online", "kvm2 online with the new key");
    expect(backend.app.fleet.host("kvm2")!.connection.pinnedKey).toBe(offered);
  });
});
