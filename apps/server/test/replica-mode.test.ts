import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadEnv, replicaConfig } from "../src/env.js";
import { createHttpServer } from "../src/http/server.js";
import { originPolicy } from "../src/http/origin-policy.js";

const SECRET = "c".repeat(48);

describe("replica mode settings", () => {
  it("is off without NIMBUS_CLUSTER_SECRET, even with DATABASE_URL (one server on PostgreSQL stays one server)", () => {
    expect(replicaConfig(loadEnv({}))).toBeNull();
    expect(replicaConfig(loadEnv({ DATABASE_URL: "postgres://u:p@127.0.0.1/db" }))).toBeNull();
  });

  it("needs PostgreSQL, a 32-character secret, and an address when the port is picked at random", () => {
    expect(() => loadEnv({ NIMBUS_CLUSTER_SECRET: SECRET })).toThrow(/NIMBUS_CLUSTER_SECRET: replica mode needs PostgreSQL/);
    expect(() => loadEnv({ NIMBUS_CLUSTER_SECRET: "short", DATABASE_URL: "postgres://x/y" })).toThrow(/NIMBUS_CLUSTER_SECRET: at least 32 characters/);
    expect(() => loadEnv({ NIMBUS_CLUSTER_SECRET: SECRET, DATABASE_URL: "postgres://x/y", NIMBUS_PORT: "0" })).toThrow(/NIMBUS_INTERNAL_URL/);
    expect(() => loadEnv({ NIMBUS_CLUSTER_SECRET: SECRET, DATABASE_URL: "postgres://x/y", NIMBUS_REPLICA_ID: "a b/c" })).toThrow(/NIMBUS_REPLICA_ID/);
    try {
      loadEnv({ NIMBUS_CLUSTER_SECRET: "short-secret-value" });
    } catch (e) {
      expect((e as Error).message).not.toContain("short-secret-value");
    }
  });

  it("defaults the replica id to hostname-pid and the internal address to the bound one", () => {
    const config = replicaConfig(loadEnv({ NIMBUS_CLUSTER_SECRET: SECRET, DATABASE_URL: "postgres://x/y", NIMBUS_PORT: "3100", NIMBUS_BIND: "0.0.0.0" }))!;
    expect(config.id).toMatch(new RegExp(`-${process.pid}$`));
    expect(config.internalUrl).toBe("http://127.0.0.1:3100");
    const named = replicaConfig(loadEnv({ NIMBUS_CLUSTER_SECRET: SECRET, DATABASE_URL: "postgres://x/y", NIMBUS_REPLICA_ID: "r1", NIMBUS_INTERNAL_URL: "http://10.0.0.5:3000" }))!;
    expect(named).toMatchObject({ id: "r1", internalUrl: "http://10.0.0.5:3000", secret: SECRET });
  });
});

describe("/internal/cluster outside replica mode", () => {
  it("answers 404, whatever the credentials, before any page or API rule", async () => {
    const server = createHttpServer({
      logger: pino({ level: "silent" }),
      dev: false,
      https: false,
      origins: () => originPolicy({ bind: "127.0.0.1", port: 0 }),
      context: () => Promise.reject(new Error("no context in this test")),
      auth: (_req, res) => void res.end(),
      web: () => null,
      ready: () => ({ ready: true }),
      internal: () => null,
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ["/internal/cluster/fleet.request", "/internal/other"]) {
        const res = await fetch(url + path, { method: "POST", headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" }, body: "{}" });
        expect(res.status).toBe(404);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
