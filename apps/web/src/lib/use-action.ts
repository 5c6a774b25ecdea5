"use client";
import { useMutation, type DefaultError, type MutateOptions, type UseMutationOptions, type UseMutationResult } from "@tanstack/react-query";
import { useReducer, useRef } from "react";
import { SubmitGuard, requestKey } from "./submit-guard";

/**
 * `useMutation` for every button that changes something: the same request is never sent twice
 * while it is out (a double click, Enter pressed twice), and `isPending` turns true in the click
 * itself (TanStack's own flag lands a tick later, after a second click could slip through), so
 * the button is disabled before the next click arrives.
 */
export function useAction<TData = unknown, TError = DefaultError, TVariables = void, TContext = unknown>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
): UseMutationResult<TData, TError, TVariables, TContext> & { isSending: (variables: TVariables) => boolean } {
  const mutation = useMutation(options);
  const guard = useRef<SubmitGuard>(null);
  guard.current ??= new SubmitGuard();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const mutate = (variables: TVariables, opts?: MutateOptions<TData, TError, TVariables, TContext>) => {
    const released = guard.current!.run(requestKey(variables), () => mutation.mutateAsync(variables, opts));
    if (!released) return;
    rerender();
    void released.then(rerender);
  };
  return {
    ...mutation,
    mutate,
    isPending: mutation.isPending || guard.current.busy,
    /** This very request is out (per-row buttons: only the clicked row's button spins). */
    isSending: (variables: TVariables) => guard.current!.has(requestKey(variables)),
  } as UseMutationResult<TData, TError, TVariables, TContext> & { isSending: (variables: TVariables) => boolean };
}
