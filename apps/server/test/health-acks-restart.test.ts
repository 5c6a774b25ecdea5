import { rmSync } from "node:fs";
import { appRouter, createCallerFactory } from "@nimbus/api";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app.js";
import { loadEnv } from "../src/env.js";
import { freshDataDir, until, viewers } from "./backend.js";

type App = Awaited<ReturnType<typeof createApp>>;
const caller = (app: App) => createCallerFactory(appRouter)({ deps: app.deps, live: app.live, health: app.health, topology: app.topology, viewer: viewers.admin, requestId: "t", ip: "127.0.0.1" });

const kvm2Check = (app: App) => until(async () => (await caller(app).health.list()).find((c) => c.id === "host:kvm2"), (c) => c?.state === "crit", "kvm2's check critical", 60_000);

describe("acknowledgements survive a server restart", () => {
  it("a failing check acknowledged before a restart is still acknowledged, with its note, after it", { timeout: 180_000 }, async () => {
    const dir = freshDataDir();
    const env = loadEnv({ NIMBUS_DATA_DIR: dir, NIMBUS_LAB_SPEED: "10", NIMBUS_ADMIN_PASSWORD: "test-admin-password", NIMBUS_LOG_LEVEL: "silent" });
    try {
      const first = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        await until(async () => first.fleet.host("kvm2")?.connection.state, (s) => s === "online", "kvm2 online", 60_000);
        // A changed host key lasts across the restart: the lab keeps it in its data dir, the pin stays in the database.
        await caller(first).lab.inject({ name: "change-host-key", args: ["kvm2"] });
        await kvm2Check(first);
        await caller(first).health.acknowledge({ id: "host:kvm2", note: "checking the new key with the DC team" });
      } finally {
        await first.stop();
      }
      const second = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        expect((await kvm2Check(second))?.ack).toMatchObject({ by: viewers.admin.name, note: "checking the new key with the DC team" });
        await caller(second).health.unacknowledge({ id: "host:kvm2" });
      } finally {
        await second.stop();
      }
      const third = await createApp(env, "http://127.0.0.1:9", pino({ level: "silent" }));
      try {
        expect((await kvm2Check(third))?.ack).toBeNull();
      } finally {
        await third.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
