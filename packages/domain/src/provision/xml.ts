import { NimbusError } from "../errors.js";

/**
 * A small XML writer: every attribute value and every text node goes through `escapeXml`, and
 * element names are the builder's own constants, so no value can close an element, open one or
 * start a comment or CDATA section.
 */

// XML 1.0 forbids these characters even escaped; a lone surrogate is not a character either.
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(value: string): string {
  if (FORBIDDEN.test(value)) throw new NimbusError("BAD_INPUT", "a value for the domain XML contains a control character XML cannot hold");
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export type Attrs = Record<string, string | number | null | undefined>;
/** Markup made by `el`: children are only ever built elements or escaped text. */
export type Markup = { readonly xml: string };

const attrs = (a: Attrs) =>
  Object.entries(a)
    .filter((e): e is [string, string | number] => e[1] !== null && e[1] !== undefined)
    .map(([k, v]) => ` ${k}='${escapeXml(String(v))}'`)
    .join("");

const indent = (s: string) => s.replace(/^/gm, "  ");

/** `<tag attrs>children</tag>`; a string child is text (escaped), an element child is nested and indented. */
export function el(tag: string, a: Attrs = {}, children: readonly (Markup | string | number)[] = []): Markup {
  if (!children.length) return { xml: `<${tag}${attrs(a)}/>` };
  if (children.length === 1 && typeof children[0] !== "object") return { xml: `<${tag}${attrs(a)}>${escapeXml(String(children[0]))}</${tag}>` };
  const inner = children.map((c) => (typeof c === "object" ? c.xml : escapeXml(String(c)))).join("\n");
  return { xml: `<${tag}${attrs(a)}>\n${indent(inner)}\n</${tag}>` };
}
