"use client";
import { useQuery } from "@tanstack/react-query";
import { PageHeader } from "@/components/ui/panel";
import { SearchInput, Select } from "@/components/ui/field";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { useNow } from "@/lib/clock";
import { RECENT_OPERATIONS } from "@/lib/queries";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { useUrlSort } from "@/lib/url-sort";
import { LiveOperation } from "./live-operation";
import { OperationsTable } from "./operations-table";

export function OperationsPage() {
  const trpc = useTRPC();
  const ops = useQuery(trpc.operations.list.queryOptions(RECENT_OPERATIONS));
  const now = useNow();
  const [q, setQ] = useUrlParam("q");
  const [kind, setKind] = useUrlParam("kind");
  const [state, setState] = useUrlParam("state");
  const [sorting, setSorting] = useUrlSort([{ id: "createdAt", desc: true }]);
  const needle = q.toLowerCase();
  const shown = ops.data?.filter(
    (o) =>
      (!kind || o.kind === kind) &&
      (!state || (state === "active" ? o.state === "running" || o.state === "pending" : o.state === state)) &&
      (!needle || [o.summary, o.target.name, o.requestedBy, o.error ?? ""].some((s) => s.toLowerCase().includes(needle))),
  );
  return (
    <>
      <PageHeader title="Operations" description="Long work (creates, deletes, migrations, disk moves, evacuations, scaling) as it runs and how it ended. Open one for its steps and log. Updates arrive live." />
      <Toolbar count={countLabel(shown?.length, ops.data?.length, "operations")}>
        <SearchInput value={q} onChange={setQ} placeholder="Search target, user, error" />
        <Select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">Any kind</option>
          <option value="migrate">Migrate</option>
          <option value="scale">Scale</option>
          <option value="power">Power</option>
          <option value="maintenance">Maintenance</option>
          <option value="storage-move">Disk move</option>
          <option value="create">Create</option>
          <option value="delete">Delete</option>
        </Select>
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">Any state</option>
          <option value="active">Running</option>
          <option value="succeeded">Succeeded</option>
          <option value="failed">Failed</option>
          <option value="cancelled">Cancelled</option>
        </Select>
      </Toolbar>
      <OperationsTable
        operations={shown}
        now={now}
        isLoading={ops.isPending}
        error={ops.error}
        onRetry={() => void ops.refetch()}
        sorting={sorting}
        onSortingChange={setSorting}
        filtered={!!(q || kind || state)}
        renderRunning={(op) => <LiveOperation initial={op} compact />}
      />
    </>
  );
}
