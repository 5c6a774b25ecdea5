"use client";
import { createColumnHelper } from "@tanstack/react-table";
import { useCallback, useMemo } from "react";
import { DataTable } from "@/components/table/data-table";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { Toolbar } from "@/components/ui/toolbar";
import { formatAbsolute } from "@/lib/format";
import { useTRPC } from "@/lib/trpc";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { serverSortable } from "@/lib/paged-list";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import type { AuditRow } from "./types";

/** Records per request, by offset, under the window in view (the server gives 200 at most). */
export const AUDIT_PAGE = 100;
const AUDIT_MAX_PAGE = 200;
const col = createColumnHelper<AuditRow>();
const allColumns = [
  col.accessor("at", {
    header: "When",
    cell: (c) => {
      const at = formatAbsolute(c.getValue());
      // A phone drops the year: the row then fits when, action and result without scrolling sideways.
      return (
        <time dateTime={c.getValue()} className="tabular-nums whitespace-nowrap" title={at}>
          <span className="hidden sm:inline">{at.slice(0, 5)}</span>
          {at.slice(5)}
        </time>
      );
    },
  }),
  col.accessor((r) => r.userName ?? "", {
    id: "user",
    header: "Who",
    // A phone shows when, what and how it ended; who and on what from a tablet up.
    meta: { hideBelow: "md" },
    cell: (c) => (
      <span>
        {c.getValue() || <span className="text-faint">anonymous</span>}
        {c.row.original.role && <span className="ml-1.5 text-[11px] text-muted">{c.row.original.role}{c.row.original.tenant ? ` · ${c.row.original.tenant}` : ""}</span>}
      </span>
    ),
  }),
  col.accessor("action", { header: "Action", cell: (c) => <Tag mono>{c.getValue()}</Tag> }),
  col.accessor((r) => r.target ?? "", { id: "target", header: "Target", meta: { hideBelow: "md" } }),
  col.accessor("result", {
    header: "Result",
    cell: (c) => <StatusBadge status={c.getValue() === "ok" ? { tone: "ok", label: "ok" } : { tone: "crit", label: c.row.original.errorCode ?? "error" }} />,
  }),
  col.accessor((r) => JSON.stringify(r.inputSummary ?? {}), {
    id: "input",
    header: "Input",
    enableSorting: false,
    meta: { hideBelow: "lg", className: "max-w-[16rem] truncate" },
    cell: (c) => (
      <span className="font-mono text-[11px] text-muted" title={c.getValue()}>
        {c.getValue() === "{}" ? "" : c.getValue()}
      </span>
    ),
  }),
  col.accessor((r) => r.ip ?? "", { id: "ip", header: "Address", meta: { hideBelow: "xl" }, cell: (c) => <span className="font-mono text-[11px]">{c.getValue()}</span> }),
  col.accessor("requestId", { header: "Request", meta: { hideBelow: "2xl" }, cell: (c) => <span className="font-mono text-[11px] text-faint">{c.getValue() ?? ""}</span> }),
];

/** Newest first, as the log is read: the order is the server's (no column sorts a page it has not got). */
const columns = serverSortable(allColumns, []);

type AuditPage = { records: AuditRow[]; total: number; offset: number };
const auditPage = (raw: AuditPage) => ({ items: raw.records, total: raw.total, offset: raw.offset });

/** `datetime-local` gives local wall time; the API wants ISO instants. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const trpc = useTRPC();
  const [user, setUser] = useUrlParam("user");
  const [action, setAction] = useUrlParam("action");
  const [target, setTarget] = useUrlParam("target");
  const [from, setFrom] = useUrlParam("from");
  const [to, setTo] = useUrlParam("to");
  const [sorting, setSorting] = useUrlSort([{ id: "at", desc: true }]);
  const filter = useMemo(() => ({ user: user || undefined, action: action || undefined, target: target || undefined, from: toIso(from), to: toIso(to) }), [user, action, target, from, to]);
  // The audit log is append-only history: read on request (each page when it comes into view), not pushed live.
  const perPage = Math.min(AUDIT_MAX_PAGE, usePerPage(AUDIT_PAGE));
  const optionsFor = useCallback((offset: number) => ({ ...trpc.audit.list.queryOptions({ ...filter, limit: perPage, offset }), staleTime: 0 }), [trpc, filter, perPage]);
  const resetKey = JSON.stringify([filter, perPage]);
  const audit = useSparsePages<AuditRow, AuditPage>({ size: perPage, optionsFor, pathKey: trpc.audit.list.pathKey(), resetKey, toPage: auditPage });
  const total = audit.total ?? 0;
  const setFilter = (set: (v: string) => void) => (v: string) => set(v);

  // A plain download: the server streams the file (GET /api/audit.csv), the browser writes it to disk.
  const exportCsv = () => {
    const params = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => !!e[1]));
    const a = document.createElement("a");
    a.href = `/api/audit.csv?${params}`;
    a.download = "";
    a.click();
  };

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change and every sign-in, who did it and how it ended. Records cannot be edited or deleted."
        actions={
          <Button onClick={exportCsv} data-testid="audit-csv">
            Export CSV
          </Button>
        }
      />
      <Toolbar count={audit.first ? `${total.toLocaleString("en")} records` : ""}>
        <Input aria-label="User" placeholder="User" value={user} onChange={(e) => setFilter(setUser)(e.target.value)} className="w-36" />
        <Input aria-label="Action" placeholder="Action, e.g. instances.migrate" value={action} onChange={(e) => setFilter(setAction)(e.target.value)} className="w-56" />
        <Input aria-label="Target" placeholder="Target" value={target} onChange={(e) => setFilter(setTarget)(e.target.value)} className="w-36" />
        <label className="flex items-center gap-1 text-[12px] text-muted">
          from
          <Input type="datetime-local" aria-label="From" value={from} onChange={(e) => setFilter(setFrom)(e.target.value)} />
        </label>
        <label className="flex items-center gap-1 text-[12px] text-muted">
          to
          <Input type="datetime-local" aria-label="To" value={to} onChange={(e) => setFilter(setTo)(e.target.value)} />
        </label>
      </Toolbar>
      <DataTable
        testId="audit-table"
        data={undefined}
        sparse={audit.total === undefined ? undefined : { total: audit.total, rowAt: audit.rowAt, onWindowChange: audit.onWindowChange, resetKey }}
        columns={columns}
        getRowId={(r) => String(r.id)}
        rowTestId={(r) => `audit-row-${r.id}`}
        isLoading={audit.isPending}
        error={audit.error}
        onRetry={audit.refetch}
        sorting={sorting}
        onSortingChange={setSorting}
        manualSorting
        emptyTitle={user || action || target || from || to ? "No records match" : "No records yet"}
        maxHeight="calc(100vh - 230px)"
      />
    </>
  );
}
