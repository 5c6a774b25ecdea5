import type { z } from "zod";
import { quote, unparseable } from "../../errors.js";

/**
 * Shared building blocks for tool-output parsers. Every parser is a pure function from the
 * tool's text to domain data, and every shape it does not recognise becomes
 * `unparseable(tool, reason, output)` rather than a silently wrong inventory.
 */

export function parseJson(tool: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw unparseable(tool, `not JSON (${(e as Error).message})`, text);
  }
}

/** `--format '{{json .}}'` prints one JSON object per line. */
export function parseJsonLines(tool: string, text: string): unknown[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((line) => parseJson(tool, line));
}

/** Validates parsed data against the fields a parser relies on. */
export function check<S extends z.ZodType>(schema: S, tool: string, value: unknown, text: string): z.infer<S> {
  const res = schema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const path = issue.path.map((k) => (typeof k === "string" ? quote(k, 40) : String(k))).join(".");
    throw unparseable(tool, `${path || "(root)"}: ${issue.message}`, text);
  }
  return res.data;
}

export const parseJsonWith = <S extends z.ZodType>(schema: S, tool: string, text: string): z.infer<S> =>
  check(schema, tool, parseJson(tool, text), text);

/**
 * "Key:   value" lines (virsh dominfo, nodeinfo, domjobinfo). Continuation lines (no key) are
 * appended to the previous value; keys are kept as printed.
 */
export function keyValues(tool: string, text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | null = null;
  for (const raw of text.split("\n")) {
    if (!raw.trim()) continue;
    const m = /^([A-Za-z][^:]*):\s*(.*)$/.exec(raw);
    if (m && !/^\s/.test(raw)) {
      last = m[1]!.trim();
      out.set(last, m[2]!.trim());
    } else if (last !== null && /^\s/.test(raw)) {
      out.set(last, `${out.get(last)} ${raw.trim()}`.trim());
    } else {
      throw unparseable(tool, `unexpected line ${quote(raw.trim())}`, text);
    }
  }
  return out;
}

export function requireKey(tool: string, kv: Map<string, string>, key: string, text: string): string {
  const v = kv.get(key);
  if (v === undefined) throw unparseable(tool, `missing ${quote(key)}`, text);
  return v;
}

/**
 * Numbers as tools print them, and nothing else: "" is not 0, "1.2.3" is not NaN, "1.5" is not
 * an integer, "1e3", "0x10", "Infinity" and " 7" are not numbers at all. Each returns null for
 * anything it does not accept; the callers turn that into a typed error naming the field.
 */
export function integer(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

export function decimal(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,30}(?:\.\d{1,30})?$/.test(value)) return null;
  return Number(value);
}

const SIZE_FACTOR: Record<string, number> = {
  B: 1, bytes: 1, k: 1024, K: 1024, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
  KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3, TB: 1000 ** 4,
};

/** "65536 KiB", "2.5 GiB", "1024 B" -> bytes. */
export function sizeToBytes(tool: string, value: string, text: string): number {
  const m = /^(\S+?)\s*(B|bytes|KiB|MiB|GiB|TiB|KB|MB|GB|TB|k|K)?$/.exec(value.trim());
  const n = m ? decimal(m[1]) : null;
  if (!m || n === null) throw unparseable(tool, `${quote(value)} is not a size`, text);
  return Math.round(n * SIZE_FACTOR[m[2] ?? "B"]!);
}

/** A whole number field ("CPU(s)", "Iteration", a port): a typed error for anything else. */
export function toInt(tool: string, value: string | undefined, what: string, text: string): number {
  const n = integer(value?.trim());
  if (n === null) throw unparseable(tool, `${what} ${quote(value ?? "")} is not a whole number`, text);
  return n;
}

/** A decimal field ("2596", "12.5"): a typed error for anything else. */
export function toDecimal(tool: string, value: string | undefined, what: string, text: string): number {
  const n = decimal(value?.trim());
  if (n === null) throw unparseable(tool, `${what} ${quote(value ?? "")} is not a number`, text);
  return n;
}
