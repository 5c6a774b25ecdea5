"use client";
import { useState } from "react";

/**
 * "a, b, c and 1,992 more": a few names and a count, expandable. At fleet size one check or one
 * mount can name 2,000 hosts; a wall of names helps nobody on a phone at 3 a.m.
 */
export function NameList({ names, shown = 8 }: { names: readonly string[]; shown?: number }) {
  const [open, setOpen] = useState(false);
  if (names.length <= shown) return <span>{names.join(", ")}</span>;
  return (
    <span>
      {(open ? names : names.slice(0, shown)).join(", ")}{" "}
      <button type="button" className="text-accent hover:underline" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "show fewer" : `and ${(names.length - shown).toLocaleString("en-US")} more`}
      </button>
    </span>
  );
}
