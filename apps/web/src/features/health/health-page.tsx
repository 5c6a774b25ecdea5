"use client";
import type { HealthCheck, HealthPage as HealthPageData } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { usePerPage, useSparsePages } from "@/lib/use-sparse-pages";
import { useDebounced } from "@/lib/use-debounced";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Checkbox, Field, SearchInput, Select, Textarea } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { useUrlParam } from "@/lib/url-state";
import { CATEGORIES, HealthList, HealthSummary, SparseHealthList } from "./health-view";
import { TimelinePanel } from "@/features/timeline/timeline-panel";
import { FiringAlerts } from "@/features/alerts/firing-alerts";

const NOTE_MAX = 500;
/** Checks per request, by offset, under the cards in view; a list this short is drawn whole, in its groups. */
export const HEALTH_PAGE = 100;

export function HealthPage() {
  const trpc = useTRPC();
  const [category, setCategory] = useUrlParam("category");
  const [problems, setProblems] = useUrlParam("problems");
  const [q, setQ] = useUrlParam("q");
  // Filtered and paged on the server, open problems first, with the fleet's counts.
  const query = useMemo(
    () => ({ q: q.trim(), category: (CATEGORIES as string[]).includes(category) ? (category as HealthCheck["category"]) : ("" as const), problems: !!problems }),
    [q, category, problems],
  );
  const settled = useDebounced(query, 200);
  const perPage = usePerPage(HEALTH_PAGE);
  const optionsFor = useCallback((offset: number) => trpc.health.page.queryOptions({ ...settled, offset, limit: perPage }), [trpc, settled, perPage]);
  const resetKey = JSON.stringify([settled, perPage]);
  const health = useSparsePages<HealthCheck, HealthPageData>({ size: perPage, optionsFor, pathKey: trpc.health.page.pathKey(), resetKey });
  const first = health.first;
  // The whole list is in the first page: drawn whole, in its groups (open, acknowledged, the rest).
  const whole = first && first.total <= first.items.length + first.offset ? first.items : undefined;
  const shown = whole ?? first?.items;
  // Names in "Affects" link to hosts when they are hosts: asked for the names of the first page, not the fleet's list.
  const affected = useMemo(() => [...new Set((shown ?? []).flatMap((c) => c.affects))].sort().slice(0, 500), [shown]);
  const hosts = useQuery({ ...trpc.hosts.page.queryOptions({ names: affected, limit: 500 }), enabled: affected.length > 0 });
  const hostNames = useMemo(() => (hosts.data ? new Set(hosts.data.items.map((h) => h.name)) : null), [hosts.data]);
  const mayAck = useCan("alerts:ack");
  const [acking, setAcking] = useState<HealthCheck | null>(null);
  const [note, setNote] = useState("");
  // The pushed health event carries the change to every open page, this one included.
  const ack = useAction(
    trpc.health.acknowledge.mutationOptions({
      onSuccess: () => setAcking(null),
      onError: (e) => notify.error(e, "Acknowledge"),
    }),
  );
  const unack = useAction(
    trpc.health.unacknowledge.mutationOptions({
      onSuccess: (_r, v) => notify.info(`${checkName(shown, v.id)} is open again`),
      onError: (e) => notify.error(e, "Undo acknowledgement"),
    }),
  );
  const openAck = (c: HealthCheck) => {
    setNote("");
    setAcking(c);
  };
  const checkAction = mayAck
    ? (c: HealthCheck) =>
        c.ack ? (
          <Button size="sm" variant="ghost" busy={unack.isSending({ id: c.id })} onClick={() => unack.mutate({ id: c.id })} data-testid={`unack-${c.id}`}>
            Undo
          </Button>
        ) : c.state === "crit" || c.state === "warn" ? (
          <Button size="sm" onClick={() => openAck(c)} data-testid={`ack-${c.id}`}>
            Acknowledge…
          </Button>
        ) : null
    : undefined;
  return (
    <>
      <PageHeader title="Health" description="Every check, worst first: what is broken, since when, and what it affects." />
      {health.isPending ? (
        <PanelsSkeleton count={2} />
      ) : health.error ? (
        <ErrorState error={health.error} onRetry={health.refetch} />
      ) : (
        <div className="flex flex-col gap-4">
          <HealthSummary counts={first!.counts} />
          <FiringAlerts />
          <Toolbar count={countLabel(first!.total, first!.all, "checks")}>
            <SearchInput value={q} onChange={setQ} placeholder="Search check, message, affected" />
            <Select aria-label="Category" value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">All categories</option>
              {CATEGORIES.map((c: HealthCheck["category"]) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </Select>
            <Checkbox label="Problems only" checked={!!problems} onChange={(e) => setProblems(e.target.checked ? "1" : "")} />
          </Toolbar>
          {whole || health.total === undefined ? (
            <HealthList checks={whole ?? []} hostNames={hostNames} action={checkAction} />
          ) : (
            <SparseHealthList sparse={{ total: health.total, rowAt: health.rowAt, onWindowChange: health.onWindowChange, resetKey }} hostNames={hostNames} action={checkAction} />
          )}
          <TimelinePanel subject={{ kind: "fleet" }} defaultRange="6h" />
        </div>
      )}
      <ConfirmDialog
        open={acking !== null}
        title={`Acknowledge ${acking?.target ?? ""}`}
        confirmLabel="Acknowledge"
        busy={ack.isPending}
        onCancel={() => {
          ack.reset();
          setAcking(null);
        }}
        onConfirm={() => acking && ack.mutate({ id: acking.id, note: note.trim() || undefined })}
      >
        <p className="mb-3 text-muted">
          Everyone sees that you are on it, and it stops counting in the red numbers until it recovers. You can undo this.
        </p>
        <Field label="Note (optional)" htmlFor="ack-note" hint={`What you are doing about it; ${NOTE_MAX} characters at most.`}>
          <Textarea
            id="ack-note"
            data-testid="ack-note"
            maxLength={NOTE_MAX}
            value={note}
            onChange={(e) => setNote(e.target.value)}
            placeholder="e.g. replacing the PSU, back within the hour"
            autoFocus
          />
        </Field>
      </ConfirmDialog>
    </>
  );
}

const checkName = (checks: readonly HealthCheck[] | undefined, id: string) => checks?.find((c) => c.id === id)?.target ?? id;
