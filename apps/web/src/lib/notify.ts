"use client";
import { toast } from "sonner";
import type { Operation } from "@nimbus/domain";
import { errorInfo } from "./errors";
import { operationOutcome } from "./operation-text";

/**
 * The one way the UI tells the user that something happened. Mutations call these; nothing
 * renders its own success banner.
 */
export const notify = {
  ok: (message: string) => toast.success(message),
  info: (message: string) => toast(message),
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
  if (op.state === "succeeded") toast.success(text);
  else if (op.state === "cancelled") toast.warning(text);
  else toast.error(text);
}
