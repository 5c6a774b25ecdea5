/**
 * Requests in flight, by what they ask for. A second identical request while the first is still
 * out is dropped: a double click on "Scale" must not start two operations. Pure, so it is tested
 * without a browser; `useAction` holds one per mutation.
 */
export class SubmitGuard {
  private readonly inFlight = new Set<string>();

  /**
   * Starts `send` unless the same request is out: null when it was dropped, else a promise that
   * resolves (never rejects: failures are the mutation's to report) once the key is free again.
   */
  run(key: string, send: () => Promise<unknown>): Promise<void> | null {
    if (this.inFlight.has(key)) return null;
    this.inFlight.add(key);
    const release = () => void this.inFlight.delete(key);
    try {
      return send().then(release, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  has(key: string): boolean {
    return this.inFlight.has(key);
  }
}

/** The same input gives the same key, whatever order its fields were written in. */
export function requestKey(input: unknown): string {
  return JSON.stringify(input ?? null, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
