"use client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { errorInfo } from "@/lib/errors";
import { TRPCProvider, makeTRPCClient } from "@/lib/trpc";

const NO_RETRY = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "BAD_REQUEST", "PRECONDITION_FAILED"]);

function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // The live channel patches cached data as it changes, so nothing goes stale by age and
        // nothing refetches on a timer or on focus; a "reset" event invalidates everything.
        staleTime: Infinity,
        refetchOnWindowFocus: false,
        retry: (count, error) => !NO_RETRY.has(errorInfo(error).code ?? "") && count < 2,
      },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(makeTRPCClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
