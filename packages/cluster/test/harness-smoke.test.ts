import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { ApiClient } from "./harness/client.js";

/**
 * The harness itself: two replicas behind a real HAProxy on one PostgreSQL; a SIGKILLed replica is
 * taken out of rotation and requests through HAProxy keep being answered; a restarted one comes back.
 */
const pg = !!process.env.DATABASE_URL;
let cluster: Cluster;
beforeAll(async () => {
  if (pg) cluster = await startCluster({ replicas: 2 });
}, 180_000);
afterAll(() => cluster?.stop());

describe.runIf(pg)("cluster harness", () => {
  it("serves through HAProxy, survives a SIGKILLed replica, takes it back after a restart", async () => {
    const admin = await ApiClient.signIn(cluster.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, cluster.url);
    const hosts = await admin.query<unknown[]>(cluster.url, "hosts.list");
    expect(hosts.length).toBeGreaterThan(0);
    const [r1] = cluster.replicas;
    await r1!.kill();
    for (let i = 0; i < 6; i++) expect((await admin.query<unknown[]>(cluster.url, "hosts.list")).length).toBe(hosts.length);
    r1!.start();
    await r1!.ready();
    expect((await fetch(`${r1!.url}/healthz`)).status).toBe(200);
  });
});
