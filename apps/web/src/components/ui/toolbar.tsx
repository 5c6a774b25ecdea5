import type { ReactNode } from "react";

/** The row of search and filters above a table; counts on the right ("12 of 40"). */
export function Toolbar({ children, count }: { children: ReactNode; count?: ReactNode }) {
  return (
    <div className="mb-3 flex flex-wrap items-center gap-2">
      {children}
      {count !== undefined && <span className="ml-auto text-[12px] tabular-nums text-muted">{count}</span>}
    </div>
  );
}

/** "12 of 40 hosts"; `noun` is the plural, which loses its "s" for a total of one. */
export function countLabel(shown: number | undefined, total: number | undefined, noun: string): string {
  if (shown === undefined || total === undefined) return "";
  const word = total === 1 ? noun.replace(/s$/, "") : noun;
  // Thousands grouped: "12 of 20,003 instances" reads at a glance.
  const n = (x: number) => x.toLocaleString("en");
  return shown === total ? `${n(total)} ${word}` : `${n(shown)} of ${n(total)} ${word}`;
}
