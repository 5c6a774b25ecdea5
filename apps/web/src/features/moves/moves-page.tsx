"use client";
import { useQuery } from "@tanstack/react-query";
import { HostName, type MoveRecord, type Page } from "@nimbus/domain";
import { useCallback, useId, useMemo } from "react";
import { Input, SearchInput, Select } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { LiveOperationById } from "@/features/operations/live-operation";
import { useNow } from "@/lib/clock";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { useTRPC } from "@/lib/trpc";
import { useDebounced } from "@/lib/use-debounced";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { MovesTable } from "./moves-table";

const KINDS = ["migrate", "storage-move"] as const;
const RESULTS = ["running", "succeeded", "failed", "cancelled"] as const;
const oneOf = <T extends string>(list: readonly T[], v: string): T | "" => ((list as readonly string[]).includes(v) ? (v as T) : "");
/** Rows per request, by offset, under the window in view; suggestions offered in a picker. */
export const MOVES_PAGE = 100;
const SUGGESTIONS = 20;

/** The page's URL as the query the server answers (names are exact; bad ones are dropped, not sent). */
export function movesQuery(p: { instance: string; host: string; kind: string; result: string; by: string; q: string; desc: boolean }) {
  const name = (v: string) => (HostName.safeParse(v).success ? v : "");
  return { instance: name(p.instance), host: name(p.host), kind: oneOf(KINDS, p.kind), result: oneOf(RESULTS, p.result), requestedBy: p.by.slice(0, 128), q: p.q.trim(), desc: p.desc, limit: MOVES_PAGE };
}

/** Every move across the fleet; the filters live in the URL and are applied by the database, a page at a time. */
export function MovesPage() {
  const trpc = useTRPC();
  const [instance, setInstance] = useUrlParam("instance");
  const [host, setHost] = useUrlParam("host");
  const [kind, setKind] = useUrlParam("kind");
  const [result, setResult] = useUrlParam("result");
  const [by, setBy] = useUrlParam("by");
  const [q, setQ] = useUrlParam("q");
  const [sorting, setSorting] = useUrlSort([{ id: "startedAt", desc: true }]);
  const now = useNow();
  const desc = sorting[0]?.desc ?? true;
  const query = useMemo(() => movesQuery({ instance, host, kind, result, by, q, desc }), [instance, host, kind, result, by, q, desc]);
  const settled = useDebounced(query, 200);
  const perPage = usePerPage(MOVES_PAGE);
  const optionsFor = useCallback((offset: number) => trpc.history.movesPage.queryOptions({ ...settled, offset, limit: perPage }), [trpc, settled, perPage]);
  const resetKey = JSON.stringify([settled, perPage]);
  const moves = useSparsePages<MoveRecord, Page<MoveRecord>>({ size: perPage, optionsFor, pathKey: trpc.history.movesPage.pathKey(), resetKey });
  const first = moves.first;
  // Pickers ask the server for a few names matching what is typed, never the fleet's lists.
  const typedVm = useDebounced(instance, 200);
  const typedHost = useDebounced(host, 200);
  const vmHints = useQuery(trpc.instances.page.queryOptions({ q: typedVm, limit: SUGGESTIONS }));
  const hostHints = useQuery(trpc.hosts.page.queryOptions({ q: typedHost, role: "hypervisor", limit: SUGGESTIONS }));
  const vmList = useId();
  const hostList = useId();
  const people = [...new Set([...(first?.items ?? []).map((m) => m.requestedBy), ...(by ? [by] : [])])].sort();
  const filtered = !!(instance || host || kind || result || by || q);

  return (
    <>
      <PageHeader title="Moves" description="Live migrations and disk moves: who moved what, from where to where, with which options, how long it took, the measured downtime and how it ended." />
      <Toolbar count={first ? countLabel(first.total, first.all, "moves") : ""}>
        <SearchInput value={q} onChange={setQ} placeholder="Search VM, host, user, ID" />
        <Input aria-label="Instance" placeholder="Instance" list={vmList} value={instance} onChange={(e) => setInstance(e.target.value.trim())} className="w-40" />
        <datalist id={vmList}>
          {[...new Set((vmHints.data?.items ?? []).map((i) => i.name))].map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
        <Input aria-label="Host" placeholder="Host" list={hostList} value={host} onChange={(e) => setHost(e.target.value.trim())} className="w-32" />
        <datalist id={hostList}>
          {(hostHints.data?.items ?? []).map((h) => (
            <option key={h.name} value={h.name} />
          ))}
        </datalist>
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
        moves={undefined}
        sparse={moves.total === undefined ? undefined : { total: moves.total, rowAt: moves.rowAt, onWindowChange: moves.onWindowChange, resetKey }}
        now={now}
        isLoading={moves.isPending}
        error={moves.error}
        onRetry={moves.refetch}
        sorting={sorting}
        onSortingChange={setSorting}
        sortable={["startedAt"]}
        filtered={filtered}
        renderRunning={(m) => <LiveOperationById id={m.id} compact />}
      />
    </>
  );
}
