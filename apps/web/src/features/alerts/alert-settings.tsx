"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AlertRule, AlertSeverity } from "@nimbus/domain";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Dialog } from "@/components/ui/dialog";
import { Checkbox, Field, Input, Select } from "@/components/ui/field";
import { NoAccess } from "@/components/ui/no-access";
import { PageHeader, Panel } from "@/components/ui/panel";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { EmptyState, ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { RelativeTime } from "@/components/ui/time";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";
import { severityStatus } from "./alert-card";

/** A rule's condition in words. */
export function conditionText(r: AlertRule): string {
  const c = r.condition;
  const hold = r.forSeconds ? ` for ${r.forSeconds >= 60 && r.forSeconds % 60 === 0 ? `${r.forSeconds / 60} min` : `${r.forSeconds} s`}` : "";
  if (c.kind === "check") return `${c.checks} is ${c.states.join(" or ")}${hold}`;
  if (c.kind === "metric") return `${c.metric} above ${c.above} %${hold}`;
  return `${c.checks} changes ${c.changes}× in ${c.windowMinutes} min`;
}

/** Admins: notification channels (webhook, email), the rules and where they notify, silences, the delivery log. */
export function AlertSettingsPage() {
  const mayManage = useCan("alerts:manage");
  if (!mayManage) return <NoAccess />;
  return <AlertSettings />;
}

function AlertSettings() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const rules = useQuery(trpc.alerts.rules.queryOptions());
  const channels = useQuery(trpc.alerts.channels.queryOptions());
  const silences = useQuery(trpc.alerts.silences.queryOptions());
  const deliveries = useQuery(trpc.alerts.deliveries.queryOptions());
  const refresh = () => void qc.invalidateQueries({ queryKey: trpc.alerts.pathKey() });
  const [editing, setEditing] = useState<AlertRule | null>(null);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const updateRule = useAction(
    trpc.alerts.updateRule.mutationOptions({
      onSuccess: () => {
        setEditing(null);
        refresh();
      },
      onError: (e) => notify.error(e, "Rule"),
    }),
  );
  const test = useAction(
    trpc.alerts.testChannel.mutationOptions({
      onSuccess: (r, v) => (r.ok ? notify.ok(`Test sent through ${v.id}${r.statusCode ? ` (HTTP ${r.statusCode})` : ""}`) : notify.error(new Error(r.error ?? "failed"), `Test through ${v.id}`)),
      onSettled: refresh,
      onError: (e) => notify.error(e, "Test"),
    }),
  );
  const del = useAction(
    trpc.alerts.deleteChannel.mutationOptions({
      onSuccess: () => {
        setDeleting(null);
        refresh();
      },
      onError: (e) => notify.error(e, "Delete channel"),
    }),
  );
  const endSilence = useAction(trpc.alerts.endSilence.mutationOptions({ onSuccess: refresh, onError: (e) => notify.error(e, "End silence") }));

  if (rules.isPending || channels.isPending) return <PanelsSkeleton count={3} />;
  if (rules.error || channels.error) return <ErrorState error={rules.error ?? channels.error} onRetry={refresh} />;
  const channelIds = channels.data.map((c) => c.id);

  return (
    <>
      <PageHeader title="Alerts" description="Where notifications go, which rules send them, silences in force and every delivery attempt." />
      <div className="flex flex-col gap-4">
        <Panel
          title="Notification channels"
          bodyClass="p-0"
          actions={
            <Button size="sm" variant="primary" onClick={() => setAdding(true)} data-testid="channel-add">
              Add channel…
            </Button>
          }
        >
          {channels.data.length === 0 ? (
            <div className="p-4">
              <EmptyState title="No channels yet">Add a webhook or an email channel, then pick it on a rule.</EmptyState>
            </div>
          ) : (
            <PlainTable head={["Channel", "Kind", "Destination", "Secret", ""]} testId="channels" phoneHidden={[2, 3]}>
              {channels.data.map((c) => (
                <tr key={c.id} data-testid={`channel-${c.id}`}>
                  <td className={plainCell}>
                    <span className="font-medium">{c.name}</span> <Tag mono>{c.id}</Tag> {!c.enabled && <Tag>disabled</Tag>}
                  </td>
                  <td className={plainCell}>{c.kind}</td>
                  <td className={`${plainCell} ${phoneHiddenCell} break-all font-mono text-[12px]`}>
                    {c.kind === "webhook" ? String(c.config.url) : `${(c.config.to as string[]).join(", ")} via ${String(c.config.host)}:${String(c.config.port)}`}
                  </td>
                  <td className={`${plainCell} ${phoneHiddenCell}`}>{c.secret.set ? (c.secret.hint ?? "set") : <span className="text-muted">none</span>}</td>
                  <td className={`${plainCell} whitespace-nowrap text-right`}>
                    <Button size="sm" busy={test.isSending({ id: c.id })} onClick={() => test.mutate({ id: c.id })} data-testid={`channel-test-${c.id}`}>
                      Test
                    </Button>{" "}
                    <Button size="sm" variant="ghost" onClick={() => setDeleting(c.id)}>
                      Delete…
                    </Button>
                  </td>
                </tr>
              ))}
            </PlainTable>
          )}
        </Panel>

        <Panel title="Rules" bodyClass="p-0">
          <PlainTable head={["Rule", "Severity", "When", "Notifies", ""]} testId="rules" phoneHidden={[2]}>
            {rules.data.map((r) => (
              <tr key={r.id} data-testid={`rule-${r.id}`}>
                <td className={plainCell}>
                  <span className="font-medium">{r.name}</span> {!r.enabled && <Tag>off</Tag>}
                </td>
                <td className={plainCell}>
                  <StatusBadge status={severityStatus(r.severity)} />
                </td>
                <td className={`${plainCell} ${phoneHiddenCell} font-mono text-[12px]`}>{conditionText(r)}</td>
                <td className={plainCell}>
                  {r.channels.length ? r.channels.join(", ") : <span className="text-muted">nobody</span>}
                  {r.escalation && (
                    <span className="block text-[12px] text-muted">
                      then {r.escalation.channel} after {r.escalation.afterMinutes} min unacknowledged
                    </span>
                  )}
                </td>
                <td className={`${plainCell} text-right`}>
                  <Button size="sm" onClick={() => setEditing(r)} data-testid={`rule-edit-${r.id}`}>
                    Edit…
                  </Button>
                </td>
              </tr>
            ))}
          </PlainTable>
        </Panel>

        <Panel title="Silences in force" bodyClass="p-0">
          {!silences.data?.length ? (
            <p className="p-4 text-[13px] text-muted">None.</p>
          ) : (
            <PlainTable head={["Matches", "By", "Ends", ""]} testId="silences">
              {silences.data.map((s) => (
                <tr key={s.id}>
                  <td className={`${plainCell} font-mono text-[12px]`}>
                    {[s.checks, ...Object.entries(s.labels).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(", ")}
                    {s.comment && <span className="block font-sans text-muted">{s.comment}</span>}
                  </td>
                  <td className={plainCell}>{s.createdBy}</td>
                  <td className={plainCell}>
                    <RelativeTime iso={s.endsAt} />
                  </td>
                  <td className={`${plainCell} text-right`}>
                    <Button size="sm" variant="ghost" busy={endSilence.isSending({ id: s.id })} onClick={() => endSilence.mutate({ id: s.id })}>
                      End now
                    </Button>
                  </td>
                </tr>
              ))}
            </PlainTable>
          )}
        </Panel>

        <Panel title="Deliveries" bodyClass="p-0">
          {!deliveries.data?.length ? (
            <p className="p-4 text-[13px] text-muted">Nothing sent yet.</p>
          ) : (
            <PlainTable head={["When", "Channel", "Alert", "Attempt", "Result"]} testId="deliveries" phoneHidden={[2]}>
              {deliveries.data.map((d) => (
                <tr key={d.id}>
                  <td className={plainCell}>
                    <RelativeTime iso={d.at} />
                  </td>
                  <td className={plainCell}>{d.channelId}</td>
                  <td className={`${plainCell} ${phoneHiddenCell} break-all font-mono text-[12px]`}>
                    {d.event} · {d.alertKey}
                  </td>
                  <td className={`${plainCell} tabular-nums`}>{d.attempt}</td>
                  <td className={plainCell}>
                    <StatusBadge status={{ tone: d.status === "ok" ? "ok" : d.status === "retrying" ? "warn" : "crit", label: d.status }} />{" "}
                    {d.statusCode !== null && <Tag mono>{d.statusCode}</Tag>} {d.error && <span className="text-[12px] text-muted">{d.error}</span>}
                  </td>
                </tr>
              ))}
            </PlainTable>
          )}
        </Panel>
      </div>

      {editing && <RuleDialog rule={editing} channels={channelIds} busy={updateRule.isPending} onCancel={() => setEditing(null)} onSave={(patch) => updateRule.mutate({ id: editing.id, patch })} />}
      {adding && (
        <ChannelDialog
          onDone={() => {
            setAdding(false);
            refresh();
          }}
          onCancel={() => setAdding(false)}
        />
      )}
      <ConfirmDialog open={deleting !== null} title={`Delete channel ${deleting ?? ""}`} confirmLabel="Delete" danger busy={del.isPending} onCancel={() => setDeleting(null)} onConfirm={() => deleting && del.mutate({ id: deleting })}>
        <p className="text-muted">Its delivery log stays. A channel that a rule still names cannot be deleted.</p>
      </ConfirmDialog>
    </>
  );
}

type RulePatch = Partial<Pick<AlertRule, "enabled" | "severity" | "forSeconds" | "condition" | "channels" | "escalation">>;

function RuleDialog({ rule, channels, busy, onSave, onCancel }: { rule: AlertRule; channels: string[]; busy: boolean; onSave: (p: RulePatch) => void; onCancel: () => void }) {
  const [enabled, setEnabled] = useState(rule.enabled);
  const [severity, setSeverity] = useState<AlertSeverity>(rule.severity);
  const [forSeconds, setForSeconds] = useState(String(rule.forSeconds));
  const [above, setAbove] = useState(rule.condition.kind === "metric" ? String(rule.condition.above) : "");
  const [picked, setPicked] = useState<string[]>(rule.channels);
  const [escChannel, setEscChannel] = useState(rule.escalation?.channel ?? "");
  const [escAfter, setEscAfter] = useState(String(rule.escalation?.afterMinutes ?? 15));
  const save = () =>
    onSave({
      enabled,
      severity,
      forSeconds: Number(forSeconds),
      ...(rule.condition.kind === "metric" ? { condition: { ...rule.condition, above: Number(above) } } : {}),
      channels: picked,
      escalation: escChannel ? { channel: escChannel, afterMinutes: Number(escAfter) } : null,
    });
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onCancel()}
      title={`Rule: ${rule.name}`}
      testId="rule-dialog"
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant="primary" busy={busy} onClick={save} data-testid="rule-save">
            Save
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <p className="font-mono text-[12px] text-muted">{conditionText(rule)}</p>
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <Field label="Severity" htmlFor="rule-severity">
          <Select id="rule-severity" value={severity} onChange={(e) => setSeverity(e.target.value as AlertSeverity)}>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
            <option value="info">info</option>
          </Select>
        </Field>
        {rule.condition.kind === "metric" && (
          <Field label="Threshold (%)" htmlFor="rule-above">
            <Input id="rule-above" type="number" min={0} max={100} value={above} onChange={(e) => setAbove(e.target.value)} />
          </Field>
        )}
        <Field label="Holds for (seconds) before it fires" htmlFor="rule-for">
          <Input id="rule-for" type="number" min={0} max={86400} value={forSeconds} onChange={(e) => setForSeconds(e.target.value)} />
        </Field>
        <fieldset className="flex flex-col gap-1">
          <legend className="mb-1 text-[12.5px] font-medium">Notify</legend>
          {channels.length === 0 && <p className="text-[12.5px] text-muted">No channels yet.</p>}
          {channels.map((c) => (
            <Checkbox key={c} label={c} checked={picked.includes(c)} onChange={(e) => setPicked(e.target.checked ? [...picked, c] : picked.filter((p) => p !== c))} />
          ))}
        </fieldset>
        <Field label="Escalate to" htmlFor="rule-esc" hint="When nobody acknowledged it after the wait.">
          <Select id="rule-esc" value={escChannel} onChange={(e) => setEscChannel(e.target.value)}>
            <option value="">Nobody</option>
            {channels.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </Select>
        </Field>
        {escChannel && (
          <Field label="After (minutes unacknowledged)" htmlFor="rule-esc-after">
            <Input id="rule-esc-after" type="number" min={1} max={1440} value={escAfter} onChange={(e) => setEscAfter(e.target.value)} />
          </Field>
        )}
      </div>
    </Dialog>
  );
}

function ChannelDialog({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const trpc = useTRPC();
  const [kind, setKind] = useState<"webhook" | "email">("webhook");
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [host, setHost] = useState("");
  const [port, setPort] = useState("587");
  const [secure, setSecure] = useState(false);
  const [username, setUsername] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const create = useAction(trpc.alerts.createChannel.mutationOptions({ onSuccess: onDone, onError: (e) => notify.error(e, "Add channel") }));
  const submit = () =>
    create.mutate({
      id: id.trim(),
      name: name.trim(),
      enabled: true,
      target:
        kind === "webhook"
          ? { kind, config: { url: url.trim() } }
          : { kind, config: { host: host.trim(), port: Number(port), secure, requireTls: !secure, username: username.trim() || null, from: from.trim(), to: to.split(/[\s,]+/).filter(Boolean) } },
      secret: secret || undefined,
    });
  return (
    <Dialog
      open
      onOpenChange={(o) => !o && onCancel()}
      title="Add a notification channel"
      testId="channel-dialog"
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant="primary" busy={create.isPending} onClick={submit} data-testid="channel-save">
            Add
          </Button>
        </>
      }
    >
      <div className="flex flex-col gap-3">
        <Field label="Kind" htmlFor="ch-kind">
          <Select id="ch-kind" value={kind} onChange={(e) => setKind(e.target.value as "webhook" | "email")}>
            <option value="webhook">Webhook (JSON, HMAC-signed)</option>
            <option value="email">Email (SMTP)</option>
          </Select>
        </Field>
        <Field label="Id" htmlFor="ch-id" hint="Lower-case letters, digits and -; rules name the channel by it.">
          <Input id="ch-id" value={id} onChange={(e) => setId(e.target.value)} placeholder="ops-hook" />
        </Field>
        <Field label="Name" htmlFor="ch-name">
          <Input id="ch-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Ops chat" />
        </Field>
        {kind === "webhook" ? (
          <>
            <Field label="URL" htmlFor="ch-url">
              <Input id="ch-url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://hooks.example.com/nimbus" />
            </Field>
            <Field label="Signing key (optional)" htmlFor="ch-secret" hint="Sent as X-Nimbus-Signature: sha256=HMAC(key, timestamp.body). Never shown again.">
              <Input id="ch-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
            </Field>
          </>
        ) : (
          <>
            <div className="grid grid-cols-[1fr_6rem] gap-2">
              <Field label="SMTP server" htmlFor="ch-host">
                <Input id="ch-host" value={host} onChange={(e) => setHost(e.target.value)} placeholder="smtp.example.com" />
              </Field>
              <Field label="Port" htmlFor="ch-port">
                <Input id="ch-port" type="number" value={port} onChange={(e) => setPort(e.target.value)} />
              </Field>
            </div>
            <Checkbox label="TLS from the start (port 465); otherwise STARTTLS is required" checked={secure} onChange={(e) => setSecure(e.target.checked)} />
            <Field label="Username (optional)" htmlFor="ch-user">
              <Input id="ch-user" autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
            </Field>
            <Field label="Password (optional)" htmlFor="ch-pass" hint="Never shown again.">
              <Input id="ch-pass" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
            </Field>
            <Field label="From" htmlFor="ch-from">
              <Input id="ch-from" value={from} onChange={(e) => setFrom(e.target.value)} placeholder="nimbus@example.com" />
            </Field>
            <Field label="To" htmlFor="ch-to" hint="One or more addresses, separated by commas.">
              <Input id="ch-to" value={to} onChange={(e) => setTo(e.target.value)} placeholder="oncall@example.com" />
            </Field>
          </>
        )}
      </div>
    </Dialog>
  );
}
