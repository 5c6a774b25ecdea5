"use client";
import { useQuery } from "@tanstack/react-query";
import { Select } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { LiveOperationById } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { MovesTable } from "./moves-table";

const KINDS = ["migrate", "storage-move"] as const;
const RESULTS = ["running", "succeeded", "failed", "cancelled"] as const;
const oneOf = <T extends string>(list: readonly T[], v: string): T | undefined => (list as readonly string[]).includes(v) ? (v as T) : undefined;

/** Every move across the fleet; the filters live in the URL and are applied by the server. */
export function MovesPage() {
  const trpc = useTRPC();
  const [instance, setInstance] = useUrlParam("instance");
  const [host, setHost] = useUrlParam("host");
  const [kind, setKind] = useUrlParam("kind");
  const [result, setResult] = useUrlParam("result");
  const [by, setBy] = useUrlParam("by");
  const [sorting, setSorting] = useUrlSort([{ id: "startedAt", desc: true }]);
  const now = useNow();
  const input = {
    instance: instance || undefined,
    host: host || undefined,
    kind: oneOf(KINDS, kind),
    result: oneOf(RESULTS, result),
    requestedBy: by || undefined,
    limit: 200,
  };
  const moves = useQuery(trpc.history.moves.queryOptions(input));
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const instances = useQuery(trpc.instances.list.queryOptions());
  const hypervisors = (hosts.data ?? []).filter((h) => h.roles.includes("hypervisor")).map((h) => h.name);
  const vmNames = [...new Set((instances.data ?? []).map((i) => i.name))].sort();
  const people = [...new Set([...(moves.data ?? []).map((m) => m.requestedBy), ...(by ? [by] : [])])].sort();
  const filtered = !!(instance || host || kind || result || by);

  return (
    <>
      <PageHeader title="Moves" description="Live migrations and disk moves: who moved what, from where to where, with which options, how long it took, the measured downtime and how it ended." />
      <Toolbar count={countLabel(moves.data?.length, moves.data?.length, "moves")}>
        <Select aria-label="Instance" value={instance} onChange={(e) => setInstance(e.target.value)}>
          <option value="">Any instance</option>
          {withCurrent(vmNames, instance).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </Select>
        <Select aria-label="Host" value={host} onChange={(e) => setHost(e.target.value)}>
          <option value="">Any host</option>
          {withCurrent(hypervisors, host).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </Select>
        <Select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">Any kind</option>
          <option value="migrate">Live migrations</option>
          <option value="storage-move">Disk moves</option>
        </Select>
        <Select aria-label="Result" value={result} onChange={(e) => setResult(e.target.value)}>
          <option value="">Any result</option>
          <option value="running">Running</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
          <option value="cancelled">Cancelled</option>
        </Select>
        <Select aria-label="Requested by" value={by} onChange={(e) => setBy(e.target.value)}>
          <option value="">Anyone</option>
          {people.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </Select>
      </Toolbar>
      <MovesTable
        moves={moves.data}
        now={now}
        isLoading={moves.isPending}
        error={moves.error}
        onRetry={() => void moves.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        filtered={filtered}
        renderRunning={(m) => <LiveOperationById id={m.id} compact />}
      />
    </>
  );
}

/** A value from the URL stays selectable even when the list does not (yet) contain it. */
const withCurrent = (list: string[], current: string) => (current && !list.includes(current) ? [current, ...list] : list);
