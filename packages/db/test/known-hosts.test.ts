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

  it("answers many lookups and pins made at once (a fleet connecting) with the right key each", async () => {
    const names = Array.from({ length: 1_500 }, (_, i) => `hv${i}`);
    await Promise.all(names.map((n) => hosts.set(n, { fingerprint: `SHA256:${n}`, key: `ssh-ed25519 ${n}` })));
    const got = await Promise.all([...names, "never-seen"].map((n) => hosts.get(n)));
    expect(got.slice(0, -1).map((g) => g?.fingerprint)).toEqual(names.map((n) => `SHA256:${n}`));
    expect(got.at(-1)).toBeNull();
  });

  it("keeps the last of two pins of one host made in the same tick", async () => {
    await Promise.all([hosts.set("kvm3", { fingerprint: "SHA256:first", key: "k1" }), hosts.set("kvm3", { fingerprint: "SHA256:second", key: "k2" })]);
    expect(await hosts.get("kvm3")).toEqual({ fingerprint: "SHA256:second", key: "k2" });
  });
});
