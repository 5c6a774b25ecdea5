import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbKnownHosts, type Database } from "../src/index.js";
import { backend, openTestDatabase } from "../src/testing.js";

let database: Database;
let hosts: DbKnownHosts;
beforeAll(async () => {
  database = await openTestDatabase();
  hosts = new DbKnownHosts(database.db);
});
afterAll(() => database?.close());

describe(`DbKnownHosts (${backend})`, () => {
  it("knows no key for a host never seen", async () => {
    expect(await hosts.get("kvm9")).toBeNull();
  });

  it("pins the first key a host offers", async () => {
    await hosts.set("kvm1", { fingerprint: "SHA256:aaa", key: "ssh-ed25519 AAAA1" });
    expect(await hosts.get("kvm1")).toEqual({ fingerprint: "SHA256:aaa", key: "ssh-ed25519 AAAA1" });
  });

  it("replaces the pin when an admin accepts a changed key, recording who", async () => {
    await hosts.set("kvm2", { fingerprint: "SHA256:old", key: "ssh-ed25519 OLD" });
    await hosts.set("kvm2", { fingerprint: "SHA256:new", key: "ssh-ed25519 NEW", acceptedBy: "admin@nimbus.local" });
    expect(await hosts.get("kvm2")).toEqual({ fingerprint: "SHA256:new", key: "ssh-ed25519 NEW" });
    const listed = (await hosts.list()).find((h) => h.host === "kvm2");
    expect(listed).toMatchObject({ fingerprint: "SHA256:new", acceptedBy: "admin@nimbus.local" });
    expect(Date.parse(listed!.acceptedAt)).not.toBeNaN();
  });
});
