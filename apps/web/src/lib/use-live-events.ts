"use client";
import { useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import type { LiveEvent, Operation } from "@nimbus/domain";
import { applyLiveEvent } from "./queries";
import { announceIfWatched } from "./notify";
import { useTRPC } from "./trpc";

const isFinal = (s: Operation["state"]) => s === "succeeded" || s === "failed" || s === "cancelled";

/**
 * The single live subscription, mounted once by the app shell. Every pushed event patches the
 * query cache (see applyLiveEvent); pages never poll. Returns the channel's status for the
 * "Live" indicator.
 */
export function useLiveEvents(enabled: boolean) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const sub = useSubscription(
    trpc.live.events.subscriptionOptions(undefined, {
      enabled,
      onData: (message) => {
        // tracked() events arrive as { id, data }; the id lets the link resume after a cut.
        const ev = (message as { data: LiveEvent }).data;
        if (ev.type === "operation" && isFinal(ev.operation.state)) announceIfWatched(ev.operation);
        applyLiveEvent(qc, trpc, ev);
      },
    }),
  );
  return sub.status;
}
