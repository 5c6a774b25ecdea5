import type { PreflightCheck } from "@nimbus/domain";
import { cx } from "@/lib/cx";

const marks = {
  pass: { sign: "✓", label: "pass", cls: "text-ok" },
  warn: { sign: "!", label: "warn", cls: "text-warn" },
  fail: { sign: "✕", label: "fail", cls: "text-crit" },
} as const;

/** Preflight checks, failures first, each with its word (pass/warn/fail) and its reason. */
export function PreflightList({ checks }: { checks: PreflightCheck[] }) {
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  return (
    <ul className="flex flex-col gap-1" data-testid="preflight-checks">
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
