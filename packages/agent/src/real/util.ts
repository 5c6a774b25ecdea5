import { AgentErrorCode } from "@nimbus/domain";
import { AgentError, conflict, notFound } from "../errors.js";

/**
 * Listeners a driver calls after its own actions. Real daemons also report those changes
 * through their event streams; notifying directly means the server sees the result of an
 * action even where a tool has no events (libvirt's test driver, a docker CLI without events).
 */
export class ChangeFeed {
  private readonly listeners = new Set<() => void>();
  add(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(): void {
    for (const l of this.listeners) l();
  }
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order (one virsh per domain, not 200 at once). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A pause an abort ends early (resolving); the abort listener is removed when the pause ends. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * Turns a tool failure whose stderr says "no such object" or "not in this state" into the typed
 * notFound / conflict errors the server branches on. Anything else stays a toolFailed error.
 */
export function classifyToolError(err: unknown, what: string, patterns: { notFound?: RegExp; conflict?: RegExp }): unknown {
  if (!(err instanceof AgentError) || err.code !== AgentErrorCode.toolFailed) return err;
  const stderr = String(err.data?.stderr ?? "");
  if (patterns.notFound?.test(stderr)) return notFound(what);
  if (patterns.conflict?.test(stderr)) return conflict(`${what}: ${lastLine(stderr)}`);
  return err;
}

export const lastLine = (s: string) => s.trim().split("\n").filter(Boolean).pop() ?? "";
