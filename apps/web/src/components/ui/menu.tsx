"use client";
import * as M from "@radix-ui/react-dropdown-menu";
import type { ReactNode } from "react";
import { cx } from "@/lib/cx";

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
  disabled?: boolean;
  testId?: string;
}

/** A row's action menu ("⋯"), keyboard-usable through Radix. Renders nothing when empty. */
export function ActionMenu({ label, items, trigger }: { label: string; items: MenuItem[]; trigger?: ReactNode }) {
  // Nothing to offer: keep the trigger's room, so rows with and without actions are one height.
  if (!items.length) return <span aria-hidden className="inline-block h-7 min-w-7 align-middle" />;
  return (
    <M.Root>
      <M.Trigger
        aria-label={label}
        className="inline-flex h-7 min-w-7 items-center justify-center rounded-md px-1.5 text-muted hover:bg-panel-2 hover:text-fg data-[state=open]:bg-panel-2"
      >
        {trigger ?? (
          <svg aria-hidden viewBox="0 0 16 16" className="size-4" fill="currentColor">
            <circle cx="3" cy="8" r="1.4" />
            <circle cx="8" cy="8" r="1.4" />
            <circle cx="13" cy="8" r="1.4" />
          </svg>
        )}
      </M.Trigger>
      <M.Portal>
        <M.Content align="end" sideOffset={4} className="z-50 min-w-44 rounded-lg border border-border bg-panel p-1 text-[13px] shadow-xl">
          {items.map((item) => (
            <M.Item
              key={item.label}
              disabled={item.disabled}
              onSelect={item.onSelect}
              data-testid={item.testId}
              className={cx(
                "cursor-default rounded-md px-2.5 py-1.5 outline-none data-[disabled]:opacity-40 data-[highlighted]:bg-panel-2",
                item.danger && "text-crit",
              )}
            >
              {item.label}
            </M.Item>
          ))}
        </M.Content>
      </M.Portal>
    </M.Root>
  );
}
