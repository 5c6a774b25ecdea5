import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { sample } from "../../fixtures/samples.js";

/**
 * Inputs for the parser fuzz suite: random text, and real tool outputs (the agent's fixtures and
 * the real lab's captures) mutated the way a broken or hostile host could change them.
 */

/** A capture of the real lab (packages/lab-real/samples/HOST/FILE). */
export const labSample = (path: string): string =>
  readFileSync(fileURLToPath(new URL(`../../../../lab-real/samples/${path}`, import.meta.url)), "utf8");

export const samples = (...names: string[]) => names.map((n) => (n.includes("/") ? labSample(n) : sample(n)));

/** Values that have broken parsers before, or could: empty, odd numbers, option-like, prototype keys, escapes. */
export const TOKENS = [
  "", " ", "-", "--", "--all", "0", "-1", "1.5", "1.2.3", "1e999", "1e3", "0x10", "NaN", "Infinity", "9".repeat(400),
  "__proto__", "constructor", "toString", "null", "true", "[]", "{}", '["map",[null]]', '["map",[["k"]]]', '["set",[["set",[]]]]',
  "\u0000", "\t", "\r", "\n", "\n\n", "café", "\\xc3\\xa9", "'", '"', "\\", "<", ">", "&", "&amp;", "]]>", "<!--", ":", "=", "/", "(", ")",
  "KiB", "pages/s", "ms", "Unbounded", "error: ", "Domain: '", "  block.count=", "x".repeat(5000),
];

const token = fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: "binary", maxLength: 12 }));

type Edit = { kind: "insert" | "delete" | "replace" | "truncate" | "duplicate-line" | "number"; at: number; len: number; token: string };

const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("insert", "delete", "replace", "truncate", "duplicate-line", "number"),
  at: fc.nat(),
  len: fc.nat({ max: 64 }),
  token,
});

function apply(text: string, e: Edit): string {
  const at = text.length ? e.at % (text.length + 1) : 0;
  switch (e.kind) {
    case "insert":
      return text.slice(0, at) + e.token + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + e.len);
    case "replace":
      return text.slice(0, at) + e.token + text.slice(at + Math.max(1, e.len));
    case "truncate":
      return text.slice(0, at);
    case "duplicate-line": {
      const lines = text.split("\n");
      const i = e.at % lines.length;
      return [...lines.slice(0, i + 1), lines[i], ...lines.slice(i + 1)].join("\n");
    }
    case "number": {
      // Every number a parser reads is where a strict parser and a lenient one differ.
      const numbers = [...text.matchAll(/\d+(?:\.\d+)?/g)];
      if (numbers.length === 0) return text;
      const m = numbers[e.at % numbers.length]!;
      return text.slice(0, m.index) + e.token + text.slice(m.index! + m[0].length);
    }
  }
}

/** A real output with one to four edits. */
export const mutatedText = (seeds: string[]) =>
  fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => edits.reduce(apply, seed));

/** Text with no structure at all, and lines made of tokens. */
export const randomText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.array(fc.array(token, { maxLength: 6 }).map((ws) => ws.join(" ")), { maxLength: 12 }).map((ls) => ls.join("\n")),
);

type Json = unknown;

/** Every place in a JSON tree a value sits, as [container, key]. */
function slots(v: Json, out: [Record<string, Json> | Json[], string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push([v as Record<string, Json>, k]), slots(x, out);
  return out;
}

const jsonReplacement = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<Json>(null, "", -1, 1.5, 1e308, "1.2.3", "__proto__", "constructor", "toString", ["map", [null]], ["map", [["k"]]], ["set", [["uuid"]]], ["uuid", 7], [], {}),
);

const parsesAs = (seed: string, lines: boolean): Json[] | null => {
  try {
    return lines ? seed.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Json) : [JSON.parse(seed) as Json];
  } catch {
    return null; // a captured refusal ("# exit 1 ...") is a text seed, not a JSON one
  }
};

/**
 * Real JSON outputs (one document, or with `lines` one per line as docker prints them) with one
 * to three values replaced, deleted or given an extra key: past JSON.parse, into the shape checks.
 */
export function mutatedJson(seeds: string[], lines = false) {
  const parsed = seeds.map((s) => parsesAs(s, lines)).filter((d): d is Json[] => d !== null);
  if (parsed.length === 0) throw new Error("no seed parses as JSON");
  const editArb = fc.record({ at: fc.nat(), kind: fc.constantFrom("replace", "delete", "add"), value: jsonReplacement, key: fc.constantFrom("__proto__", "constructor", "x", "") });
  return fc.tuple(fc.constantFrom(...parsed), fc.array(editArb, { minLength: 1, maxLength: 3 })).map(([seedDocs, edits]) => {
    const docs = structuredClone(seedDocs);
    for (const e of edits) {
      const all = slots(docs);
      if (all.length === 0) break;
      const [container, key] = all[e.at % all.length]!;
      if (e.kind === "replace") (container as Record<string | number, Json>)[key] = structuredClone(e.value);
      else if (e.kind === "delete") Array.isArray(container) ? container.splice(key as number, 1) : delete (container as Record<string, Json>)[key as string];
      // defineProperty: a "__proto__" key is an own key, as JSON.parse makes it.
      else if (!Array.isArray(container)) Object.defineProperty(container, e.key, { value: structuredClone(e.value), enumerable: true, writable: true, configurable: true });
    }
    return docs.map((d) => JSON.stringify(d)).join("\n");
  });
}
