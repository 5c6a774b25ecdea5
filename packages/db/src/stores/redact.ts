/**
 * What an audit record may keep of a request's input: everything except secrets, and not too much
 * of it. Keys that name secrets are replaced whole, at any depth; long strings, arrays and objects
 * are cut (an object with a million keys keeps its first few and says how many it dropped), and
 * the whole summary holds at most MAX_VALUES values, so its size is bounded whatever came in.
 */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|private[-_]?key|^key$|cookie|authorization|credential/i;
export const REDACTED = "[redacted]";
const MAX_STRING = 200;
const MAX_ITEMS = 50;
const MAX_KEYS = 50;
const MAX_DEPTH = 6;
const MAX_VALUES = 64;
const CUT = "[…]";

const cutString = (s: string) => (s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s);

export function redactSecrets(value: unknown): unknown {
  return redact(value, 0, { left: MAX_VALUES });
}

function redact(value: unknown, depth: number, budget: { left: number }): unknown {
  if (budget.left <= 0) return CUT;
  budget.left--;
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return cutString(value);
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return CUT;
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map((v) => redact(v, depth + 1, budget));
    return value.length > MAX_ITEMS ? [...kept, `… ${value.length - MAX_ITEMS} more`] : kept;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    let kept = 0;
    let dropped = 0;
    // for…in, not Object.entries: a huge object is not copied into an array just to be cut.
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      if (kept === MAX_KEYS) {
        dropped++;
        continue;
      }
      kept++;
      out[cutString(k)] = SECRET_KEY.test(k) ? REDACTED : redact((value as Record<string, unknown>)[k], depth + 1, budget);
    }
    if (dropped) out["…"] = `${dropped} more keys`;
    return out;
  }
  // undefined, functions, symbols, bigints: nothing worth keeping in JSON.
  return typeof value === "bigint" ? value.toString() : null;
}
