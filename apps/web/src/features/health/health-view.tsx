"use client";
import Link from "next/link";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";
import { byUrgency, healthGroup, type HealthCheck, type HealthCounts, type HealthState } from "@nimbus/domain";
import { useScrollTopOnReset, type SparseRows } from "@/components/table/data-table";
import { Skeleton } from "@/components/ui/states";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { EmptyState } from "@/components/ui/states";
import { HumaneText, RelativeTime } from "@/components/ui/time";
import { toneSoft } from "@/components/ui/tone";
import { cx } from "@/lib/cx";
import { healthStatus } from "@/lib/status";
import { NameList } from "@/components/ui/name-list";

export const CATEGORIES: HealthCheck["category"][] = ["host", "storage", "swarm", "network", "instance"];

const failing = (c: HealthCheck) => c.state === "crit" || c.state === "warn";
/** Failing and nobody on it yet: what the red numbers count. */
export const isOpenProblem = (c: HealthCheck) => failing(c) && !c.ack;
/** Failing, and someone said they are on it: shown apart, not counted in the red numbers. */
export const isAcknowledged = (c: HealthCheck) => failing(c) && !!c.ack;

/** Counts per state of the checks nobody acknowledged, and how many are acknowledged. */
export function countByState(checks: readonly HealthCheck[]): HealthCounts {
  const counts = { crit: 0, warn: 0, unknown: 0, ok: 0, acknowledged: 0 };
  for (const c of checks) {
    if (isAcknowledged(c)) counts.acknowledged++;
    else counts[c.state]++;
  }
  return counts;
}

/** One sentence an on-call engineer reads first. */
export const healthHeadline = (checks: readonly HealthCheck[]): string => headlineOf(countByState(checks));

/** The same sentence from counts (the paged Health page gets the fleet's counts, not every check). */
export function headlineOf(n: HealthCounts): string {
  const total = n.crit + n.warn + n.unknown + n.ok + n.acknowledged;
  if (!total) return "No checks yet";
  const acked = n.acknowledged ? `${n.acknowledged} acknowledged` : "";
  if (!n.crit && !n.warn) {
    if (acked) return `No open problems; ${acked}`;
    return n.unknown ? `No failures; ${n.unknown} unknown` : `All ${total} checks OK`;
  }
  return [[n.crit && `${n.crit} critical`, n.warn && `${n.warn} warning${n.warn > 1 ? "s" : ""}`].filter(Boolean).join(", "), acked].filter(Boolean).join(" · ");
}

/** Where a check's object is: its host, its instance, or the page that lists it. */
export function checkHref(c: HealthCheck): string {
  const [kind, ...rest] = c.id.split(":");
  const name = rest.join(":");
  if (kind === "host") return `/hosts/${encodeURIComponent(name)}`;
  if (kind === "instance") return `/instances/${encodeURIComponent(name)}`;
  if (kind === "swarm") return rest[0] === "service" ? `/swarm?q=${encodeURIComponent(rest.slice(1).join(":"))}` : "/swarm";
  if (kind === "storage") return "/storage";
  return "/network";
}

/**
 * Where a name in "Affects" leads: a host it is one of the fleet's hosts; a service on swarm
 * checks; an instance otherwise (host checks affect their VMs, network checks VMs and hosts).
 */
export function affectedHref(c: HealthCheck, name: string, hostNames: ReadonlySet<string> | null): string | null {
  if (hostNames?.has(name)) return `/hosts/${encodeURIComponent(name)}`;
  if (c.category === "swarm") return `/swarm?q=${encodeURIComponent(name)}`;
  if (c.category === "storage") return name.startsWith("/") ? "/storage" : `/hosts/${encodeURIComponent(name)}`;
  return `/instances/${encodeURIComponent(name)}`;
}

/** The big status block at the top of the health page: acknowledged problems do not make it red. */
export function HealthSummary({ checks, counts }: { checks?: readonly HealthCheck[]; counts?: HealthCounts }) {
  const n = counts ?? countByState(checks ?? []);
  // Acknowledged problems are counted apart: the worst of the rest colours the block.
  const worst: HealthState = n.crit ? "crit" : n.warn ? "warn" : n.unknown || !(n.ok + n.acknowledged) ? "unknown" : "ok";
  const onlyAcknowledged = worst === "ok" && n.acknowledged > 0;
  return (
    <div
      data-testid="health-summary"
      data-state={onlyAcknowledged ? "acknowledged" : worst}
      className={cx("rounded-xl p-4 sm:p-5", toneSoft[onlyAcknowledged ? "neutral" : worst])}
    >
      <div className="flex flex-wrap items-center gap-3">
        <span className="text-2xl font-bold sm:text-3xl">{headlineOf(n)}</span>
      </div>
      <div className="mt-2 flex flex-wrap gap-x-5 gap-y-1 text-[13px] text-fg">
        {(["crit", "warn", "unknown", "ok"] as const).map((s) => (
          <span key={s}>
            <span className="font-semibold tabular-nums">{n[s]}</span> {healthStatus(s).label.toLowerCase()}
          </span>
        ))}
        <span>
          <span className="font-semibold tabular-nums">{n.acknowledged}</span> acknowledged
        </span>
      </div>
    </div>
  );
}

/**
 * Every check: open problems worst first, then the acknowledged ones apart, then the rest. Cards,
 * so a phone reads them. Targets and affected objects link to their pages.
 */
export function HealthList({
  checks,
  action,
  hostNames = null,
  more,
}: {
  checks: readonly HealthCheck[];
  action?: (c: HealthCheck) => ReactNode;
  hostNames?: ReadonlySet<string> | null;
  /** Under the cards: how to load the next page (the paged Health page). */
  more?: ReactNode;
}) {
  if (!checks.length) return <EmptyState title="No checks match" />;
  const sorted = [...checks].sort(byUrgency);
  const open = sorted.filter(isOpenProblem);
  const acknowledged = sorted.filter(isAcknowledged);
  const rest = sorted.filter((c) => !failing(c));
  const card = (c: HealthCheck) => <CheckCard key={c.id} check={c} action={action} hostNames={hostNames} />;
  return (
    <div className="flex flex-col gap-2" data-testid="health-checks">
      {open.length > 0 && <ul className="flex flex-col gap-2">{open.map(card)}</ul>}
      {acknowledged.length > 0 && (
        <section aria-label="Acknowledged" data-testid="health-acknowledged" className="flex flex-col gap-2">
          {ackHeading}
          <ul className="flex flex-col gap-2">{acknowledged.map(card)}</ul>
        </section>
      )}
      {rest.length > 0 && <ul className={cx("flex flex-col gap-2", (open.length > 0 || acknowledged.length > 0) && "mt-2")}>{rest.map(card)}</ul>}
      {more && <div className="flex justify-center pt-1">{more}</div>}
    </div>
  );
}

const ackHeading = <h2 className="mt-2 text-[12px] font-semibold uppercase tracking-wide text-muted">Acknowledged · someone is on it</h2>;

/**
 * The checks of a long list (10,000+ at fleet size) read by offset from the server, in its order
 * (open problems, then acknowledged, then the rest): only the cards in view are in the DOM, cards
 * not loaded yet are skeleton lines, and the window in view is reported so the container loads the
 * pages under it (End, Home or a dropped scrollbar land anywhere). Short lists use `HealthList`.
 */
export function SparseHealthList({
  sparse,
  action,
  hostNames = null,
  maxHeight = "70vh",
}: {
  sparse: SparseRows<HealthCheck>;
  action?: (c: HealthCheck) => ReactNode;
  hostNames?: ReadonlySet<string> | null;
  maxHeight?: string;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: sparse.total,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 40,
    overscan: 10,
    initialRect: { width: 1200, height: 900 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;
  const { onWindowChange, resetKey } = sparse;
  useEffect(() => onWindowChange({ start: first, end: last }), [onWindowChange, first, last]);
  useScrollTopOnReset(scrollRef, resetKey);
  if (!sparse.total) return <EmptyState title="No checks match" />;
  return (
    <div ref={scrollRef} data-testid="health-checks" className="overflow-auto" style={{ maxHeight }}>
      <div className="relative w-full" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((v) => {
          const c = sparse.rowAt(v.index);
          const prev = v.index > 0 ? sparse.rowAt(v.index - 1) : undefined;
          // Where the acknowledged group starts (the server orders open, acknowledged, rest).
          const heading = c && healthGroup(c) === 1 && (v.index === 0 || (prev && healthGroup(prev) !== 1));
          const gap = c && prev && healthGroup(c) === 2 && healthGroup(prev) !== 2;
          return (
            <div key={v.key} data-index={v.index} ref={virtualizer.measureElement} className={cx("absolute left-0 top-0 w-full pb-2", gap && "pt-2")} style={{ transform: `translateY(${v.start}px)` }}>
              {heading && ackHeading}
              <ul className={cx(heading && "mt-2")}>
                {c ? (
                  <CheckCard check={c} action={action} hostNames={hostNames} />
                ) : (
                  <li data-testid="check-placeholder" aria-hidden className="rounded-md border border-border bg-panel px-3 py-2.5">
                    <Skeleton className="w-2/3 opacity-60" />
                  </li>
                )}
              </ul>
            </div>
          );
        })}
      </div>
    </div>
  );
}

function Target({ check }: { check: HealthCheck }) {
  return (
    <Link href={checkHref(check)} className="hover:text-accent hover:underline">
      {check.target}
    </Link>
  );
}

function CheckCard({ check: c, action, hostNames }: { check: HealthCheck; action?: (c: HealthCheck) => ReactNode; hostNames: ReadonlySet<string> | null }) {
  if (c.state === "ok")
    // Passing checks take one line, so problems keep the screen on a phone.
    return (
      <li
        data-testid={`check-${c.id}`}
        data-state={c.state}
        className="flex flex-wrap items-center gap-x-2 gap-y-0.5 rounded-md border border-border bg-panel px-3 py-1.5 text-[12.5px]"
      >
        <StatusBadge status={healthStatus(c.state)} />
        <span className="font-medium">
          <Target check={c} />
        </span>
        <span className="min-w-0 flex-1 truncate text-muted">
          <HumaneText text={c.message} />
        </span>
        <span className="text-[11.5px] text-muted">
          <RelativeTime iso={c.since} prefix="since " />
        </span>
      </li>
    );
  const acked = !!c.ack;
  return (
    <li
      data-testid={`check-${c.id}`}
      data-state={c.state}
      data-acknowledged={acked || undefined}
      className={cx(
        "rounded-lg border bg-panel px-3 py-2.5 sm:px-4",
        acked || !failing(c) ? "border-border" : c.state === "crit" ? "border-crit/50 border-l-4" : "border-warn/50 border-l-4",
      )}
    >
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <StatusBadge status={healthStatus(c.state)} />
        <span className="text-[14px] font-semibold">
          <Target check={c} />
        </span>
        <Tag>{c.category}</Tag>
        <span className="ml-auto text-[12px] text-muted">
          <RelativeTime iso={c.since} prefix="since " />
        </span>
      </div>
      <p className="mt-1 text-[13px]">
        <HumaneText text={c.message} />
      </p>
      {c.affects.length > 0 && (
        <p className="mt-1 text-[12px] text-muted">
          Affects:{" "}
          <span className="text-fg">
            <NameList names={[...new Set(c.affects)]} hrefFor={(name) => affectedHref(c, name, hostNames)} />
          </span>
        </p>
      )}
      {(c.ack || action) && (
        <div className="mt-1.5 flex flex-wrap items-center gap-x-2 gap-y-1 text-[12px] text-muted">
          {c.ack && (
            <span data-testid="ack">
              Acknowledged by <span className="text-fg">{c.ack.by}</span> <RelativeTime iso={c.ack.at} />
              {c.ack.note && (
                <>
                  : <q className="text-fg">{c.ack.note}</q>
                </>
              )}
            </span>
          )}
          {action?.(c)}
        </div>
      )}
    </li>
  );
}
