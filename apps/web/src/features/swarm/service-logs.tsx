"use client";
import { LOG_LIMITS, type LogLine } from "@nimbus/domain";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Checkbox, Select } from "@/components/ui/field";
import { StatusBadge } from "@/components/ui/status-badge";
import { errorInfo } from "@/lib/errors";
import { useTRPC } from "@/lib/trpc";

/** Lines the viewer keeps; older ones scroll away (a service that logs all day cannot fill the tab). */
const KEEP_LINES = 5_000;

interface Batch {
  lines: LogLine[];
  dropped: number;
  end: { error: string | null } | null;
}

type Phase = { kind: "connecting" } | { kind: "streaming" } | { kind: "ended"; error: string | null } | { kind: "failed"; message: string };

/**
 * A service's logs, asked of the manager while this viewer is open (`swarm.services.logs`):
 * monospace, the tail chosen, new lines while following (kept at the bottom unless the reader
 * scrolled up), clear states for connecting, following, ended (with docker's reason) and refused.
 */
export function ServiceLogs({ service, showNode }: { service: string; showNode: boolean }) {
  const [tail, setTail] = useState<number>(200);
  const [follow, setFollow] = useState(true);
  const [run, setRun] = useState(0);
  return (
    <div className="flex flex-col" data-testid="service-logs">
      <LogStream key={`${tail}-${follow}-${run}`} service={service} tail={tail} follow={follow} showNode={showNode} onRestart={() => setRun((n) => n + 1)}>
        {(clear) => (
          <div className="flex flex-wrap items-center gap-3 border-b border-border px-3 py-2 text-[12.5px]">
            <label className="flex items-center gap-1.5">
              <span className="text-muted">Tail</span>
              <Select value={String(tail)} onChange={(e) => setTail(Number(e.target.value))} aria-label="Lines to show from the end" data-testid="logs-tail">
                {LOG_LIMITS.tails.map((n) => (
                  <option key={n} value={n}>
                    {n} lines
                  </option>
                ))}
              </Select>
            </label>
            <Checkbox label="Follow" checked={follow} onChange={(e) => setFollow(e.target.checked)} data-testid="logs-follow" />
            <Button size="sm" onClick={clear} data-testid="logs-clear">
              Clear
            </Button>
          </div>
        )}
      </LogStream>
    </div>
  );
}

function LogStream({
  service,
  tail,
  follow,
  showNode,
  onRestart,
  children,
}: {
  service: string;
  tail: number;
  follow: boolean;
  showNode: boolean;
  onRestart: () => void;
  children: (clear: () => void) => React.ReactNode;
}) {
  const trpc = useTRPC();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [dropped, setDropped] = useState(0);
  const [phase, setPhase] = useState<Phase>({ kind: "connecting" });
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const sub = useSubscription(
    trpc.swarm.services.logs.subscriptionOptions(
      { service, tail, follow },
      {
        enabled: phase.kind === "connecting" || phase.kind === "streaming",
        onData: (data) => {
          const b = data as Batch;
          if (b.lines.length) setLines((prev) => (prev.length + b.lines.length > KEEP_LINES ? [...prev, ...b.lines].slice(-KEEP_LINES) : [...prev, ...b.lines]));
          if (b.dropped) setDropped((d) => d + b.dropped);
          setPhase(b.end ? { kind: "ended", error: b.end.error } : { kind: "streaming" });
        },
        onError: (e) => setPhase({ kind: "failed", message: errorInfo(e).message }),
      },
    ),
  );
  // Once the stream is open, even before its first line, the viewer is "following".
  useEffect(() => {
    if (sub.status === "pending") setPhase((p) => (p.kind === "connecting" ? { kind: "streaming" } : p));
  }, [sub.status]);
  useLayoutEffect(() => {
    if (stick.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines]);
  const onScroll = () => {
    const el = box.current;
    if (el) stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  const clear = () => {
    setLines([]);
    setDropped(0);
  };
  return (
    <>
      {children(clear)}
      <div className="flex flex-wrap items-center gap-2 px-3 py-1.5 text-[12px]" aria-live="polite" data-testid="logs-state">
        {phase.kind === "connecting" && <StatusBadge status={{ tone: "unknown", label: "Connecting" }} />}
        {phase.kind === "streaming" && <StatusBadge status={follow ? { tone: "ok", label: "Following" } : { tone: "accent", label: "Reading" }} />}
        {phase.kind === "ended" && <StatusBadge status={phase.error ? { tone: "warn", label: "Ended" } : { tone: "neutral", label: "End of log" }} />}
        {phase.kind === "failed" && <StatusBadge status={{ tone: "crit", label: "Refused" }} />}
        <span className="text-muted">
          {phase.kind === "ended" && (phase.error ?? (follow ? "the stream ended" : `the last ${tail} lines`))}
          {phase.kind === "failed" && phase.message}
          {dropped > 0 && ` · ${dropped} lines skipped (over ${LOG_LIMITS.linesPerSecond} lines a second)`}
        </span>
        {(phase.kind === "ended" || phase.kind === "failed") && (
          <Button size="sm" onClick={onRestart} data-testid="logs-restart">
            {follow ? "Follow again" : "Read again"}
          </Button>
        )}
      </div>
      <div
        ref={box}
        onScroll={onScroll}
        role="log"
        aria-label={`Logs of ${service}`}
        className="h-80 overflow-auto border-t border-border bg-panel-2 px-3 py-2 font-mono text-[11.5px] leading-[17px] sm:h-96"
        data-testid="logs-lines"
      >
        {lines.length === 0 ? (
          <p className="text-faint">{phase.kind === "connecting" ? "Asking the swarm manager…" : "No lines yet."}</p>
        ) : (
          lines.map((l, i) => (
            <div key={i} className="whitespace-pre-wrap break-all">
              {l.at && <span className="text-faint">{l.at.slice(11, 23)} </span>}
              {l.task && (
                <span className="text-accent">
                  {l.task}
                  {showNode && l.node ? `@${l.node}` : ""}{" "}
                </span>
              )}
              <span>{l.text}</span>
            </div>
          ))
        )}
      </div>
    </>
  );
}
