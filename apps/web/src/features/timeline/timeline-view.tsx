"use client";
import type { Timeline, TimelineEvent, TimelineLane } from "@nimbus/domain";
import Link from "next/link";
import { useRef, useState, type PointerEvent } from "react";
import { EmptyState } from "@/components/ui/states";
import { toneFill, toneSoft } from "@/components/ui/tone";
import { cx } from "@/lib/cx";
import { formatAbsolute, formatDuration } from "@/lib/format";
import { operationHref } from "@/lib/hrefs";

const fillOf = { ok: "bg-ok/70", warn: toneFill.warn, crit: toneFill.crit, unknown: toneFill.unknown } as const;
const eventTone = { ok: "ok", warn: "warn", crit: "crit", info: "accent" } as const;
const kindLabel: Record<TimelineEvent["kind"], string> = { ack: "ack", unack: "ack cleared", failover: "failover", operation: "operation" };

const clock = (t: number) => formatAbsolute(new Date(t).toISOString()).slice(5, 16);

/** Where an instant sits on the track, in percent of the range (clamped). */
const at = (t: number, from: number, to: number) => Math.min(100, Math.max(0, ((t - from) / (to - from)) * 100));

/**
 * The timeline renderer: one lane per check (and the VIP holder), state spans coloured by state,
 * operations, failovers and acks as ticks on their own lane, and the same events as a dense list
 * underneath, newest first. Drag across the lanes to zoom into a window.
 */
export function TimelineView({ timeline, onZoom, onOlder, loadingOlder }: { timeline: Timeline; onZoom?: (r: { from: number; to: number }) => void; onOlder?: () => void; loadingOlder?: boolean }) {
  const { from, to, lanes, events } = timeline;
  const now = Date.now();
  if (!lanes.length && !events.length)
    return (
      <div data-testid="timeline-empty">
        <EmptyState title="Nothing happened in this range">No state changes, acknowledgements, failovers or operations were recorded between {clock(from)} and {clock(to)}.</EmptyState>
      </div>
    );
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => from + f * (to - from));
  return (
    <div className="flex flex-col gap-3" data-testid="timeline">
      <ZoomArea from={from} to={to} onZoom={onZoom}>
        <div className="mb-1 hidden justify-between pl-0 text-[11px] tabular-nums text-faint sm:ml-[200px] sm:flex" aria-hidden>
          {ticks.map((t) => (
            <span key={t}>{clock(t)}</span>
          ))}
        </div>
        <ul className="flex flex-col gap-1.5" aria-label="States over time">
          {events.length > 0 && (
            <li className="flex flex-col gap-0.5 sm:flex-row sm:items-center sm:gap-2">
              <span className="truncate text-[12px] font-medium text-muted sm:w-[192px] sm:shrink-0">Changes</span>
              <div className="relative h-4 w-full rounded-sm bg-bar-track sm:flex-1" data-testid="timeline-events-lane">
                {events.map((e, i) => (
                  <span
                    key={`${e.kind}-${e.at}-${i}`}
                    title={`${clock(e.at)} ${e.title}: ${e.detail}`}
                    className={cx("absolute top-0 h-4 w-[3px] -translate-x-1/2 rounded-sm", toneFill[eventTone[e.tone]])}
                    style={{ left: `${at(e.at, from, to)}%` }}
                  />
                ))}
              </div>
            </li>
          )}
          {lanes.map((l) => (
            <Lane key={l.id} lane={l} from={from} to={to} now={now} />
          ))}
        </ul>
      </ZoomArea>
      <div className="flex flex-wrap gap-3 text-[11.5px] text-muted" aria-hidden>
        {(["ok", "warn", "crit", "unknown"] as const).map((s) => (
          <span key={s} className="inline-flex items-center gap-1">
            <span className={cx("inline-block h-2.5 w-4 rounded-sm", fillOf[s])} />
            {s}
          </span>
        ))}
        <span className="ml-auto text-faint">Drag across the lanes to zoom in.</span>
      </div>
      <EventList events={events} />
      {timeline.nextBefore !== null && onOlder && (
        <button type="button" onClick={onOlder} disabled={loadingOlder} className="self-start text-[12.5px] text-accent hover:underline disabled:opacity-50" data-testid="timeline-older">
          {loadingOlder ? "Loading…" : "Older events"}
        </button>
      )}
    </div>
  );
}

function Lane({ lane, from, to, now }: { lane: TimelineLane; from: number; to: number; now: number }) {
  const bad = lane.spans.some((s) => s.state === "crit" || s.state === "warn");
  return (
    <li className="flex flex-col gap-0.5 sm:flex-row sm:items-center sm:gap-2" data-testid={`timeline-lane-${lane.id}`}>
      <span className={cx("truncate font-mono text-[11.5px] sm:w-[192px] sm:shrink-0", bad ? "text-fg" : "text-muted")} title={lane.label}>
        {lane.label}
      </span>
      <div className="relative h-4 w-full overflow-hidden rounded-sm bg-bar-track sm:flex-1">
        {lane.spans.map((s, i) => {
          const end = s.to ?? Math.min(now, to);
          const left = at(s.from, from, to);
          const width = Math.max(0.4, at(end, from, to) - left);
          return (
            <span
              key={i}
              data-state={s.state}
              title={`${s.state} from ${clock(s.from)}${s.to ? ` to ${clock(s.to)} (${formatDuration(s.to - s.from)})` : " until now"}: ${s.message}`}
              className={cx("absolute top-0 h-4", fillOf[s.state])}
              style={{ left: `${left}%`, width: `${width}%` }}
            />
          );
        })}
      </div>
    </li>
  );
}

function EventList({ events }: { events: readonly TimelineEvent[] }) {
  if (!events.length) return null;
  return (
    <ol className="divide-y divide-border rounded-md border border-border text-[12.5px]" aria-label="Events, newest first" data-testid="timeline-events">
      {events.map((e, i) => (
        <li key={`${e.kind}-${e.at}-${i}`} className="flex flex-col gap-0.5 px-3 py-1.5 sm:flex-row sm:items-baseline sm:gap-3" data-kind={e.kind}>
          <time dateTime={new Date(e.at).toISOString()} className="shrink-0 tabular-nums text-muted sm:w-[92px]">
            {clock(e.at)}
          </time>
          <span className={cx("w-fit shrink-0 rounded-full px-2 text-[11px] leading-[18px]", toneSoft[eventTone[e.tone]])}>{kindLabel[e.kind]}</span>
          <span className="min-w-0 flex-1">
            {e.kind === "operation" && e.ref ? (
              <Link href={operationHref(e.ref)} className="font-medium hover:text-accent hover:underline">
                {e.title}
              </Link>
            ) : (
              <span className="font-medium">{e.title}</span>
            )}
            {e.detail && <span className="text-muted"> · {e.detail}</span>}
            {e.end !== null && e.kind === "operation" && <span className="text-faint"> · took {formatDuration(e.end - e.at)}</span>}
          </span>
          {e.by && <span className="shrink-0 text-muted">{e.by}</span>}
        </li>
      ))}
    </ol>
  );
}

/** Pointer drag across the lanes selects a window; a click does nothing. */
function ZoomArea({ from, to, onZoom, children }: { from: number; to: number; onZoom?: (r: { from: number; to: number }) => void; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ x0: number; x1: number } | null>(null);
  const track = () => {
    const el = ref.current!;
    const lane = el.querySelector<HTMLElement>(".bg-bar-track");
    const r = (lane ?? el).getBoundingClientRect();
    return r;
  };
  const toTime = (x: number) => {
    const r = track();
    return from + Math.min(1, Math.max(0, (x - r.left) / r.width)) * (to - from);
  };
  const down = (e: PointerEvent) => {
    if (!onZoom || e.button !== 0) return;
    setDrag({ x0: e.clientX, x1: e.clientX });
  };
  const move = (e: PointerEvent) => drag && setDrag({ ...drag, x1: e.clientX });
  const up = () => {
    if (!drag || !onZoom) return;
    const a = toTime(Math.min(drag.x0, drag.x1));
    const b = toTime(Math.max(drag.x0, drag.x1));
    setDrag(null);
    if (Math.abs(drag.x1 - drag.x0) > 6 && b - a >= 60_000) onZoom({ from: a, to: b });
  };
  const box = drag && ref.current ? (() => {
    const r = track();
    const outer = ref.current!.getBoundingClientRect();
    return { left: Math.max(r.left, Math.min(drag.x0, drag.x1)) - outer.left, width: Math.abs(drag.x1 - drag.x0) };
  })() : null;
  return (
    <div ref={ref} className={cx("relative select-none", onZoom && "cursor-crosshair touch-pan-y")} onPointerDown={down} onPointerMove={move} onPointerUp={up} onPointerLeave={() => setDrag(null)}>
      {children}
      {box && <div className="pointer-events-none absolute inset-y-0 rounded-sm bg-accent/15 ring-1 ring-accent/40" style={{ left: box.left, width: box.width }} />}
    </div>
  );
}
