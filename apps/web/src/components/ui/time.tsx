"use client";
import { formatAbsolute, formatRelative, humanizeTimes } from "@/lib/format";
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

/** A server's sentence with any timestamp in it said as "3 min ago", kept current by the shared clock. */
export function HumaneText({ text }: { text: string }) {
  const now = useNow();
  return <>{humanizeTimes(text, now)}</>;
}
