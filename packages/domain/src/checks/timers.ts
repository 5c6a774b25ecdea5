/** The clock a check schedule runs on: real timers in agents and the server, fake ones in tests. */
export interface CheckTimers {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers, unref'd: a schedule of checks never keeps a process alive by itself. */
export const realCheckTimers: CheckTimers = {
  now: () => new Date(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
