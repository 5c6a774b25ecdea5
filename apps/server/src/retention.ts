/**
 * Runs the history prune now and then: first a minute after start (not while a big fleet is
 * connecting), then every `everyMs` after the previous run ended, so two runs never overlap.
 * Returns the function that stops it.
 */
export function scheduleRetention<T>(
  prune: () => Promise<T>,
  opts: { firstAfterMs?: number; everyMs?: number; onDone?: (result: T) => void; onError: (err: unknown) => void },
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const run = async () => {
    try {
      const result = await prune();
      opts.onDone?.(result);
    } catch (err) {
      opts.onError(err);
    }
    if (!stopped) arm(opts.everyMs ?? 3_600_000);
  };
  const arm = (ms: number) => {
    timer = setTimeout(() => void run(), ms);
    timer.unref();
  };
  arm(opts.firstAfterMs ?? 60_000);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
