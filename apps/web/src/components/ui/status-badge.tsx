import type { Status } from "@/lib/status";
import { cx } from "@/lib/cx";
import { toneFill, toneSoft } from "./tone";

/** A status as dot + word; `title` adds the detail (e.g. the error message) on hover. */
export function StatusBadge({ status, title, size = "sm" }: { status: Status; title?: string | null; size?: "sm" | "lg" }) {
  return (
    <span
      title={title ?? undefined}
      data-tone={status.tone}
      className={cx(
        "inline-flex items-center gap-1.5 whitespace-nowrap rounded-full font-medium",
        size === "lg" ? "px-3 py-1 text-sm" : "px-2 py-0.5 text-[11.5px] leading-4",
        toneSoft[status.tone],
      )}
    >
      <span aria-hidden className={cx("inline-block rounded-full", size === "lg" ? "size-2.5" : "size-1.5", toneFill[status.tone])} />
      {status.label}
    </span>
  );
}

/** A small neutral label: roles, modes, VLAN ids. */
export function Tag({ children, title, mono }: { children: React.ReactNode; title?: string; mono?: boolean }) {
  return (
    <span title={title} className={cx("inline-flex items-center rounded border border-border bg-panel-2 px-1.5 text-[11.5px] leading-[18px] text-muted", mono && "font-mono")}>
      {children}
    </span>
  );
}
