"use client";
import Link from "next/link";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Field, Select, Textarea } from "@/components/ui/field";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { StatusBadge } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { formatDuration } from "@/lib/format";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { AlertCard, severityStatus, type FiringAlert } from "./alert-card";

const NOTE_MAX = 500;
const DURATIONS = [
  { minutes: 60, label: "1 hour" },
  { minutes: 240, label: "4 hours" },
  { minutes: 24 * 60, label: "1 day" },
  { minutes: 7 * 24 * 60, label: "1 week" },
];
type SilenceScope = "check" | "rule" | "category";

/**
 * The firing alerts at the top of the on-call page: pushed again by the server whenever one
 * fires, resolves, is acknowledged or silenced (alerts.watch), never polled.
 */
export function FiringAlerts() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const list = useQuery(trpc.alerts.list.queryOptions());
  useSubscription(trpc.alerts.watch.subscriptionOptions(undefined, { onData: (data) => qc.setQueryData(trpc.alerts.list.queryKey(), data) }));
  const mayAck = useCan("alerts:ack");
  const [acking, setAcking] = useState<FiringAlert | null>(null);
  const [silencing, setSilencing] = useState<FiringAlert | null>(null);
  const [note, setNote] = useState("");
  const [minutes, setMinutes] = useState(60);
  const [scope, setScope] = useState<SilenceScope>("check");
  const ack = useAction(trpc.alerts.acknowledge.mutationOptions({ onSuccess: () => setAcking(null), onError: (e) => notify.error(e, "Acknowledge") }));
  const unack = useAction(trpc.alerts.unacknowledge.mutationOptions({ onError: (e) => notify.error(e, "Undo acknowledgement") }));
  const silence = useAction(
    trpc.alerts.silence.mutationOptions({
      onSuccess: () => {
        setSilencing(null);
        notify.ok("Silenced: no notifications or escalation while it lasts");
      },
      onError: (e) => notify.error(e, "Silence"),
    }),
  );

  if (list.isPending) return <Skeleton className="h-20" />;
  if (list.error) return <ErrorState error={list.error} onRetry={() => void list.refetch()} compact />;
  const firing = list.data.firing;
  const match = (a: FiringAlert) =>
    scope === "check" ? { checks: a.subject, labels: {} } : scope === "rule" ? { checks: null, labels: { rule: a.ruleId } } : { checks: null, labels: { category: a.category } };

  return (
    <section aria-label="Firing alerts" data-testid="firing-alerts" className="flex flex-col gap-2">
      <h2 className="text-[12px] font-semibold uppercase tracking-wide text-muted">
        {firing.length ? `Firing alerts · ${firing.length}` : "Firing alerts · none"}
      </h2>
      {firing.length > 0 && (
        <ul className="flex flex-col gap-2">
          {firing.map((a) => (
            <AlertCard
              key={a.id}
              alert={a}
              actions={
                mayAck ? (
                  <>
                    {a.ack ? (
                      <Button size="sm" variant="ghost" busy={unack.isSending({ id: a.id })} onClick={() => unack.mutate({ id: a.id })} data-testid="alert-unack">
                        Undo
                      </Button>
                    ) : (
                      <Button
                        size="sm"
                        onClick={() => {
                          setNote("");
                          setAcking(a);
                        }}
                        data-testid="alert-ack-open"
                      >
                        Acknowledge…
                      </Button>
                    )}
                    {!a.silencedBy && (
                      <Button
                        size="sm"
                        variant="ghost"
                        onClick={() => {
                          setNote("");
                          setScope("check");
                          setSilencing(a);
                        }}
                        data-testid="alert-silence-open"
                      >
                        Silence…
                      </Button>
                    )}
                  </>
                ) : undefined
              }
            />
          ))}
        </ul>
      )}
      {list.data.resolved.length > 0 && (
        <details className="rounded-lg border border-border bg-panel px-3 py-2 text-[12.5px] sm:px-4" data-testid="alerts-resolved">
          <summary className="cursor-pointer text-muted">Recently resolved · {list.data.resolved.length}</summary>
          <ul className="mt-1.5 flex flex-col divide-y divide-border">
            {list.data.resolved.map((a) => (
              <li key={`${a.id}@${a.firedAt}`} className="flex flex-wrap items-center gap-x-2 gap-y-0.5 py-1">
                <StatusBadge status={severityStatus(a.severity)} />
                <span className="font-medium">{a.ruleName}</span>
                <Link href={a.link} className="hover:text-accent hover:underline">
                  {a.target}
                </Link>
                <span className="ml-auto text-muted">
                  resolved <RelativeTime iso={a.resolvedAt} /> · lasted {formatDuration(Date.parse(a.resolvedAt!) - Date.parse(a.since))}
                  {a.ack && <> · acknowledged by {a.ack.by}</>}
                </span>
              </li>
            ))}
          </ul>
        </details>
      )}
      <ConfirmDialog
        open={acking !== null}
        title={`Acknowledge: ${acking?.ruleName ?? ""}, ${acking?.target ?? ""}`}
        confirmLabel="Acknowledge"
        busy={ack.isPending}
        onCancel={() => {
          ack.reset();
          setAcking(null);
        }}
        onConfirm={() => acking && ack.mutate({ id: acking.id, note: note.trim() || undefined })}
      >
        <p className="mb-3 text-muted">Everyone sees that you are on it, and it is not escalated. It stays until the alert resolves; you can undo it.</p>
        <Field label="Note (optional)" htmlFor="alert-ack-note" hint={`What you are doing about it; ${NOTE_MAX} characters at most.`}>
          <Textarea id="alert-ack-note" data-testid="alert-ack-note" maxLength={NOTE_MAX} value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. power cycling the host, back in 10 min" autoFocus />
        </Field>
      </ConfirmDialog>
      <ConfirmDialog
        open={silencing !== null}
        title={`Silence: ${silencing?.ruleName ?? ""}`}
        confirmLabel="Silence"
        busy={silence.isPending}
        onCancel={() => {
          silence.reset();
          setSilencing(null);
        }}
        onConfirm={() => silencing && silence.mutate({ match: match(silencing), minutes, comment: note.trim() })}
      >
        <p className="mb-3 text-muted">While it lasts, matching alerts still show here but send no notification and are not escalated.</p>
        <div className="flex flex-col gap-3">
          <Field label="What" htmlFor="silence-scope">
            <Select id="silence-scope" data-testid="silence-scope" value={scope} onChange={(e) => setScope(e.target.value as SilenceScope)}>
              <option value="check">This one: {silencing?.target}</option>
              <option value="rule">Every “{silencing?.ruleName}” alert</option>
              <option value="category">Everything in {silencing?.category}</option>
            </Select>
          </Field>
          <Field label="For" htmlFor="silence-for">
            <Select id="silence-for" data-testid="silence-for" value={String(minutes)} onChange={(e) => setMinutes(Number(e.target.value))}>
              {DURATIONS.map((d) => (
                <option key={d.minutes} value={d.minutes}>
                  {d.label}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Why (optional)" htmlFor="silence-comment">
            <Textarea id="silence-comment" maxLength={NOTE_MAX} value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. planned maintenance of the storage pair" />
          </Field>
        </div>
      </ConfirmDialog>
    </section>
  );
}
