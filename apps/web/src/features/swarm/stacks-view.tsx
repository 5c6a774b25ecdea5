"use client";
import type { Operation, StackDiff, StackValidation, StackView } from "@nimbus/domain";
import type { ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Panel } from "@/components/ui/panel";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { EmptyState } from "@/components/ui/states";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import type { Status } from "@/lib/status";
import { PublishedPorts } from "./published-ports";

/** Renderers of the Stacks view: plain props, no fetching (screens render them from fixtures too). */


function replicaStatus(running: number, desired: number): Status {
  if (desired === 0) return { tone: "unknown", label: "None wanted" };
  if (running >= desired) return { tone: "ok", label: "Converged" };
  return running === 0 ? { tone: "crit", label: "Down" } : { tone: "warn", label: "Converging" };
}

function Replicas({ running, desired }: { running: number; desired: number }) {
  return (
    <span className="inline-flex items-center gap-2 tabular-nums" data-testid="replicas">
      <StatusBadge status={replicaStatus(running, desired)} title={`${running} of ${desired} replicas running`} />
      <span>
        {running}/{desired}
      </span>
    </span>
  );
}

export function StackPanel({
  stack,
  showTenant,
  operation,
  onRemove,
}: {
  stack: StackView;
  showTenant: boolean;
  operation?: ReactNode;
  onRemove?: () => void;
}) {
  return (
    <div data-testid={`stack-${stack.name}`}>
      <Panel
        title={
          <span className="flex flex-wrap items-center gap-2">
            <span className="font-mono">{stack.name}</span>
            {showTenant && <Tag title="Tenant">{stack.tenant ?? "no tenant"}</Tag>}
            <Replicas running={stack.replicasRunning} desired={stack.replicasDesired} />
          </span>
        }
        actions={
          onRemove ? (
            // Quiet in the list (one per stack); the confirmation is where the danger is said.
            <Button size="sm" onClick={onRemove} data-testid={`stack-remove-${stack.name}`}>
              Remove…
            </Button>
          ) : null
        }
        bodyClass="p-0"
      >
        {operation && <div className="border-b border-border px-3 py-2">{operation}</div>}
        <PlainTable head={["Service", "Image", "Replicas", "Ports", "Problem"]} phoneHidden={[1, 3]} testId={`stack-services-${stack.name}`}>
          {stack.services.map((s) => (
            <tr key={s.name} data-testid={`stack-service-${s.name}`}>
              <td className={`${plainCell} font-medium`}>{s.short}</td>
              <td className={`${plainCell} ${phoneHiddenCell} font-mono text-[12px]`}>{s.image}</td>
              <td className={plainCell}>{s.mode === "global" ? <span className="text-muted">global {s.replicasRunning}/{s.replicasDesired}</span> : <Replicas running={s.replicasRunning} desired={s.replicasDesired} />}</td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>
                <PublishedPorts ports={s.ports} testId={`stack-ports-${s.name}`} />
              </td>
              <td className={`${plainCell} text-[12px] ${s.error ? "text-crit" : "text-muted"}`}>{s.error ?? "—"}</td>
            </tr>
          ))}
        </PlainTable>
      </Panel>
    </div>
  );
}

export function StackList({
  stacks,
  showTenant,
  operationFor,
  onRemove,
  filtered,
}: {
  stacks: StackView[];
  showTenant: boolean;
  operationFor?: (s: StackView) => ReactNode;
  onRemove?: (s: StackView) => void;
  filtered?: boolean;
}) {
  if (!stacks.length)
    return (
      <Panel title="Stacks">
        <EmptyState title={filtered ? "No stack matches the filter" : "No stacks"}>
          {filtered ? "Clear the filter to see every stack." : "A stack is a compose file deployed across the swarm. Deploy one to see its services here."}
        </EmptyState>
      </Panel>
    );
  return (
    <div className="flex flex-col gap-4" data-testid="stack-list">
      {stacks.map((s) => (
        <StackPanel key={s.name} stack={s} showTenant={showTenant} operation={operationFor?.(s)} onRemove={onRemove ? () => onRemove(s) : undefined} />
      ))}
    </div>
  );
}

/** Errors and warnings of a compose file, each with its place in the file. */
export function ValidationList({ validation }: { validation: Pick<StackValidation, "errors" | "warnings"> }) {
  if (!validation.errors.length && !validation.warnings.length) return null;
  return (
    <ul className="flex flex-col gap-1 text-[12.5px]" data-testid="stack-validation">
      {validation.errors.map((e, i) => (
        <li key={`e${i}`} className="rounded-md bg-crit-soft px-2 py-1 text-crit" data-testid="stack-error">
          <span className="font-mono">{e.path}</span>: {e.message}
        </li>
      ))}
      {validation.warnings.map((w, i) => (
        <li key={`w${i}`} className="rounded-md bg-warn-soft px-2 py-1 text-warn">
          <span className="font-mono">{w.path}</span>: {w.message}
        </li>
      ))}
    </ul>
  );
}

/** What a deploy would change: services added, changed (field by field), removed, unchanged. */
export function StackDiffView({ diff }: { diff: StackDiff }) {
  const nothing = !diff.added.length && !diff.changed.length && !diff.removed.length;
  return (
    <div className="flex flex-col gap-2 text-[12.5px]" data-testid="stack-diff">
      <p className="text-muted">{diff.exists ? (nothing ? "The stack runs this file already: nothing changes." : "The stack exists; this deploy changes it:") : "A new stack:"}</p>
      <PlainTable head={["Change", "Service", "What"]} testId="stack-diff-table">
        {diff.added.map((a) => (
          <tr key={`a${a.name}`} data-testid="diff-added">
            <td className={plainCell}>
              <span className="font-semibold text-ok">added</span>
            </td>
            <td className={`${plainCell} font-mono`}>{a.name}</td>
            <td className={plainCell}>
              {a.image}, {a.replicas === "global" ? "global" : `${a.replicas} replica${a.replicas === "1" ? "" : "s"}`}
              {a.ports.length ? `, ports ${a.ports.join(", ")}` : ""}
            </td>
          </tr>
        ))}
        {diff.changed.map((c) => (
          <tr key={`c${c.name}`} data-testid="diff-changed">
            <td className={plainCell}>
              <span className="font-semibold text-warn">changed</span>
            </td>
            <td className={`${plainCell} font-mono`}>{c.name}</td>
            <td className={plainCell}>
              <ul>
                {c.changes.map((x) => (
                  <li key={x.field}>
                    {x.field}: <span className="text-muted line-through">{x.from}</span> → <span>{x.to}</span>
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
        {diff.removed.map((r) => (
          <tr key={`r${r.name}`} data-testid="diff-removed">
            <td className={plainCell}>
              <span className="font-semibold text-crit">removed</span>
            </td>
            <td className={`${plainCell} font-mono`}>{r.name}</td>
            <td className={plainCell}>{r.image}</td>
          </tr>
        ))}
        {diff.unchanged.map((u) => (
          <tr key={`u${u}`} data-testid="diff-unchanged">
            <td className={`${plainCell} text-muted`}>unchanged</td>
            <td className={`${plainCell} font-mono text-muted`}>{u}</td>
            <td className={plainCell} />
          </tr>
        ))}
      </PlainTable>
    </div>
  );
}

export const stackRunning = (op: Operation | null | undefined) => !!op && (op.state === "running" || op.state === "pending");
