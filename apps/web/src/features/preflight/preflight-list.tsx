import type { PreflightCheck } from "@nimbus/domain";
import { cx } from "@/lib/cx";

const marks = {
  pass: { sign: "✓", label: "pass", cls: "text-ok" },
  warn: { sign: "!", label: "warn", cls: "text-warn" },
  fail: { sign: "✕", label: "fail", cls: "text-crit" },
} as const;

/**
 * Preflight checks, failures first, each with its word (pass/warn/fail) and its reason. With
 * `foldPassed`, passing checks fold into one expandable line so the problems stand out.
 */
export function PreflightList({ checks, foldPassed }: { checks: PreflightCheck[]; foldPassed?: boolean }) {
  const onAgents = checks.filter(isAgentCheck);
  // Checks the agents ran just now (at start) are told apart from the inventory's: they are why
  // a start can be refused although the dialog showed every check passing.
  if (onAgents.length)
    return (
      <div className="flex flex-col gap-2" data-testid="preflight-checks">
        <CheckGroup title="Re-checked on the hosts just now" checks={onAgents} />
        {onAgents.length < checks.length && <CheckGroup title="From the inventory" checks={checks.filter((c) => !isAgentCheck(c))} />}
      </div>
    );
  const problems = checks.filter((c) => c.result !== "pass");
  const passed = checks.filter((c) => c.result === "pass");
  if (!foldPassed || !passed.length)
    return (
      <div data-testid="preflight-checks">
        <Checks checks={checks} />
      </div>
    );
  return (
    <div className="flex flex-col gap-1" data-testid="preflight-checks">
      {problems.length > 0 && <Checks checks={problems} />}
      <details className="group text-[12.5px]">
        <summary className="cursor-pointer list-none text-muted hover:text-fg">
          <span aria-hidden className="mr-2 inline-block w-3 text-center font-bold text-ok">
            ✓
          </span>
          {problems.length ? `${passed.length} other checks pass` : `All ${passed.length} checks pass`}
          <span className="ml-1 text-accent group-open:hidden">(show)</span>
        </summary>
        <div className="mt-1">
          <Checks checks={passed} />
        </div>
      </details>
    </div>
  );
}

/** Checks whose id starts with "agent-" were run by the agents on the hosts when the work started. */
export const isAgentCheck = (c: PreflightCheck) => c.id.startsWith("agent-");

function CheckGroup({ title, checks }: { title: string; checks: PreflightCheck[] }) {
  return (
    <div>
      <p className="mb-1 text-[11px] font-semibold uppercase tracking-wide text-muted">{title}</p>
      <Checks checks={checks} />
    </div>
  );
}

function Checks({ checks }: { checks: PreflightCheck[] }) {
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  return (
    <ul className="flex flex-col gap-1">
      {[...checks]
        .sort((a, b) => order[a.result] - order[b.result])
        .map((c) => {
          const m = marks[c.result];
          return (
            <li key={c.id} data-result={c.result} className="flex gap-2 text-[12.5px]">
              <span aria-hidden className={cx("w-3 shrink-0 text-center font-bold", m.cls)}>
                {m.sign}
              </span>
              <span className="min-w-0">
                <span className="font-medium">{c.label}</span>
                <span className={cx("ml-1.5 text-[11px] font-semibold uppercase", m.cls)}>{m.label}</span>
                <span className="block text-muted">{c.reason}</span>
              </span>
            </li>
          );
        })}
    </ul>
  );
}
