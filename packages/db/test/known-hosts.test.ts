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
    expect(await hosts.pin("kvm1", { fingerprint: "SHA256:aaa", key: "ssh-ed25519 AAAA1" })).toEqual({ fingerprint: "SHA256:aaa", key: "ssh-ed25519 AAAA1" });
    expect(await hosts.get("kvm1")).toEqual({ fingerprint: "SHA256:aaa", key: "ssh-ed25519 AAAA1" });
  });

  it("never lets a first-use pin overwrite another: the earlier pin stands and is what the late one gets", async () => {
    await hosts.pin("kvm4", { fingerprint: "SHA256:genuine", key: "k-genuine" });
    expect(await hosts.pin("kvm4", { fingerprint: "SHA256:impostor", key: "k-impostor" })).toEqual({ fingerprint: "SHA256:genuine", key: "k-genuine" });
    expect(await hosts.get("kvm4")).toEqual({ fingerprint: "SHA256:genuine", key: "k-genuine" });
  });

  it("keeps one pin when two replicas pin the same host at once", async () => {
    const other = new DbKnownHosts(database.db);
    const [a, b] = await Promise.all([hosts.pin("kvm5", { fingerprint: "SHA256:a", key: "ka" }), other.pin("kvm5", { fingerprint: "SHA256:b", key: "kb" })]);
    expect(a).toEqual(b);
    expect(await hosts.get("kvm5")).toEqual(a);
  });

  it("replaces the pin an admin saw with the key they accepted, recording who", async () => {
    await hosts.pin("kvm2", { fingerprint: "SHA256:old", key: "ssh-ed25519 OLD" });
    expect(await hosts.replace("kvm2", "SHA256:old", { fingerprint: "SHA256:new", key: "ssh-ed25519 NEW", acceptedBy: "admin@nimbus.local" })).toBe(true);
    expect(await hosts.get("kvm2")).toEqual({ fingerprint: "SHA256:new", key: "ssh-ed25519 NEW" });
    const listed = (await hosts.list()).find((h) => h.host === "kvm2");
    expect(listed).toMatchObject({ fingerprint: "SHA256:new", acceptedBy: "admin@nimbus.local" });
    expect(Date.parse(listed!.acceptedAt)).not.toBeNaN();
  });

  it("refuses to replace a pin that is no longer the one the admin saw", async () => {
    await hosts.pin("kvm6", { fingerprint: "SHA256:now", key: "k-now" });
    expect(await hosts.replace("kvm6", "SHA256:seen-earlier", { fingerprint: "SHA256:new", key: "k-new" })).toBe(false);
    expect(await hosts.replace("kvm-none", "SHA256:x", { fingerprint: "SHA256:new", key: "k-new" })).toBe(false);
    expect(await hosts.get("kvm6")).toEqual({ fingerprint: "SHA256:now", key: "k-now" });
  });

  it("answers many lookups and pins made at once (a fleet connecting) with the right key each", async () => {
    const names = Array.from({ length: 1_500 }, (_, i) => `hv${i}`);
    await Promise.all(names.map((n) => hosts.pin(n, { fingerprint: `SHA256:${n}`, key: `ssh-ed25519 ${n}` })));
    const got = await Promise.all([...names, "never-seen"].map((n) => hosts.get(n)));
    expect(got.slice(0, -1).map((g) => g?.fingerprint)).toEqual(names.map((n) => `SHA256:${n}`));
    expect(got.at(-1)).toBeNull();
  });

  it("keeps the first of two pins of one host made in the same tick, and gives it to both", async () => {
    const both = await Promise.all([hosts.pin("kvm3", { fingerprint: "SHA256:first", key: "k1" }), hosts.pin("kvm3", { fingerprint: "SHA256:second", key: "k2" })]);
    expect(both).toEqual([{ fingerprint: "SHA256:first", key: "k1" }, { fingerprint: "SHA256:first", key: "k1" }]);
    expect(await hosts.get("kvm3")).toEqual({ fingerprint: "SHA256:first", key: "k1" });
  });
});
