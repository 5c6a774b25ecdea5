/** Units and times as people read them. Pure, so tests and fixtures render the same strings. */

const KiB = 1024;
const MiB = KiB * 1024;
const GiB = MiB * 1024;
const TiB = GiB * 1024;

function trim(n: number, digits: number): string {
  return n.toFixed(n >= 100 ? 0 : digits);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "—";
  if (bytes >= TiB) return `${trim(bytes / TiB, 1)} TiB`;
  if (bytes >= GiB) return `${trim(bytes / GiB, 1)} GiB`;
  if (bytes >= MiB) return `${trim(bytes / MiB, 0)} MiB`;
  if (bytes >= KiB) return `${trim(bytes / KiB, 0)} KiB`;
  return `${bytes} B`;
}

export const formatMiB = (mib: number | null | undefined): string =>
  mib === null || mib === undefined ? "—" : formatBytes(mib * MiB);

export const formatRate = (bytesPerSec: number | null | undefined): string =>
  bytesPerSec === null || bytesPerSec === undefined ? "—" : `${trim(bytesPerSec / MiB, 1)} MiB/s`;

export const formatPct = (pct: number | null | undefined): string =>
  pct === null || pct === undefined ? "—" : `${Math.round(pct)} %`;

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** "3 min ago", "in 20 s"; `now` is passed in so one clock drives every label. */
export function formatRelative(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "—";
  const diff = t - now;
  const future = diff > 0;
  const s = Math.abs(diff) / 1000;
  let text: string;
  if (s < 5) return "just now";
  if (s < 60) text = `${Math.floor(s)} s`;
  else if (s < 3600) text = `${Math.floor(s / 60)} min`;
  else if (s < 86400) text = `${Math.floor(s / 3600)} h`;
  else text = `${Math.floor(s / 86400)} d`;
  return future ? `in ${text}` : `${text} ago`;
}

export function formatAbsolute(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const percentOf = (used: number | null | undefined, total: number | null | undefined): number | null =>
  used === null || used === undefined || !total ? null : (100 * used) / total;

// An ISO 8601 instant as servers and agents write it: 2026-12-07T06:04:27Z, with fractions or an offset.
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})\b/g;

/**
 * A server's sentence with its timestamps said as people say them: "unreachable; last seen
 * 2026-12-07T06:04:27.113Z" becomes "unreachable; last seen 3 min ago".
 */
export const humanizeTimes = (text: string, now: number): string =>
  text.replace(ISO_INSTANT, (iso) => (Number.isNaN(Date.parse(iso)) ? iso : formatRelative(iso, now)));
