"use client";
import type { AppRouter } from "@nimbus/api";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";

/**
 * The web app's only way to the server: tRPC on the same origin. Subscriptions travel as SSE
 * (httpSubscriptionLink reconnects by itself and resumes with Last-Event-ID); everything else is
 * batched over plain HTTP.
 */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = "/api/trpc";

export function makeTRPCClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url }),
        // The server refuses a batch of more than 20 calls (apps/server/src/http/limits.ts).
        false: httpBatchLink({ url, maxItems: 20 }),
      }),
    ],
  });
}
