"use client";
import "@xterm/xterm/css/xterm.css";
import { TRPCClientError } from "@trpc/client";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useRef, useState } from "react";
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import { Button } from "@/components/ui/button";
import { Panel } from "@/components/ui/panel";
import { StatusBadge } from "@/components/ui/status-badge";
import { errorInfo } from "@/lib/errors";
import { useTRPC, useTRPCClient } from "@/lib/trpc";
import { InputBatcher, bytesOf, type ConsoleEvent, type ConsolePhase } from "./input-batcher";

/** Keys a phone keyboard lacks, sent as the terminal would send them. */
const EXTRA_KEYS: [string, string][] = [
  ["Esc", "\x1b"],
  ["Tab", "\t"],
  ["Ctrl-C", "\x03"],
  ["Ctrl-D", "\x04"],
  ["↑", "\x1b[A"],
  ["↓", "\x1b[B"],
];

const THEME = { background: "#0b0e14", foreground: "#d5dde7", cursor: "#8fd3e8", selectionBackground: "#2b4a66" };

/**
 * The instance's serial console: xterm.js fed by the `instances.console` stream (SSE, resumed by
 * the link after a network blip), keystrokes batched to `instances.consoleInput`. The server keeps
 * the session and its scrollback a short while, so a reload shows the same screen.
 */
export function ConsolePanel({ instance, running }: { instance: string; running: boolean }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const box = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const early = useRef<ConsoleEvent[]>([]);
  const [phase, setPhase] = useState<ConsolePhase>({ kind: "connecting" });
  const batcher = useRef<InputBatcher | null>(null);

  const apply = (ev: ConsoleEvent) => {
    const t = term.current;
    if (!t) return void early.current.push(ev);
    if (ev.kind === "reset") t.reset();
    else if (ev.kind === "output") t.write(bytesOf(ev.data));
  };

  // The terminal itself: created once per mount (xterm touches the DOM, so it loads in the browser only).
  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | null = null;
    let fit: FitAddon | null = null;
    void (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed || !box.current) return;
      const t = new Terminal({
        theme: THEME,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace',
        fontSize: window.innerWidth < 640 ? 12 : 13,
        cursorBlink: true,
        scrollback: 2000,
        convertEol: false,
      });
      fit = new FitAddon();
      t.loadAddon(fit);
      t.open(box.current);
      fit.fit();
      t.onData((d) => batcher.current?.push(d));
      term.current = t;
      for (const ev of early.current.splice(0)) apply(ev);
      observer = new ResizeObserver(() => fit?.fit());
      observer.observe(box.current);
      t.focus();
    })();
    return () => {
      disposed = true;
      observer?.disconnect();
      term.current?.dispose();
      term.current = null;
    };
  }, []);

  // Keystrokes go out while connected and are kept while (re)connecting (the host changed server
  // replica, the VM migrated); a call refused as reconnecting is kept too; any other refusal (the
  // console closed meanwhile) ends the batch.
  const closed = phase.kind === "closed";
  useEffect(() => {
    if (closed) return;
    const b = new InputBatcher(
      async (data) => void (await client.instances.consoleInput.mutate({ instance, data })),
      (err) => setPhase({ kind: "closed", reason: errorInfo(err).message }),
      undefined,
      (err) => err instanceof TRPCClientError && (err.data as { details?: { reconnecting?: unknown } } | undefined)?.details?.reconnecting === true,
    );
    b.pause();
    batcher.current = b;
    return () => {
      b.stop();
      if (batcher.current === b) batcher.current = null;
    };
  }, [closed, client, instance]);
  useEffect(() => {
    if (phase.kind === "connected") batcher.current?.resume();
    else batcher.current?.pause();
  }, [phase.kind, closed]);

  useSubscription(
    trpc.instances.console.subscriptionOptions(
      { instance },
      {
        enabled: running && phase.kind !== "closed",
        onStarted: () => setPhase((p) => (p.kind === "closed" ? p : { kind: "connecting" })),
        onData: (tracked) => {
          const ev = ((tracked as { data?: unknown }).data ?? tracked) as ConsoleEvent;
          if (ev.kind === "connecting" || ev.kind === "connected") setPhase({ kind: ev.kind });
          else if (ev.kind === "closed") setPhase({ kind: "closed", reason: ev.reason });
          else apply(ev);
        },
        onError: (e) => setPhase({ kind: "closed", reason: errorInfo(e).message }),
      },
    ),
  );

  const reconnect = () => {
    term.current?.reset();
    setPhase({ kind: "connecting" });
  };
  const disconnect = () => {
    void client.instances.consoleClose.mutate({ instance }).catch(() => undefined);
  };
  const status =
    !running ? { tone: "neutral" as const, label: "Not running" }
    : phase.kind === "connecting" ? { tone: "unknown" as const, label: "Connecting" }
    : phase.kind === "connected" ? { tone: "ok" as const, label: "Connected" }
    : { tone: "warn" as const, label: "Closed" };

  return (
    <Panel
      title={
        <div className="flex min-w-0 items-center gap-2">
          <h2 className="text-[13.5px] font-semibold">Serial console</h2>
          <span data-testid="console-state">
            <StatusBadge status={status} />
          </span>
        </div>
      }
      actions={
        running ? (
          phase.kind === "closed" ? (
            <Button size="sm" onClick={reconnect} data-testid="console-reconnect">
              Reconnect
            </Button>
          ) : (
            <Button size="sm" variant="ghost" onClick={disconnect} data-testid="console-disconnect">
              Disconnect
            </Button>
          )
        ) : null
      }
      bodyClass="p-0"
    >
      <p className="px-4 py-2 text-[12px] text-muted" aria-live="polite" data-testid="console-note">
        {!running
          ? "The instance is not running: start it to use its console."
          : phase.kind === "closed"
            ? `Closed: ${phase.reason}`
            : phase.kind === "connecting"
              ? "Connecting to the instance's serial console (ttyS0)…"
              : "ttyS0 · press Enter for a fresh prompt · the session stays open a little while after you leave, for a reload"}
      </p>
      <div className="rounded-b-lg bg-[#0b0e14] p-2">
        <div ref={box} className="h-[min(62vh,540px)] min-h-[300px] w-full overflow-hidden" data-testid="console-terminal" aria-label={`Serial console of ${instance}`} />
        <div className="flex flex-wrap gap-1.5 pt-2 sm:hidden" aria-label="Extra keys">
          {EXTRA_KEYS.map(([label, seq]) => (
            <button
              key={label}
              type="button"
              className="h-7 rounded border border-white/15 px-2 font-mono text-[11.5px] text-[#d5dde7] active:bg-white/10 disabled:opacity-40"
              disabled={phase.kind !== "connected"}
              onClick={() => {
                batcher.current?.push(seq);
                term.current?.focus();
              }}
            >
              {label}
            </button>
          ))}
        </div>
      </div>
    </Panel>
  );
}
