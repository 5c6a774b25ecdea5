import { describe, expect, it } from "vitest";
import type { HostRecord, LiveEvent, Operation, TenantInfo, Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import { LiveHub, StreamRevoked } from "../src/services/live-hub.js";
import type { TenantService } from "../src/deps.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

/** A fleet of two hypervisors whose changes the test announces by hand. */
function setup() {
  const hosts: HostRecord[] = [hypervisor("kvm1", [vm({ name: "acme-1", tenant: "acme" })]), hypervisor("kvm2", [vm({ name: "globex-1", tenant: "globex", nics: [] })])];
  const listeners = new Set<(e: FleetEvent) => void>();
  const fleet = {
    hosts: () => hosts,
    host: (n: string) => hosts.find((h) => h.name === n),
    subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
  } as unknown as FleetView;
  const directory = new Map<string, TenantInfo>([
    ["acme", { slug: "acme", name: "Acme", vni: 5001 }],
    ["globex", { slug: "globex", name: "Globex", vni: 5002 }],
  ]);
  const tenants = { directory: () => directory } as unknown as TenantService;
  const hub = new LiveHub(fleet, tenants, 1);
  const opListeners = new Set<(op: Operation) => void>();
  hub.attach({
    operations: { subscribe: (l) => (opListeners.add(l), () => opListeners.delete(l)) },
    health: { subscribe: () => () => {} },
    topology: { subscribe: () => () => {} },
  });
  const change = (name: string, ...changed: ("virt" | "net" | "connection")[]) => {
    for (const l of listeners) l({ type: "host", host: hosts.find((h) => h.name === name)!, changed });
  };
  return { hosts, hub, change };
}

const acme: Viewer = { userId: "a", name: "A", role: "tenant", tenant: "acme" };
const staff: Viewer = { userId: "s", name: "S", role: "oncall", tenant: null };

async function take(gen: AsyncGenerator<{ id: string; event: LiveEvent }>, n: number) {
  const out: { id: string; event: LiveEvent }[] = [];
  while (out.length < n) {
    const next = await gen.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("LiveHub", () => {
  it("starts a new stream with a reset, then delivers projected changes", async () => {
    const { hub, change } = setup();
    const gen = hub.stream(staff, null, undefined);
    expect((await take(gen, 1))[0]!.event).toEqual({ type: "reset" });
    change("kvm1", "virt");
    const events = (await take(gen, 2)).map((m) => m.event.type);
    expect(events).toEqual(["host", "host-instances"]);
    await gen.return(undefined);
  });

  it("gives a tenant only its instances, with host names masked, and nothing for hosts without them", async () => {
    const { hub, change } = setup();
    const gen = hub.stream(acme, null, undefined);
    await take(gen, 1);
    change("kvm2", "virt"); // globex only: nothing for acme
    change("kvm1", "virt");
    const [msg] = await take(gen, 1);
    expect(msg!.event.type).toBe("host-instances");
    const json = JSON.stringify(msg!.event);
    expect(json).toContain("acme-1");
    expect(json).not.toContain("globex");
    expect(json).not.toContain("kvm1");
    await gen.return(undefined);
  });

  it("replays what a reconnecting browser missed, and resets for an id of another process", async () => {
    const { hub, change } = setup();
    const first = hub.stream(staff, null, undefined);
    const [reset] = await take(first, 1);
    change("kvm1", "virt");
    const got = await take(first, 2);
    await first.return(undefined);
    change("kvm2", "virt");
    const again = hub.stream(staff, got[1]!.id, undefined);
    const replayed = await take(again, 1);
    expect(replayed[0]!.event).toMatchObject({ type: "host", summary: { name: "kvm2" } });
    await again.return(undefined);
    const foreign = hub.stream(staff, "otherboot:5", undefined);
    expect((await take(foreign, 1))[0]!.event).toEqual({ type: "reset" });
    expect(reset!.id.split(":")[0]).not.toBe("otherboot");
    await foreign.return(undefined);
  });

  it("ends a stream whose session no longer validates", async () => {
    const { hub } = setup();
    let valid = true;
    const gen = hub.stream(acme, null, undefined, { revalidate: async () => valid, revalidateMs: 10 });
    await take(gen, 1);
    valid = false;
    await expect(gen.next()).rejects.toBeInstanceOf(StreamRevoked);
  });
});
