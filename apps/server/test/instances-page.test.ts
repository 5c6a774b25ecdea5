import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, viewers, type Backend } from "./backend.js";

/** instances.page on the embedded lab: counts, paging, search, tenant scope and bounds. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const acme = () => backend.as(viewers.acme);
const hostNames = () => backend.app.fleet.hosts().map((h) => h.name);

describe("instances.page", () => {
  it("staff: counts match the whole list, pages of a given size walk it in order without gaps", async () => {
    const everything = await admin().instances.list();
    const first = await admin().instances.page({ limit: 2 });
    expect(first.total).toBe(everything.length);
    expect(first.all).toBe(everything.length);
    expect(first.items).toHaveLength(2);
    const walked: string[] = [];
    for (let offset = 0; offset < first.total; offset += 2) walked.push(...(await admin().instances.page({ limit: 2, offset })).items.map((i) => i.name));
    expect(walked).toEqual([...walked].sort());
    expect(new Set(walked)).toEqual(new Set(everything.map((i) => i.name)));
    expect(first.tenants).toEqual(expect.arrayContaining(["acme", "globex"]));
    expect(first.hosts).toEqual(expect.arrayContaining(["kvm1", "kvm2"]));
  });

  it("staff: filters by tenant, state, host and search, and counts what matched", async () => {
    const everything = await admin().instances.list();
    const globex = await admin().instances.page({ tenant: "globex" });
    expect(globex.items.map((i) => i.name).sort()).toEqual(everything.filter((i) => i.tenant === "globex").map((i) => i.name).sort());
    expect(globex.total).toBe(globex.items.length);
    expect(globex.all).toBe(everything.length);
    const onKvm1 = await admin().instances.page({ host: "kvm1", sort: "memoryMiB", desc: true });
    expect(onKvm1.items.every((i) => i.host === "kvm1")).toBe(true);
    expect(onKvm1.items.map((i) => i.memoryMiB)).toEqual([...onKvm1.items.map((i) => i.memoryMiB)].sort((a, b) => b - a));
    const running = await admin().instances.page({ state: "running" });
    expect(running.total).toBe(everything.filter((i) => i.state === "running").length);
    const web1 = everything.find((i) => i.name === "acme-web1")!;
    const byMac = await admin().instances.page({ q: web1.macs[0]!.toUpperCase() });
    expect(byMac.items.map((i) => i.name)).toContain("acme-web1");
    const byVlan = await admin().instances.page({ q: String(web1.vlans[0]) });
    expect(byVlan.items.map((i) => i.name)).toContain("acme-web1");
    expect((await admin().instances.page({ q: "no-such-vm-anywhere" })).total).toBe(0);
  });

  it("a tenant sees only its own, with host tokens, whatever it asks for", async () => {
    const mine = await acme().instances.page({});
    expect(mine.items.map((i) => i.name).sort()).toEqual(["acme-db", "acme-web1", "acme-web2"]);
    expect(mine.total).toBe(3);
    expect(mine.all).toBe(3);
    expect(mine.tenants).toEqual(["acme"]);
    const json = JSON.stringify(mine);
    for (const host of hostNames()) expect(json).not.toContain(`"${host}"`);
    expect(mine.items.every((i) => i.bridges.length === 0)).toBe(true);
    // Another tenant's name, a host's name: nothing, and counts that say nothing either.
    for (const input of [{ tenant: "globex" }, { q: "globex" }, { q: "kvm1" }, { host: "kvm1" }]) {
      const page = await acme().instances.page(input);
      expect(page.items).toEqual([]);
      expect(page.total).toBe(0);
      expect(page.all).toBe(3);
    }
    // Its own host token works as a filter (it is what the tenant's table shows).
    const token = mine.items[0]!.host;
    const sameHost = await acme().instances.page({ host: token });
    expect(sameHost.items.length).toBeGreaterThan(0);
    expect(sameHost.items.every((i) => i.host === token)).toBe(true);
  });

  it("bad input is refused with a clear error, not answered with the fleet", async () => {
    for (const input of [{ limit: 10_000 }, { limit: 0 }, { offset: -5 }, { q: "x".repeat(5_000) }, { sort: "uuid" }, { desc: "yes" }]) {
      const error = await admin()
        .instances.page(input as never)
        .then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect((error as TRPCError).code).toBe("BAD_REQUEST");
    }
  });
});

describe("hosts.page", () => {
  it("staff: pages, filters and counts as the whole list says", async () => {
    const everything = await admin().hosts.list();
    const first = await admin().hosts.page({ limit: 3 });
    expect(first.total).toBe(everything.length);
    expect(first.items.map((h) => h.name)).toEqual(everything.map((h) => h.name).sort().slice(0, 3));
    const kvm = await admin().hosts.page({ q: "kvm", role: "hypervisor", sort: "cpu", desc: true });
    expect(kvm.items.map((h) => h.name).sort()).toEqual(everything.filter((h) => h.name.includes("kvm") && h.roles.includes("hypervisor")).map((h) => h.name).sort());
    expect(kvm.items.map((h) => h.cpuUsagePct ?? -1)).toEqual(kvm.items.map((h) => h.cpuUsagePct ?? -1).sort((a, b) => b - a));
    expect((await admin().hosts.page({ state: "problem" })).total).toBe(everything.filter((h) => h.state !== "online" && h.state !== "connecting").length);
  });

  it("a tenant is refused; bad input is refused", async () => {
    await expect(acme().hosts.page({})).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(admin().hosts.page({ limit: 100_000 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(admin().hosts.page({ state: "weird" as never })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});
