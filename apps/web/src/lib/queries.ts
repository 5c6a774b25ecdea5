import type { QueryClient, QueryKey } from "@tanstack/react-query";
import type { HealthListQuery, HealthPage, HostListQuery, HostPage, InstanceListQuery, InstancePage, LiveEvent, MoveRecord, Operation, OperationPage, Page } from "@nimbus/domain";
import type { AppRouter } from "@nimbus/api";
import type { inferRouterOutputs } from "@trpc/server";
import type { useTRPC } from "./trpc";
import {
  applyHealthChanges,
  hostMountsDiffer,
  instanceDetailAfter,
  mergeOperation,
  replaceHostInstances,
  replaceHostNetwork,
  replaceHostSummaries,
  upsertMove,
  upsertOperation,
  withHostBridges,
  type MovesFilter,
  type OperationsFilter,
} from "./live-patch";
import { patchInstancePage, patchInstancePages, type InstancePages } from "@/features/instances/instance-pages-patch";
import { patchHostPages } from "@/features/hosts/host-pages-patch";
import { patchHealthPages, patchMovePages, patchOperationPages, type LoadedPages } from "./list-pages-patch";
import { applyLoadBalancer } from "@/features/load-balancers/lb-live";

/**
 * The one place that knows which cached queries hold what. tRPC derives each key from the
 * procedure path and input; the only inputs chosen by hand are here, so the pages that read a
 * list and the live channel that patches it always agree.
 */
export type Trpc = ReturnType<typeof useTRPC>;
type HostDetail = inferRouterOutputs<AppRouter>["hosts"]["get"];
type InstanceDetail = inferRouterOutputs<AppRouter>["instances"]["get"];

const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

/** Input of the operations list every page shares (Operations page, table rows, overview). */
export const RECENT_OPERATIONS = { limit: 100 } as const;
export const operationsForTarget = (type: Operation["target"]["type"], name: string) => ({ target: { type, name }, limit: 50 });

const inputOf = (key: QueryKey): OperationsFilter | undefined => (key[1] as { input?: OperationsFilter } | undefined)?.input;

/** Put a fresh operation (mutation result or pushed update) everywhere it is shown. */
export function storeOperation(qc: QueryClient, trpc: Trpc, op: Operation) {
  qc.setQueryData(trpc.operations.get.queryKey({ id: op.id }), (prev: Operation | undefined) => mergeOperation(prev, op));
  for (const [key, list] of qc.getQueriesData<Operation[]>({ queryKey: trpc.operations.list.pathKey() })) {
    const next = upsertOperation(list, op, inputOf(key));
    if (next !== list) qc.setQueryData(key, next);
  }
  // The Operations page holds pages by offset: the row in place, a page again only when what it shows, counts or orders may change.
  patchPageQueries<OperationPage>(qc, trpc.operations.page.pathKey(), 250, (pages, input) => patchOperationPages(pages, input, op));
  qc.setQueriesData({ queryKey: trpc.instances.get.pathKey() }, (detail: { instance: { name: string }; operations: Operation[] } | undefined) => {
    if (!detail || op.target.type !== "instance" || detail.instance.name !== op.target.name) return detail;
    return { ...detail, operations: upsertOperation(detail.operations, op) ?? detail.operations };
  });
}

/** A moved VM or disk changes the moves history (overall and the VM's own) as it runs and ends. */
function storeMove(qc: QueryClient, trpc: Trpc, op: Operation) {
  if (op.kind !== "migrate" && op.kind !== "storage-move") return;
  const now = new Date().toISOString();
  for (const [key, list] of qc.getQueriesData<MoveRecord[]>({ queryKey: trpc.history.moves.pathKey() })) {
    const next = upsertMove(list, op, (inputOf(key) ?? {}) as MovesFilter, now);
    if (next !== list) qc.setQueryData(key, next);
  }
  patchPageQueries<Page<MoveRecord>>(qc, trpc.history.movesPage.pathKey(), 250, (pages, input) => patchMovePages(pages, input as Parameters<typeof patchMovePages>[1], op, now));
  for (const [key, list] of qc.getQueriesData<MoveRecord[]>({ queryKey: trpc.instances.history.pathKey() })) {
    const input = (key[1] as { input?: { name: string; limit?: number } } | undefined)?.input;
    if (!input) continue;
    const next = upsertMove(list, op, { instance: input.name, limit: input.limit }, now);
    if (next !== list) qc.setQueryData(key, next);
  }
}

/**
 * The checks an open dialog shows (migration preflight, disk-move targets) are computed by the
 * server from the inventory: refetched when what they judge changed, at most four times a second.
 */
function invalidateChecksSoon(qc: QueryClient, trpc: Trpc) {
  for (const key of [trpc.instances.preflight.pathKey(), trpc.datastores.moveTargets.pathKey()])
    if (qc.getQueriesData({ queryKey: key }).length) invalidateSoon(qc, key, 250);
}

/**
 * Pushed changes against every cached page query of a paged list: a sparse table caches one page
 * per query (by offset), an infinite one its loaded pages; both go through the same rule (`patch`,
 * on loaded pages), each query is reloaded (soon, once) when the rule says so.
 */
function patchPageQueries<P extends { items: unknown[]; offset: number }>(
  qc: QueryClient,
  pathKey: QueryKey,
  ms: number,
  patch: (pages: LoadedPages<P> | undefined, input: unknown) => { data: LoadedPages<P> | undefined; refetch: boolean },
) {
  for (const [key, cached] of qc.getQueriesData<LoadedPages<P> | P>({ queryKey: pathKey })) {
    const single = !!cached && "items" in cached;
    const loaded = single ? { pages: [cached as P], pageParams: [(cached as P).offset] } : (cached as LoadedPages<P> | undefined);
    const next = patch(loaded, (key[1] as { input?: unknown } | undefined)?.input);
    if (next.data !== loaded) qc.setQueryData(key, single ? next.data?.pages[0] : next.data);
    if (next.refetch) invalidateSoon(qc, key, ms);
  }
}

/** Counts on the overview are computed by the server; refresh them at most once a second. */
const pendingByClient = new WeakMap<QueryClient, Map<string, ReturnType<typeof setTimeout>>>();
function invalidateSoon(qc: QueryClient, key: QueryKey, ms = 1_000) {
  // Per client: a refresh queued for one cache must not swallow another's.
  let pending = pendingByClient.get(qc);
  if (!pending) pendingByClient.set(qc, (pending = new Map()));
  const id = JSON.stringify(key);
  if (pending.has(id)) return;
  pending.set(
    id,
    setTimeout(() => {
      pending.delete(id);
      void qc.invalidateQueries({ queryKey: key });
    }, ms),
  );
}

type Datastores = { datastores: { path: string; level: string }[] };
/** A datastore appeared, went or changed level, or one is over a threshold (its suggestion moves with usage). */
export function capacityMayHaveChanged(before: Datastores | undefined, after: Datastores): boolean {
  if (!before || before.datastores.length !== after.datastores.length) return true;
  const levels = new Map(before.datastores.map((d) => [d.path, d.level]));
  return after.datastores.some((d) => levels.get(d.path) !== d.level || d.level !== "ok");
}

/**
 * A pushed overview wins over a fetch of it still in flight (e.g. the refetch after the stream's
 * reset): that fetch may have been answered before the change the event carries and land after
 * it, putting the older state back for good, since the server sends a change once. So the fetch
 * is cancelled and the event applied then. Only an event that carries the whole object (`whole`)
 * may stand in for the fetch: a partial one is applied and the fetch lets land (it may bring what
 * changed before the stream was open).
 */
function overFetchInFlight(qc: QueryClient, key: QueryKey, apply: () => void, { whole }: { whole: boolean }) {
  if (!whole || !qc.isFetching({ queryKey: key, exact: true })) return apply();
  void qc.cancelQueries({ queryKey: key, exact: true }).then(apply);
}

/** Patch the cache from one pushed event: no refetch of what the event already carries. */
export function applyLiveEvent(qc: QueryClient, trpc: Trpc, ev: LiveEvent) {
  switch (ev.type) {
    case "reset":
      void qc.invalidateQueries();
      return;
    case "hosts": {
      const { summaries } = ev;
      qc.setQueryData(trpc.hosts.list.queryKey(), (list) => replaceHostSummaries(list, summaries));
      // The Hosts page holds pages by offset: rows in place, a page again only when what it shows or counts may change.
      patchPageQueries<HostPage>(qc, trpc.hosts.page.pathKey(), 500, (pages, input) => patchHostPages(pages, (input as HostListQuery | undefined) ?? {}, summaries));
      const byName = new Map(summaries.map((s) => [s.name, s]));
      // One look at the open host pages, not one key lookup per host of the batch.
      for (const [detailKey, detail] of qc.getQueriesData<HostDetail>({ queryKey: trpc.hosts.get.pathKey() })) {
        const summary = detail && byName.get(detail.summary.name);
        if (!summary) continue;
        qc.setQueryData(detailKey, { ...detail, summary });
        // The connection record (pinned/offered key, retry time) is not in the event: reload
        // this one host when its state changed.
        if (detail.host.connection.state !== summary.state || detail.host.maintenance !== summary.maintenance) invalidateSoon(qc, detailKey, 0);
      }
      const views = qc.getQueryData(trpc.maintenance.list.queryKey());
      if (views?.some((v) => byName.has(v.host) && v.flag !== byName.get(v.host)!.maintenance)) invalidateSoon(qc, trpc.maintenance.list.queryKey(), 0);
      break;
    }
    case "host-instances": {
      const { host, instances } = ev;
      qc.setQueryData(trpc.instances.list.queryKey(), (list) => replaceHostInstances(list, host, instances));
      // The Instances page holds pages by offset, not the fleet: patch the rows they show, reload a page only when what it shows or counts may change.
      for (const [key, cached] of qc.getQueriesData<InstancePages | InstancePage>({ queryKey: trpc.instances.page.pathKey() })) {
        const filter = (key[1] as { input?: InstanceListQuery } | undefined)?.input ?? {};
        const next = cached && "items" in cached ? patchInstancePage(cached, filter, host, instances, ev) : patchInstancePages(cached, filter, host, instances);
        if (next.data !== cached) qc.setQueryData(key, next.data);
        if (next.refetch) invalidateSoon(qc, key, 500);
      }
      const detailKey = trpc.hosts.get.queryKey({ name: host });
      qc.setQueryData(detailKey, (d) => (d ? { ...d, instances } : d));
      for (const [key, detail] of qc.getQueriesData<InstanceDetail>({ queryKey: trpc.instances.get.pathKey() })) {
        const next = instanceDetailAfter(detail, host, instances);
        if (next.detail !== detail) qc.setQueryData(key, next.detail);
        // Disks and NICs are not in the event: a moved VM or disk reloads its definition.
        if (next.refetch) invalidateSoon(qc, key, 0);
      }
      // An open migrate or disk-move dialog judges from what hosts run (RAM committed, paths).
      invalidateChecksSoon(qc, trpc);
      // "In maintenance" means empty: a host's running VMs decide it (the server says so).
      const view = qc.getQueryData(trpc.maintenance.list.queryKey())?.find((v) => v.host === host);
      // By what the host last reported, as the server decides it (an unreachable host's VMs still count).
      const running = instances.filter((i) => i.reportedState === "running" || i.reportedState === "paused").map((i) => i.name);
      if (view && view.runningVms.join() !== running.join()) invalidateSoon(qc, trpc.maintenance.list.queryKey(), 250);
      // A disk that changed datastore moves the capacity figures and their suggestions.
      invalidateSoon(qc, trpc.datastores.capacity.pathKey());
      // Quota usage counts defined instances: one created, deleted or resized moves it.
      invalidateSoon(qc, trpc.tenants.quota.pathKey(), 250);
      break;
    }
    case "host-network": {
      qc.setQueryData(trpc.network.overview.queryKey(), (list) => replaceHostNetwork(list, ev.network));
      const detailKey = trpc.hosts.get.queryKey({ name: ev.network.host });
      const detail = qc.getQueryData(detailKey);
      const next = withHostBridges(detail, ev.network);
      if (next !== detail) qc.setQueryData(detailKey, next);
      else if (detail && !detail.host.inventory.net) invalidateSoon(qc, detailKey, 0);
      // Bridges, VLANs and the host's connection (this event follows it) decide the checks.
      invalidateChecksSoon(qc, trpc);
      break;
    }
    case "swarm": {
      const key = trpc.swarm.overview.queryKey();
      overFetchInFlight(qc, key, () => qc.setQueryData(key, ev.swarm), { whole: true });
      // An open migrate dialog shows the tasks its VM runs (they leave while it is drained).
      invalidateSoon(qc, trpc.instances.preflight.pathKey(), 250);
      break;
    }
    case "storage":
      // Without mounts in the event, the ones already shown still hold (the server sends them on change).
      const before = qc.getQueryData(trpc.storage.overview.queryKey());
      const storageKey = trpc.storage.overview.queryKey();
      overFetchInFlight(qc, storageKey, () => qc.setQueryData(storageKey, (prev) => (ev.storage.mounts ? { ...ev.storage, mounts: ev.storage.mounts } : prev ? { ...ev.storage, mounts: prev.mounts } : prev)), { whole: !!ev.storage.mounts });
      // Suggestions depend on which datastores are over a threshold: refetch them when that may
      // have changed, not on every usage tick (at fleet size they weigh thousands of disks).
      if (capacityMayHaveChanged(before, ev.storage)) invalidateSoon(qc, trpc.datastores.capacity.pathKey());
      if (ev.storage.mounts) {
        const mounts = ev.storage.mounts;
        for (const [key, detail] of qc.getQueriesData<HostDetail>({ queryKey: trpc.hosts.get.pathKey() }))
          if (detail && hostMountsDiffer(detail.host, mounts)) invalidateSoon(qc, key, 0);
        invalidateChecksSoon(qc, trpc);
      }
      break;
    case "health-changes":
      qc.setQueryData(trpc.health.list.queryKey(), (list) => applyHealthChanges(list, ev.upsert, ev.remove));
      patchPageQueries<HealthPage>(qc, trpc.health.page.pathKey(), 250, (pages, input) => patchHealthPages(pages, input as HealthListQuery | undefined, ev.upsert, ev.remove));
      break;
    case "load-balancer":
      // Backends' states, sessions and request shares, pushed when the edge host's `show stat` moved.
      qc.setQueryData(trpc.loadBalancers.list.queryKey(), (list) => applyLoadBalancer(list, ev.name, ev.lb));
      break;
    case "operation":
      storeOperation(qc, trpc, ev.operation);
      storeMove(qc, trpc, ev.operation);
      if (ev.operation.kind === "lb-apply") invalidateSoon(qc, trpc.loadBalancers.list.queryKey(), 250);
      // A create counts against its tenant from the moment it is accepted until it ends.
      if ((ev.operation.kind === "create" || ev.operation.kind === "delete") && isFinal(ev.operation.state)) invalidateSoon(qc, trpc.tenants.quota.pathKey(), 250);
      if (ev.operation.kind === "maintenance") {
        const view = qc.getQueryData(trpc.maintenance.list.queryKey())?.find((v) => v.host === ev.operation.target.name);
        const evacuating = !isFinal(ev.operation.state);
        if (view && (view.operationId !== null) !== evacuating) invalidateSoon(qc, trpc.maintenance.list.queryKey(), 0);
      }
      break;
    case "topology": {
      // Topology is derived on the server; the event says only that it changed.
      const key = trpc.network.topology.queryKey();
      if (qc.getQueryData(key)?.version !== ev.version) void qc.invalidateQueries({ queryKey: key });
      break;
    }
  }
  invalidateSoon(qc, trpc.overview.get.queryKey());
}
