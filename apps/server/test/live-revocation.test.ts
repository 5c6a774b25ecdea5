import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Viewer } from "@nimbus/domain";
import { startBackend, viewers, type Backend } from "./backend.js";

/** A live stream is authorized when it opens and keeps being authorized while it stays open. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

async function openStream(viewer: Viewer) {
  const abort = new AbortController();
  const it = (await backend.as(viewer, abort.signal).live.events({}))[Symbol.asyncIterator]();
  await it.next(); // the opening reset
  return { it, abort };
}

async function endOf(it: AsyncIterator<unknown>): Promise<unknown> {
  for (;;) {
    try {
      const n = await it.next();
      if (n.done) return "completed";
    } catch (err) {
      return err;
    }
  }
}

describe("live stream authorization", () => {
  it("ends a user's open stream with UNAUTHORIZED when an admin disables them", async () => {
    const row = await backend.app.auth.createUser({ email: "stream-user@nimbus.test", name: "Stream User", password: "stream-user-password", role: "tenant", tenant: "acme" });
    const viewer: Viewer = { userId: row.id, name: row.name, role: "tenant", tenant: "acme" };
    const { it: stream } = await openStream(viewer);
    const ended = endOf(stream);
    await backend.as(viewers.admin).admin.users.setDisabled({ userId: row.id, disabled: true });
    const err = await ended;
    expect(err).toBeInstanceOf(TRPCError);
    expect((err as TRPCError).code).toBe("UNAUTHORIZED");
  });

  it("ends it when the user's tenant changes, so the old tenant's events stop", async () => {
    const row = await backend.app.auth.createUser({ email: "mover@nimbus.test", name: "Mover", password: "mover-user-password", role: "tenant", tenant: "acme" });
    const { it: stream } = await openStream({ userId: row.id, name: row.name, role: "tenant", tenant: "acme" });
    const ended = endOf(stream);
    await backend.as(viewers.admin).admin.users.setRole({ userId: row.id, role: "tenant", tenant: "globex" });
    expect(((await ended) as TRPCError).code).toBe("UNAUTHORIZED");
  });

  it("keeps other users' streams open", async () => {
    const { it: stream, abort } = await openStream(viewers.oncall);
    await backend.as(viewers.admin).instances.power({ name: "acme-web2", action: "reboot" });
    const next = await stream.next();
    expect(next.done).toBe(false);
    abort.abort();
  });
});
