"use client";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useNow } from "@/lib/clock";

/** "3 min ago" with the absolute time on hover (and for screen readers via dateTime). */
export function RelativeTime({ iso, prefix }: { iso: string | null | undefined; prefix?: string }) {
  const now = useNow();
  if (!iso) return <span className="text-faint">never</span>;
  return (
    <time dateTime={iso} title={formatAbsolute(iso)} className="whitespace-nowrap tabular-nums">
      {prefix}
      {formatRelative(iso, now)}
    </time>
  );
}
