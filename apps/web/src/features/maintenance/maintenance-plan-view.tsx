import { describePolicy } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { PreflightList } from "@/features/preflight/preflight-list";
import { verdictStatus } from "@/features/preflight/target-options";
import type { MaintenancePlan } from "@/lib/api-types";
import { formatMiB } from "@/lib/format";

type Move = MaintenancePlan["moves"][number];
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What "enter maintenance" will do, before it does it: the dry run, drawn from maintenance.plan. */
export function MaintenancePlanView({ plan }: { plan: MaintenancePlan }) {
  const { moves, blocked, drains, staying, managers } = plan;
  return (
    <div className="flex flex-col gap-4 text-[12.5px]" data-testid="maintenance-plan" data-complete={plan.complete}>
      <div className={`rounded-lg border p-3 ${plan.complete ? "border-border bg-panel-2/60" : "border-crit/40 bg-crit-soft/60"}`} data-testid="maintenance-plan-summary">
        <p className="text-[13px]">
          {moves.length === 0 && blocked.length === 0 ? (
            <span className="font-medium">No VM runs on {plan.host}: it goes into maintenance at once.</span>
          ) : (
            <>
              <span className="font-medium">{plural(moves.length, "VM")} move</span>
              {moves.length > 0 && ` to ${[...new Set(moves.map((m) => m.destination))].join(", ")}`}
              {blocked.length > 0 && <span className="font-medium text-crit">; {plural(blocked.length, "VM")} cannot move and stay on {plan.host}</span>}
              {drains.length > 0 && `; ${plural(drains.length, "swarm worker")} drained first`}.
            </>
          )}
        </p>
        <p className="mt-1 text-muted">
          <span className="font-medium text-fg">Headroom policy:</span> {describePolicy(plan.policy)}.
        </p>
      </div>

      {moves.length > 0 && (
        <Section title={`Moves (${moves.length})`} hint="Largest first: they are the hardest to fit.">
          <ul className="flex flex-col divide-y divide-border/70 rounded-md border border-border">
            {moves.map((m) => (
              <MoveLine key={m.instance} move={m} />
            ))}
          </ul>
        </Section>
      )}

      {blocked.length > 0 && (
        <Section title={`Cannot move (${blocked.length})`} hint={`These stay on ${plan.host}; the host will not be empty.`}>
          <ul className="flex flex-col gap-2" data-testid="maintenance-blocked">
            {blocked.map((b) => (
              <li key={b.instance} data-testid={`plan-blocked-${b.instance}`} className="rounded-md border border-crit/40 p-3">
                <p>
                  <VmName name={b.instance} /> <span className="text-muted">({formatMiB(b.memoryMiB)})</span> <StatusBadge status={verdictStatus.fail} />
                </p>
                <p className="mt-1 text-crit">{b.reason}</p>
                {b.candidates.map((c) => (
                  <details key={c.host} className="mt-1">
                    <summary className="cursor-pointer text-muted hover:text-fg">What fails on {c.host}</summary>
                    <div className="mt-1 pl-2">
                      <PreflightList checks={c.failing} />
                    </div>
                  </details>
                ))}
              </li>
            ))}
          </ul>
        </Section>
      )}

      {(drains.length > 0 || managers.length > 0) && (
        <Section title="Swarm">
          <ul className="flex flex-col gap-1" data-testid="maintenance-drains-plan">
            {drains.map((d) => (
              <li key={d.node}>
                Worker <span className="font-medium">{d.node}</span> is drained before its VM moves ({plural(d.tasks, "task")}
                {d.services.length ? `: ${d.services.join(", ")}` : ""}),{" "}
                {d.restoreTo ? `then set back to ${d.restoreTo} once it runs elsewhere.` : "and stays drained."}
              </li>
            ))}
            {managers.map((m) => (
              <li key={m}>
                Manager <span className="font-medium">{m}</span> moves live and is never drained: it keeps the cluster running.
              </li>
            ))}
          </ul>
        </Section>
      )}

      {staying.length > 0 && (
        <Section title="Not running">
          <p className="text-muted">
            {staying.map((s) => `${s.instance} (${s.state})`).join(", ")} stay{staying.length === 1 ? "s" : ""} defined on {plan.host}; nothing needs to move for {staying.length === 1 ? "it" : "them"}.
          </p>
        </Section>
      )}
    </div>
  );
}

function MoveLine({ move: m }: { move: Move }) {
  return (
    <li className="px-3 py-2" data-testid={`plan-move-${m.instance}`}>
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
        <VmName name={m.instance} />
        {m.tenant && <Tag>{m.tenant}</Tag>}
        <span className="text-muted">{formatMiB(m.memoryMiB)}</span>
        <span aria-hidden className="text-muted">→</span>
        <span className="font-medium" data-testid="plan-destination">
          {m.destination}
        </span>
        <span className="ml-auto">
          <StatusBadge status={verdictStatus[m.verdict]} />
        </span>
      </div>
      <p className="mt-0.5 text-muted">Why {m.destination}: {m.reason}</p>
      {m.swarm && <p className="text-muted">{swarmNote(m)}</p>}
      <div className="mt-1">
        <PreflightList checks={m.checks} foldPassed />
      </div>
    </li>
  );
}

function swarmNote(m: Move): ReactNode {
  const s = m.swarm!;
  const tasks = plural(s.tasks.length, "task");
  if (s.role === "manager") return `Swarm manager running ${tasks}: moved live, not drained.`;
  return `Swarm worker running ${tasks}: drained first.`;
}

function VmName({ name }: { name: string }) {
  return (
    <Link href={`/instances/${encodeURIComponent(name)}`} className="font-medium hover:text-accent hover:underline">
      {name}
    </Link>
  );
}

function Section({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <section>
      <h3 className="mb-1.5 text-[12px] font-semibold uppercase tracking-wide text-muted">
        {title}
        {hint && <span className="ml-2 font-normal normal-case tracking-normal">{hint}</span>}
      </h3>
      {children}
    </section>
  );
}
