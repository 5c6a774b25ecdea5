import { z } from "zod";

/** Rows a list query may return at once: a page the browser draws, never the fleet. */
export const MAX_PAGE = 500;
/** A free-text search is a few words, not a document. */
export const MAX_SEARCH = 200;

/** Where a page starts and how long it is; bounded so a hostile client cannot ask for everything. */
export const PageWindow = {
  offset: z.number().int().min(0).max(10_000_000).default(0),
  limit: z.number().int().min(1).max(MAX_PAGE).default(100),
};

/** One page of a list, with what it takes to draw a pager and a count line. */
export interface Page<T> {
  items: T[];
  /** Rows matching the filters (all pages). */
  total: number;
  /** Rows the viewer may see at all, before filters ("12 of 20,000"). */
  all: number;
  offset: number;
  limit: number;
}

/** Rows [offset, offset+limit) of those `keep` accepts, walking `ordered` once and counting all matches. */
export function pageOf<T>(ordered: readonly T[], keep: (row: T) => boolean, offset: number, limit: number): { items: T[]; total: number } {
  const items: T[] = [];
  let total = 0;
  for (const row of ordered) {
    if (!keep(row)) continue;
    if (total >= offset && items.length < limit) items.push(row);
    total++;
  }
  return { items, total };
}

/** Compare for sorting: numbers by value, strings by code point (stable, locale-free, the same in every process). */
export function compareValues(a: string | number, b: string | number): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
