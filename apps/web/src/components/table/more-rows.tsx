import { moreRowsText } from "@/lib/paged-list";

/** The line under a paged table while rows remain to load; nothing once every match is loaded. */
export function MoreRows({ testId, loaded, total, fetching }: { testId: string; loaded: number | undefined; total: number | undefined; fetching: boolean }) {
  if (loaded === undefined || total === undefined || loaded >= total) return null;
  return (
    <div data-testid={testId} className="border-t border-border px-3 py-2 text-[12px] text-muted">
      {moreRowsText(loaded, total, fetching)}
    </div>
  );
}
