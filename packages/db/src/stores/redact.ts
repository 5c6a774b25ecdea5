/**
 * What an audit record may keep of a request's input: everything except secrets, and not too much
 * of it. Keys that name secrets are replaced whole, at any depth; long strings and arrays are cut.
 */
const SECRET_KEY = /pass(word|phrase)?|secret|token|api[-_]?key|private[-_]?key|^key$|cookie|authorization|credential/i;
export const REDACTED = "[redacted]";
const MAX_STRING = 500;
const MAX_ITEMS = 50;
const MAX_DEPTH = 6;

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === "boolean" || typeof value === "number") return value;
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_ITEMS).map((v) => redactSecrets(v, depth + 1));
    return value.length > MAX_ITEMS ? [...kept, `… ${value.length - MAX_ITEMS} more`] : kept;
  }
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? REDACTED : redactSecrets(v, depth + 1);
    return out;
  }
  // undefined, functions, symbols, bigints: nothing worth keeping in JSON.
  return typeof value === "bigint" ? value.toString() : null;
}
