import type { ReactNode } from "react";

/**
 * A small read-only table (no sorting) for detail panels; rows come as children. Columns listed
 * in `phoneHidden` are left out below 640 px (their cells use `phoneHiddenCell`).
 */
export function PlainTable({ head, children, testId, phoneHidden = [] }: { head: string[]; children: ReactNode; testId?: string; phoneHidden?: number[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-[12.5px]" data-testid={testId}>
        <thead>
          <tr className="bg-panel-2 text-left text-[11px] uppercase tracking-wide text-muted">
            {head.map((h, i) => (
              <th key={h} className={`px-2 py-1.5 font-semibold sm:px-3 ${phoneHidden.includes(i) ? phoneHiddenCell : ""}`}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export const plainCell = "border-t border-border px-2 py-1.5 align-top sm:px-3";
export const phoneHiddenCell = "hidden sm:table-cell";
