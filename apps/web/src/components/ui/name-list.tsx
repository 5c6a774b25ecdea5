"use client";
import Link from "next/link";
import { Fragment, useState } from "react";

/**
 * "a, b, c and 1,992 more": a few names and a count, expandable. At fleet size one check or one
 * mount can name 2,000 hosts; a wall of names helps nobody on a phone at 3 a.m. With `hrefFor`,
 * each name links to its object.
 */
export function NameList({ names, shown = 8, hrefFor }: { names: readonly string[]; shown?: number; hrefFor?: (name: string) => string | null }) {
  const [open, setOpen] = useState(false);
  const visible = open || names.length <= shown ? names : names.slice(0, shown);
  const list = visible.map((n, i) => {
    const href = hrefFor?.(n);
    return (
      <Fragment key={n}>
        {i > 0 && ", "}
        {href ? (
          <Link href={href} className="hover:text-accent hover:underline">
            {n}
          </Link>
        ) : (
          n
        )}
      </Fragment>
    );
  });
  if (names.length <= shown) return <span>{list}</span>;
  return (
    <span>
      {list}{" "}
      <button type="button" className="text-accent hover:underline" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? "show fewer" : `and ${(names.length - shown).toLocaleString("en-US")} more`}
      </button>
    </span>
  );
}
