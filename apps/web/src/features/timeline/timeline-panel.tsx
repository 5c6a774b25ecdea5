"use client";
import type { Timeline, TimelineEvent } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { RefreshCw } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Panel } from "@/components/ui/panel";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { notify } from "@/lib/notify";
import { useTRPC, useTRPCClient } from "@/lib/trpc";
import { resolveRange, type ChartRange } from "@/features/charts/chart-format";
import { RangePicker } from "@/features/charts/range-picker";
import { TimelineView } from "./timeline-view";

export type TimelineSubject =
  | { kind: "fleet" }
  | { kind: "host"; name: string }
  | { kind: "instance"; name: string }
  | { kind: "service"; name: string }
  | { kind: "datastore"; name: string };

const PAGE = 100;

/**
 * The health timeline of a subject (staff): states per check, the VIP holder, acks, failovers and
 * operations over a range; zoom by dragging or by preset, older events page by page. Asked when
 * shown or when the range changes (not polled); Refresh moves a preset's end to now.
 */
export function TimelinePanel({ subject, title = "Timeline", defaultRange = "24h" }: { subject: TimelineSubject; title?: string; defaultRange?: "1h" | "6h" | "24h" | "7d" }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [state, setState] = useState<{ range: ChartRange; anchor: number }>(() => ({ range: { preset: defaultRange }, anchor: Date.now() }));
  // Older pages fetched with "Older events": their events and the cursor after them.
  const [older, setOlder] = useState<{ events: TimelineEvent[]; nextBefore: number | null } | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const setRange = (range: ChartRange) => {
    setOlder(null);
    setState({ range, anchor: Date.now() });
  };
  const window = resolveRange(state.range, state.anchor);
  const q = useQuery({ ...trpc.history.timeline.queryOptions({ subject, range: { ...window, limit: PAGE } }), placeholderData: (prev) => prev });
  const shown: Timeline | undefined = q.data && (older ? { ...q.data, events: [...q.data.events, ...older.events], nextBefore: older.nextBefore } : q.data);
  const loadOlder = async () => {
    const before = shown?.nextBefore;
    if (before === null || before === undefined) return;
    setLoadingOlder(true);
    try {
      const page = await client.history.timeline.query({ subject, range: { ...window, limit: PAGE, before } });
      setOlder((o) => ({ events: [...(o?.events ?? []), ...page.events], nextBefore: page.nextBefore }));
    } catch (e) {
      notify.error(e, "Older events");
    } finally {
      setLoadingOlder(false);
    }
  };
  return (
    <Panel
      title={title}
      id="timeline"
      actions={
        <div className="flex items-center gap-2">
          <RangePicker value={state.range} onChange={setRange} testId="timeline-range" />
          <Button size="sm" variant="ghost" onClick={() => ("preset" in state.range ? setRange(state.range) : void q.refetch())} aria-label="Refresh timeline" title="Refresh">
            <RefreshCw size={13} aria-hidden />
          </Button>
        </div>
      }
    >
      {q.isPending ? (
        <div aria-busy="true" aria-label="Loading the timeline" className="flex flex-col gap-2">
          <Skeleton className="h-4 w-full" />
          <Skeleton className="h-4 w-full" />
          <Skeleton className="h-4 w-2/3" />
        </div>
      ) : q.error ? (
        <ErrorState error={q.error} compact onRetry={() => void q.refetch()} />
      ) : (
        <TimelineView timeline={shown!} onZoom={(r) => setRange(r)} onOlder={() => void loadOlder()} loadingOlder={loadingOlder} />
      )}
    </Panel>
  );
}
