"use client";
import type { SortingState } from "@tanstack/react-table";
import { useUrlParam } from "./url-state";

/** Sorting in the URL as `sort=name` or `sort=-cpu` (descending), like the filters. */
export function parseSort(value: string, fallback: SortingState): SortingState {
  if (!value) return fallback;
  const desc = value.startsWith("-");
  return [{ id: desc ? value.slice(1) : value, desc }];
}

export const formatSort = (s: SortingState): string => (s[0] ? `${s[0].desc ? "-" : ""}${s[0].id}` : "");

export function useUrlSort(fallback: SortingState): [SortingState, (s: SortingState) => void] {
  const [value, setValue] = useUrlParam("sort");
  return [parseSort(value, fallback), (s) => setValue(formatSort(s))];
}
