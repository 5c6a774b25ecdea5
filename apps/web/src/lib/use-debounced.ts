"use client";
import { useEffect, useState } from "react";

/** `value` once it has stopped changing for `ms` (a query re-run as a form is typed, not on every key). */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}
