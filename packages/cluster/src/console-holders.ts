/**
 * Serial consoles this replica's agents hold for other replicas (replica mode). A console is held by
 * the replica serving its output stream; when that replica does not own the VM's host, its
 * `console.open` reaches the agent through the owner (`fleet.request` over internal HTTP), so the
 * agent session lives on the owner's SSH link. If the holder dies, nobody would ever close it: the
 * owner notes which replica opened each session it relayed, and after each lease round closes the
 * sessions of holders no longer alive (their heartbeat gone, 6 s), so a killed replica's consoles
 * end within a round or two of its death instead of when the SSH link ends. Bounded: a session is
 * forgotten when it is closed (by its holder, the agent, or a sweep) or its host leaves this replica.
 */
export class ConsoleHolders {
  /** session -> where and for whom. */
  private readonly sessions = new Map<string, { host: string; holder: string }>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A relayed `console.open` answered: `holder` holds `session` on `host`. */
  opened(host: string, session: string, holder: string): void {
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(session, { host, holder });
  }

  /** Closed by its holder or ended by the agent. */
  closed(session: string): void {
    this.sessions.delete(session);
  }

  /** The host went (released, fenced): its agent sessions ended with the SSH link. */
  hostGone(host: string): void {
    for (const [session, s] of this.sessions) if (s.host === host) this.sessions.delete(session);
  }

  /**
   * The sessions whose holder is not in `alive` (forgotten here; the caller closes them). Nothing
   * when `alive` is empty: a replica that cannot read the directory knows nothing of the others.
   */
  orphans(alive: ReadonlySet<string>): { host: string; session: string; holder: string }[] {
    if (!alive.size) return [];
    const out: { host: string; session: string; holder: string }[] = [];
    for (const [session, s] of this.sessions)
      if (!alive.has(s.holder)) {
        this.sessions.delete(session);
        out.push({ session, ...s });
      }
    return out;
  }
}
