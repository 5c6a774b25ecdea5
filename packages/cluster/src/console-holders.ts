/**
 * Serial consoles this replica's agents hold for other replicas (replica mode). A console is held by
 * the replica serving its output stream; when that replica does not own the VM's host, its
 * `console.open` reaches the agent through the owner (`fleet.request` over internal HTTP), so the
 * agent session lives on the owner's SSH link. If the holder dies, nobody would ever close it: the
 * owner notes which replica opened each session it relayed, and after each lease round closes the
 * sessions of holders no longer alive (their heartbeat gone, 6 s), so a killed replica's consoles
 * end within a round or two of its death instead of when the SSH link ends. Bounded: a session is
 * forgotten when it is closed (by its holder, the agent, or a sweep) or its host leaves this replica.
 * A holder restarted under the same replica id is alive again before its old heartbeat ages, so each
 * session also notes the holder's incarnation (its boot, the bus origin `<replica>@<nonce>`): once
 * the owner hears of a newer boot of that replica (a bus message or a relayed call), the sessions
 * of its earlier boots are closed (`restarted`).
 */
export class ConsoleHolders {
  /** session -> where and for whom. */
  private readonly sessions = new Map<string, { host: string; holder: string; boot?: string }>();
  /** Per holder, the boots heard of (a few: a late message of an earlier boot is no restart). */
  private readonly boots = new Map<string, string[]>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.sessions.size;
  }

  /** A relayed `console.open` answered: `holder` (in its boot `boot`) holds `session` on `host`. */
  opened(host: string, session: string, holder: string, boot?: string): void {
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    this.sessions.set(session, boot ? { host, holder, boot } : { host, holder });
  }

  /**
   * `holder` spoke in boot `boot`. The first time a boot is heard of after another one of the same
   * replica, that replica was restarted: the sessions its earlier boots opened are handed out
   * (forgotten here; the caller closes them). A boot heard of before (a straggler) changes nothing.
   */
  restarted(holder: string, boot: string): { host: string; session: string; holder: string }[] {
    const known = this.boots.get(holder);
    if (known?.includes(boot)) return [];
    if (!known) {
      // Bounded by the replicas that ever held a console here (plus a few boots each).
      if (this.boots.size >= 1_000) this.boots.delete(this.boots.keys().next().value!);
      this.boots.set(holder, [boot]);
    } else {
      known.push(boot);
      if (known.length > 8) known.shift();
    }
    const out: { host: string; session: string; holder: string }[] = [];
    for (const [session, s] of this.sessions)
      if (s.holder === holder && s.boot !== undefined && s.boot !== boot) {
        this.sessions.delete(session);
        out.push({ session, host: s.host, holder: s.holder });
      }
    return out;
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
        out.push({ session, host: s.host, holder: s.holder });
      }
    return out;
  }
}
