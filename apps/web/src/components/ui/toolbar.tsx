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

export const countLabel = (shown: number | undefined, total: number | undefined, noun: string) =>
  shown === undefined || total === undefined ? "" : shown === total ? `${total} ${noun}` : `${shown} of ${total} ${noun}`;
