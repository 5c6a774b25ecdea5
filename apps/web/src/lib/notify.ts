"use client";
import { toast } from "sonner";
import type { Operation } from "@nimbus/domain";
import { errorInfo } from "./errors";
import { operationHref } from "./hrefs";
import { operationOutcome } from "./operation-text";

/** Client-side navigation for toast actions; the app shell registers Next's router (a full load until then). */
let navigate = (href: string) => window.location.assign(href);
export const setToastNavigator = (fn: (href: string) => void) => {
  navigate = fn;
};

/** A toast about an operation opens its detail view. */
const details = (id: string) => ({ action: { label: "Details", onClick: () => navigate(operationHref(id)) } });

/**
 * The one way the UI tells the user that something happened. Mutations call these; nothing
 * renders its own success banner.
 */
export const notify = {
  ok: (message: string) => toast.success(message),
  info: (message: string) => toast(message),
  /** That an operation started, with a way to its detail view. */
  started: (op: Pick<Operation, "id" | "summary">) => toast(`${op.summary}: started`, details(op.id)),
  error: (error: unknown, prefix?: string) => {
    const { message } = errorInfo(error);
    toast.error(prefix ? `${prefix}: ${message}` : message);
  },
};

/** Operations started in this tab; their outcome is announced when the pushed final state lands. */
const watched = new Set<string>();
export const watchOperation = (id: string) => watched.add(id);

export function announceIfWatched(op: Operation) {
  if (!watched.delete(op.id)) return;
  const text = operationOutcome(op);
  if (op.state === "succeeded") toast.success(text, details(op.id));
  else if (op.state === "cancelled") toast.warning(text, details(op.id));
  else toast.error(text, details(op.id));
}
