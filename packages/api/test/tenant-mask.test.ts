import { describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { NimbusError, type HostRecord } from "@nimbus/domain";
import { HIDDEN_ADDRESS, maskForTenant, maskTextForTenant, tenantSecrets } from "../src/services/tenant-mask.js";
import { maskHost } from "../src/services/projections.js";
import { tenantBoundary } from "../src/tenant-boundary.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

const nic = (ip: string) => ({ mac: "52:54:00:00:00:07", bridge: "br-ovs", bridgeType: "ovs" as const, device: "vnet0", vlan: 10, model: "virtio", ipAddresses: [ip] });
const kvm1 = hypervisor("kvm1", [vm({ name: "acme-web1", tenant: "acme", nics: [nic("192.168.10.11")] }), vm({ name: "globex-app1", tenant: "globex", nics: [nic("192.168.20.11")] })]);
const fqdn: HostRecord = { ...hypervisor("nfs1"), inventory: { ...hypervisor("nfs1").inventory, node: { ...kvm1.inventory.node!, hostname: "nfs1.dc1.example" } } };
const hosts = [kvm1, hypervisor("kvm2"), fqdn];
const acme = tenantSecrets(hosts, "acme");
const mask = (text: string) => maskTextForTenant(text, acme);

describe("maskTextForTenant", () => {
  it("replaces a host name with its token wherever it stands as whole words", () => {
    expect(mask("kvm1 is unreachable")).toBe(`${maskHost("kvm1")} is unreachable`);
    expect(mask("port vx5001-kvm2 down; KVM1 rebooted")).toBe(`port vx5001-${maskHost("kvm2")} down; ${maskHost("kvm1")} rebooted`);
    expect(mask("virsh migrate --live acme-web1 qemu+ssh://kvm2/system")).toBe(`virsh migrate --live acme-web1 qemu+ssh://${maskHost("kvm2")}/system`);
  });

  it("leaves the tenant's own names whole, even when a word of them is a host name", () => {
    const fleet = [hypervisor("backup", [vm({ name: "acme-backup", tenant: "acme" }), vm({ name: "globex-backup", tenant: "globex" })])];
    const secrets = tenantSecrets(fleet, "acme");
    expect(maskTextForTenant("acme-backup runs on backup", secrets)).toBe(`acme-backup runs on ${maskHost("backup")}`);
    expect(maskTextForTenant("globex-backup", secrets)).toBe(`globex-${maskHost("backup")}`);
  });

  it("leaves words that only contain a host name", () => {
    expect(mask("kvm10 and xkvm1 and kvm1x")).toBe("kvm10 and xkvm1 and kvm1x");
  });

  it("knows a host by its node hostname too (a fully qualified name), as its fleet name's token", () => {
    expect(mask("mount nfs1.dc1.example:/instance failed")).toBe(`mount ${maskHost("nfs1")}:/instance failed`);
  });

  it("hides every address but the tenant's own VMs'", () => {
    expect(mask("connect ECONNREFUSED 127.0.0.1:40123")).toBe(`connect ECONNREFUSED ${HIDDEN_ADDRESS}:40123`);
    expect(mask("underlay 10.10.0.11/24, peer fe80::5054:ff:fe00:1%eth0, [2001:db8::7]:22")).toBe(`underlay ${HIDDEN_ADDRESS}, peer ${HIDDEN_ADDRESS}, [${HIDDEN_ADDRESS}]:22`);
    expect(mask("acme-web1 answers on 192.168.10.11")).toBe("acme-web1 answers on 192.168.10.11");
    expect(mask("globex-app1 answers on 192.168.20.11")).toBe(`globex-app1 answers on ${HIDDEN_ADDRESS}`);
  });

  it("leaves MACs, clock times, timestamps and versions alone", () => {
    const text = "mac 52:54:00:0e:3f:9d at 06:05:24, 2026-12-07T06:05:24.847Z, nginx:1.25-alpine, engine 20.10.24+dfsg1";
    expect(mask(text)).toBe(text);
  });

  it("stays linear on a long run of words (a hostile name cannot stall it)", () => {
    const run = "a-".repeat(200_000) + "kvm1";
    expect(mask(run).endsWith(maskHost("kvm1"))).toBe(true);
  });
});

describe("maskForTenant", () => {
  it("masks every string of a value, keys included, and keeps a tracked event's envelope", () => {
    const symbol = Symbol("tracked");
    const value = { managerHost: "kvm2", byHost: { kvm1: ["10.10.0.11"] }, n: 3, ok: true, none: null, event: ["boot:1", { note: "settled from kvm1's inventory" }, symbol] };
    expect(maskForTenant(value, acme)).toEqual({
      managerHost: maskHost("kvm2"),
      byHost: { [maskHost("kvm1")]: [HIDDEN_ADDRESS] },
      n: 3,
      ok: true,
      none: null,
      event: ["boot:1", { note: `settled from ${maskHost("kvm1")}'s inventory` }, symbol],
    });
  });
});

describe("tenantBoundary", () => {
  const ctx = (role: "tenant" | "admin") => ({
    viewer: { userId: "u", name: "U", role, tenant: role === "tenant" ? "acme" : null },
    deps: { fleet: { hosts: () => hosts } } as never,
  });
  const failure = (err: NimbusError) => ({ ok: false as const, error: new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: err.message, cause: err }) });
  const noInput = () => Promise.resolve(undefined);

  it("masks a tenant's error message and details (stderr, tool arguments), keeping the code", async () => {
    const err = new NimbusError("TOOL_FAILED", "kvm1: virsh failed", { host: "kvm1", args: ["-c", "qemu+ssh://kvm2/system"], stderr: "error: 10.10.0.12 refused" });
    const out = await tenantBoundary(ctx("tenant"), failure(err), noInput);
    const cause = (out as { error: TRPCError }).error.cause as NimbusError;
    expect(cause.code).toBe("TOOL_FAILED");
    expect(JSON.stringify([cause.message, cause.details, (out as { error: TRPCError }).error.message])).not.toMatch(/kvm1|kvm2|10\.10\.0\.12/);
  });

  it("echoes the tenant's own words in a not-found message, so it cannot probe which names are hosts", async () => {
    const err = new NimbusError("NOT_FOUND", "instance kvm1 not found");
    const out = await tenantBoundary(ctx("tenant"), failure(err), () => Promise.resolve({ name: "kvm1" }));
    expect((out as { error: TRPCError }).error.message).toBe("instance kvm1 not found");
  });

  it("masks a host's own not-found answer even when the tenant slipped the host's name into its input", async () => {
    const err = new NimbusError("NOT_FOUND", "kvm1: domain acme-web1 not found", { host: "kvm1" });
    const out = await tenantBoundary(ctx("tenant"), failure(err), () => Promise.resolve({ name: "acme-web1", extra: "kvm1" }));
    expect((out as { error: TRPCError }).error.message).toBe(`${maskHost("kvm1")}: domain acme-web1 not found`);
  });

  it("masks each event of a tenant's stream and leaves staff results alone", async () => {
    async function* events() {
      yield { type: "swarm", swarm: { managerHost: "kvm2" } };
    }
    const out = await tenantBoundary(ctx("tenant"), { ok: true as const, data: events() }, noInput);
    const seen: unknown[] = [];
    for await (const e of out.data as AsyncIterable<unknown>) seen.push(e);
    expect(seen).toEqual([{ type: "swarm", swarm: { managerHost: maskHost("kvm2") } }]);
    const staff = { ok: true as const, data: { host: "kvm1" } };
    expect(await tenantBoundary(ctx("admin"), staff, noInput)).toBe(staff);
  });
});

describe("tenantSecrets", () => {
  it("follows the fleet: a host record replaced (a new VM address, a renamed node) is seen at once", () => {
    const before = tenantSecrets(hosts, "acme");
    expect(tenantSecrets(hosts, "acme")).toBe(before);
    const moved = [hypervisor("kvm1", [vm({ name: "acme-web1", tenant: "acme", nics: [nic("192.168.10.99")] })]), ...hosts.slice(1)];
    const after = tenantSecrets(moved, "acme");
    expect(after.ownAddresses.has("192.168.10.99")).toBe(true);
    expect(after.ownAddresses.has("192.168.10.11")).toBe(false);
    expect(tenantSecrets(hosts, "globex").ownAddresses.has("192.168.20.11")).toBe(true);
  });
});
