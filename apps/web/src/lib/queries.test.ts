import { QueryClient } from "@tanstack/react-query";
import { createTRPCClient } from "@trpc/client";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import type { AppRouter } from "@nimbus/api";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { byUrgency } from "@nimbus/domain";
import { healthChecks, hostDetail, hostSummaries, instanceDetail, instances, kvm2, migrating, network, storage, swarm } from "@/fixtures/views";
import { diskMoving, evacuating, maintenancePlan } from "@/fixtures/moves";
import { created, creating } from "@/fixtures/provision";
import { RECENT_OPERATIONS, applyLiveEvent, capacityMayHaveChanged, operationsForTarget, storeOperation } from "./queries";

/**
 * The live channel must patch exactly the keys the pages read. These tests build keys the way
 * pages do (trpc.x.queryOptions/queryKey) and check that an event lands there.
 */
function setup() {
  const qc = new QueryClient();
  // No link is ever called: only keys are built.
  const trpc = createTRPCOptionsProxy<AppRouter>({ client: createTRPCClient<AppRouter>({ links: [] }), queryClient: qc });
  return { qc, trpc };
}

describe("applyLiveEvent", () => {
  it("replaces the host rows of a batch in hosts.list and the summary in each open hosts.get", () => {
    const { qc, trpc } = setup();
    qc.setQueryData(trpc.hosts.list.queryKey(), hostSummaries);
    qc.setQueryData(trpc.hosts.get.queryKey({ name: "kvm1" }), hostDetail);
    const changed = { ...hostDetail.summary, cpuUsagePct: 99 };
    const other = { ...hostSummaries.find((h) => h.name === "kvm2")!, cpuUsagePct: 42 };
    applyLiveEvent(qc, trpc, { type: "hosts", summaries: [other, changed] });
    const list = qc.getQueryData(trpc.hosts.list.queryKey())!;
    expect(list.find((h) => h.name === "kvm1")!.cpuUsagePct).toBe(99);
    expect(list.find((h) => h.name === "kvm2")!.cpuUsagePct).toBe(42);
    expect(qc.getQueryData(trpc.hosts.get.queryKey({ name: "kvm1" }))!.summary.cpuUsagePct).toBe(99);
  });

  it("patches health.list with a delta, worst first", () => {
    const { qc, trpc } = setup();
    const list = [...healthChecks].sort(byUrgency);
    qc.setQueryData(trpc.health.list.queryKey(), list);
    const failing = { ...list.find((c) => c.id === "host:kvm1")!, state: "crit" as const, since: "2020-01-01T00:00:00.000Z" };
    applyLiveEvent(qc, trpc, { type: "health-changes", upsert: [failing], remove: ["host:kvm3"] });
    const after = qc.getQueryData(trpc.health.list.queryKey())!;
    expect(after[0]).toEqual(failing);
    expect(after.map((c) => c.id)).not.toContain("host:kvm3");
    expect(after).toHaveLength(list.length - 1);
  });

  it("replaces one host's instances in instances.list", () => {
    const { qc, trpc } = setup();
    qc.setQueryData(trpc.instances.list.queryKey(), instances);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm2", instances: [] });
    const after = qc.getQueryData(trpc.instances.list.queryKey())!;
    expect(after.some((i) => i.host === "kvm2")).toBe(false);
    expect(after.filter((i) => i.host === "kvm1")).toHaveLength(instances.filter((i) => i.host === "kvm1").length);
  });

  it("keeps the mounts it has when a storage event leaves them out, and takes new ones when sent", () => {
    const { qc, trpc } = setup();
    const key = trpc.storage.overview.queryKey();
    qc.setQueryData(key, storage);
    const { mounts, ...rest } = storage;
    const fuller = { ...rest, datastores: rest.datastores.map((d) => ({ ...d, usedPct: 99 })) };
    applyLiveEvent(qc, trpc, { type: "storage", storage: fuller });
    expect(qc.getQueryData(key)).toEqual({ ...fuller, mounts });
    applyLiveEvent(qc, trpc, { type: "storage", storage: { ...fuller, mounts: [] } });
    expect(qc.getQueryData(key)?.mounts).toEqual([]);
  });

  it("refetches capacity suggestions only when a datastore's level may have changed", () => {
    const ok = { datastores: [{ path: "/a", level: "ok" }, { path: "/b", level: "ok" }] };
    expect(capacityMayHaveChanged(ok, ok)).toBe(false);
    expect(capacityMayHaveChanged(undefined, ok)).toBe(true);
    expect(capacityMayHaveChanged(ok, { datastores: [{ path: "/a", level: "warn" }, { path: "/b", level: "ok" }] })).toBe(true);
    const warn = { datastores: [{ path: "/a", level: "warn" }] };
    expect(capacityMayHaveChanged(warn, warn)).toBe(true);
    expect(capacityMayHaveChanged(ok, { datastores: [{ path: "/a", level: "ok" }] })).toBe(true);
  });

  it("sets the whole swarm overview", () => {
    const { qc, trpc } = setup();
    applyLiveEvent(qc, trpc, { type: "swarm", swarm });
    expect(qc.getQueryData(trpc.swarm.overview.queryKey())).toBe(swarm);
  });

  it("an overview pushed while a fetch of it is in flight is not put back by that fetch landing later with the state before the change", async () => {
    const { qc, trpc } = setup();
    const key = trpc.swarm.overview.queryKey();
    const before = { ...swarm, managerHost: "manager-before-the-change" };
    qc.setQueryData(key, before);
    // The refetch after the stream's reset: answered before the change, it lands after the event.
    let land!: (v: typeof swarm) => void;
    const inFlight = qc.fetchQuery({ queryKey: key, queryFn: () => new Promise<typeof swarm>((r) => (land = r)), staleTime: 0 }).catch(() => undefined);
    expect(qc.isFetching({ queryKey: key })).toBe(1);
    applyLiveEvent(qc, trpc, { type: "swarm", swarm });
    land(before);
    await inFlight;
    await vi.waitFor(() => expect(qc.getQueryData(key)).toEqual(swarm));
    expect(qc.isFetching({ queryKey: key })).toBe(0);
    // Nothing in flight: applied at once, as before.
    applyLiveEvent(qc, trpc, { type: "swarm", swarm: before });
    expect(qc.getQueryData(key)).toEqual(before);
  });

  it("a fetch in flight lands as it is under an event that carries a part only (it may bring what changed before the stream was open)", async () => {
    const { qc, trpc } = setup();
    const key = trpc.storage.overview.queryKey();
    qc.setQueryData(key, { ...storage, mounts: [] });
    let land!: (v: typeof storage) => void;
    const first = qc.fetchQuery({ queryKey: key, queryFn: () => new Promise<typeof storage>((r) => (land = r)), staleTime: 0 }).catch(() => undefined);
    // Without mounts the event cannot stand for the overview: the fetch is left to land.
    applyLiveEvent(qc, trpc, { type: "storage", storage: { ...storage, mounts: undefined } });
    land(storage);
    await first;
    expect(qc.getQueryData(key)).toEqual(storage);
  });

  it("upserts an operation into the shared list, the per-target list and operations.get", () => {
    const { qc, trpc } = setup();
    qc.setQueryData(trpc.operations.list.queryKey(RECENT_OPERATIONS), []);
    qc.setQueryData(trpc.operations.list.queryKey(operationsForTarget("instance", "acme-db")), []);
    qc.setQueryData(trpc.operations.list.queryKey(operationsForTarget("instance", "acme-web")), []);
    applyLiveEvent(qc, trpc, { type: "operation", operation: migrating });
    expect(qc.getQueryData(trpc.operations.list.queryKey(RECENT_OPERATIONS))).toEqual([migrating]);
    expect(qc.getQueryData(trpc.operations.list.queryKey(operationsForTarget("instance", "acme-db")))).toEqual([migrating]);
    expect(qc.getQueryData(trpc.operations.list.queryKey(operationsForTarget("instance", "acme-web")))).toEqual([]);
    expect(qc.getQueryData(trpc.operations.get.queryKey({ id: migrating.id }))).toEqual(migrating);
  });

  it("invalidates everything on reset", async () => {
    const { qc, trpc } = setup();
    qc.setQueryData(trpc.hosts.list.queryKey(), hostSummaries);
    qc.setQueryData(trpc.health.list.queryKey(), healthChecks);
    applyLiveEvent(qc, trpc, { type: "reset" });
    expect(qc.getQueryState(trpc.hosts.list.queryKey())!.isInvalidated).toBe(true);
    expect(qc.getQueryState(trpc.health.list.queryKey())!.isInvalidated).toBe(true);
  });
});

describe("storeOperation", () => {
  it("adds a started operation to the instance detail's history", () => {
    const { qc, trpc } = setup();
    const key = trpc.instances.get.queryKey({ name: "acme-db" });
    qc.setQueryData(key, { instance: instances.find((i) => i.name === "acme-db")!, domain: hostDetail.host.inventory.virt!.domains[3]!, operations: [] });
    storeOperation(qc, trpc, migrating);
    expect(qc.getQueryData(key)!.operations).toEqual([migrating]);
  });
});

describe("moves and maintenance from pushed operations", () => {
  it("puts a disk move into the overall history and into that VM's own", () => {
    const { qc, trpc } = setup();
    qc.setQueryData(trpc.history.moves.queryKey({ limit: 200 }), []);
    qc.setQueryData(trpc.history.moves.queryKey({ kind: "migrate", limit: 200 }), []);
    qc.setQueryData(trpc.instances.history.queryKey({ name: "acme-db" }), []);
    qc.setQueryData(trpc.instances.history.queryKey({ name: "acme-web" }), []);
    applyLiveEvent(qc, trpc, { type: "operation", operation: diskMoving });
    expect(qc.getQueryData(trpc.history.moves.queryKey({ limit: 200 }))!.map((r) => r.id)).toEqual([diskMoving.id]);
    expect(qc.getQueryData(trpc.history.moves.queryKey({ kind: "migrate", limit: 200 }))).toEqual([]);
    expect(qc.getQueryData(trpc.instances.history.queryKey({ name: "acme-db" }))!.map((r) => r.to)).toEqual(["/instance2"]);
    expect(qc.getQueryData(trpc.instances.history.queryKey({ name: "acme-web" }))).toEqual([]);
  });

  // Refreshes are batched on a timer: fake time runs them without waiting.
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("refreshes where hosts stand with maintenance when an evacuation ends", () => {
    const { qc, trpc } = setup();
    const key = trpc.maintenance.list.queryKey();
    qc.setQueryData(key, [{ ...maintenancePlan.view, state: "evacuating", flag: true, operationId: evacuating.id }]);
    applyLiveEvent(qc, trpc, { type: "operation", operation: evacuating });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(false);
    applyLiveEvent(qc, trpc, { type: "operation", operation: { ...evacuating, state: "succeeded", finishedAt: evacuating.updatedAt } });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(true);
  });

  it("refreshes it when the host's last VM leaves, not for another host", () => {
    const { qc, trpc } = setup();
    const key = trpc.maintenance.list.queryKey();
    qc.setQueryData(key, [{ ...maintenancePlan.view, runningVms: ["acme-db"] }]);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm2", instances: [] });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(false);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm1", instances: [] });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(true);
  });
});

/**
 * Detail panels follow the live channel: after a migration, an evacuation or a disk move, a host's
 * "Bridges and ports" and an instance's Disks show what the hosts now report, without a reload.
 */
describe("detail panels after a move", () => {
  /** Whether the query was marked for a refetch once queued refreshes ran. */
  const reloadedAfter = (qc: QueryClient, key: readonly unknown[], ms: number) => {
    vi.advanceTimersByTime(ms);
    return qc.getQueryState(key)!.isInvalidated;
  };
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("a host page's bridges lose the port of a VM that left and gain the one that arrived", () => {
    const { qc, trpc } = setup();
    const key = trpc.hosts.get.queryKey({ name: "kvm1" });
    qc.setQueryData(key, hostDetail);
    const ports = (bridges: NonNullable<typeof hostDetail.host.inventory.net>["bridges"]) => bridges.flatMap((b) => b.ports.flatMap((p) => (p.attached ? [p.attached.domain] : [])));
    expect(ports(hostDetail.host.inventory.net!.bridges)).toContain("acme-db");
    // acme-db left for kvm2; kvm2's globex-app2 arrived (kvm2's port moved over).
    const arrived = kvm2.inventory.net!.bridges.flatMap((b) => b.ports.filter((p) => p.attached)).find((p) => p.attached!.domain !== "acme-db")!;
    const bridges = hostDetail.host.inventory.net!.bridges.map((b) => ({
      ...b,
      ports: [...b.ports.filter((p) => p.attached?.domain !== "acme-db"), ...(b.type === "ovs" ? [arrived] : [])],
    }));
    applyLiveEvent(qc, trpc, { type: "host-network", network: { host: "kvm1", state: "online", bridges } });
    const after = qc.getQueryData(key)!;
    expect(ports(after.host.inventory.net!.bridges)).not.toContain("acme-db");
    expect(ports(after.host.inventory.net!.bridges)).toContain(arrived.attached!.domain);
    // Another host's network leaves this page alone.
    applyLiveEvent(qc, trpc, { type: "host-network", network: network.find((n) => n.host === "kvm2")! });
    expect(qc.getQueryData(key)).toBe(after);
  });

  it("an instance page reloads its definition (Disks) when its disk moved", () => {
    const { qc, trpc } = setup();
    const key = trpc.instances.get.queryKey({ name: "acme-db" });
    qc.setQueryData(key, instanceDetail);
    const moved = { ...instanceDetail.instance, diskPaths: ["/instance2/acme-db.qcow2"] };
    const rest = hostDetail.instances.filter((i) => i.name !== "acme-db");
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm1", instances: [...rest, moved] });
    expect(qc.getQueryData(key)!.instance.diskPaths).toEqual(["/instance2/acme-db.qcow2"]);
    expect(reloadedAfter(qc, key, 0)).toBe(true);
  });

  it("an instance page reloads when its VM left its host or arrived on another, and not for other VMs", () => {
    const { qc, trpc } = setup();
    const key = trpc.instances.get.queryKey({ name: "acme-db" });
    qc.setQueryData(key, instanceDetail);
    const others = hostDetail.instances.filter((i) => i.name !== "acme-db");
    // kvm1 pushes a change to another VM: acme-db is as it was.
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm1", instances: [...others.slice(1), { ...instanceDetail.instance }] });
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm2", instances: [] });
    expect(reloadedAfter(qc, key, 1_000)).toBe(false);
    // The destination reports it: the server says again where the instance is.
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm2", instances: [{ ...instanceDetail.instance, host: "kvm2" }] });
    expect(qc.getQueryData(key)!.instance.host).toBe("kvm1");
    expect(reloadedAfter(qc, key, 0)).toBe(true);

    qc.setQueryData(key, instanceDetail);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm1", instances: others });
    expect(reloadedAfter(qc, key, 0)).toBe(true);
  });

  it("an open migrate dialog re-runs its checks when a host's VMs or network change", () => {
    const { qc, trpc } = setup();
    const key = trpc.instances.preflight.queryKey({ name: "acme-db" });
    qc.setQueryData(key, { instance: "acme-db" } as never);
    applyLiveEvent(qc, trpc, { type: "host-network", network: { ...network.find((n) => n.host === "kvm2")!, state: "unreachable" } });
    expect(reloadedAfter(qc, key, 300)).toBe(true);
  });

  it("a host page reloads when its NFS mounts changed, not for another host's", () => {
    const { qc, trpc } = setup();
    const key = trpc.hosts.get.queryKey({ name: "kvm1" });
    qc.setQueryData(key, hostDetail);
    const same = storage.mounts;
    const { mounts: _, ...rest } = storage;
    applyLiveEvent(qc, trpc, { type: "storage", storage: { ...rest, mounts: same.filter((m) => m.host !== "kvm2") } });
    expect(reloadedAfter(qc, key, 0)).toBe(false);
    applyLiveEvent(qc, trpc, { type: "storage", storage: { ...rest, mounts: same.filter((m) => m.host !== "kvm1") } });
    expect(reloadedAfter(qc, key, 0)).toBe(true);
  });
});

/** Quota usage counts defined instances and creates in flight: it follows creates, deletes and hosts' instances. */
describe("quota usage from pushed events", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());
  const quotaView = { tenant: "acme", quota: { instances: 4, vcpus: null, memoryMiB: null, diskGiB: null }, usage: { instances: 2, vcpus: 2, memoryMiB: 2048, diskGiB: 20 }, rows: [], custom: true };

  it("refetches a tenant's quota when a create or delete ends, not while it runs", () => {
    const { qc, trpc } = setup();
    const key = trpc.tenants.quota.queryKey({ tenant: "acme" });
    qc.setQueryData(key, quotaView);
    applyLiveEvent(qc, trpc, { type: "operation", operation: creating });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(false);
    applyLiveEvent(qc, trpc, { type: "operation", operation: created });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(true);
  });

  it("refetches it when a host's instances change (a VM defined or undefined)", () => {
    const { qc, trpc } = setup();
    const key = trpc.tenants.quota.queryKey({});
    qc.setQueryData(key, quotaView);
    applyLiveEvent(qc, trpc, { type: "host-instances", host: "kvm1", instances: [] });
    vi.advanceTimersByTime(2_000);
    expect(qc.getQueryState(key)!.isInvalidated).toBe(true);
  });

  it("puts a create's pushed steps into its operation page", () => {
    const { qc, trpc } = setup();
    const key = trpc.operations.get.queryKey({ id: creating.id });
    qc.setQueryData(key, { ...creating, updatedAt: "2026-11-25T11:59:00.000Z", steps: creating.steps.map((s) => ({ ...s, state: "pending" as const })) });
    applyLiveEvent(qc, trpc, { type: "operation", operation: creating });
    expect(qc.getQueryData(key)!.steps.map((s) => s.state)).toEqual(creating.steps.map((s) => s.state));
  });
});
