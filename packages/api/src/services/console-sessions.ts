import { randomUUID } from "node:crypto";
import { CONSOLE_LIMITS, NimbusError, cutText, type Viewer } from "@nimbus/domain";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import type { AuditService } from "../deps.js";
import { RateWindow } from "./rate-window.js";

/**
 * Serial consoles between browsers and agents. One console per (user, instance): the agent
 * session it holds (`console.open` on the VM's host), a bounded scrollback replayed to a stream
 * that (re)opens, and the browser streams reading it (a reload, a second tab). When the last
 * stream goes, the agent session stays open for a grace period, so a reload finds the screen as
 * it was; then it is closed. Every console is audited when it opens and when it closes (with its
 * duration). Access is checked again on output (at most once a second), every few seconds, and at
 * once when an admin changes or disables the user: a user who lost access sees "closed" and the
 * agent session ends.
 *
 * A console follows its VM: when the agent session ends because the VM left the host (a live
 * migration's switch-over), or a check finds the VM on another host, the console waits for the
 * inventory to show where the VM runs now (at most `followMs`; while the VM is listed on another
 * host too, the migration is still going on), then attaches there. The scrollback is kept, a dim
 * line in the terminal says what happened (without naming a host: tenants read it), and the audit
 * trail keeps one session (no second open; the close says how many times it moved).
 *
 * Guest output is the tenant's own VM's text: it is sent as `GuestOutput` (base64), which the
 * tenant mask passes unchanged on purpose (masking host names inside a guest's bytes would mangle
 * the tenant's own output). Everything else in the stream (reasons, errors) is plain text and
 * goes through the mask like any other answer.
 */

export const CONSOLE_SERVER_LIMITS = {
  /** Instances with an open console per user. */
  consolesPerUser: 4,
  /** Browser streams reading consoles per user (tabs, reloads in flight). */
  streamsPerUser: 6,
  /** Output kept per console for a reload. */
  scrollbackBytes: 64 * 1024,
  /** Characters per `consoleInput` call (the browser batches keystrokes and cuts pastes). */
  inputChars: 1024,
  /** consoleInput calls per user per window. */
  inputCallsPerWindow: 300,
  inputWindowMs: 10_000,
  /** The agent session outlives its last stream this long (a reload). */
  graceMs: 30_000,
  /** Access is checked again at least this often while a stream is open. */
  recheckMs: 5_000,
  /** How long a console whose VM left its host waits for the VM to show up elsewhere (a live migration). */
  followMs: 120_000,
  /** How long it waits when no other host lists the VM (the console ended for another reason). */
  settleMs: 3_000,
} as const;

/** What the terminal shows when the console re-attached after a migration (dim, no host named). */
export const CONSOLE_MOVED_LINE = "\r\n\x1b[2m[nimbus] the VM moved to another host (live migration): console re-attached, same session\x1b[0m\r\n";

/**
 * What the terminal shows when the console came back after its host changed server replica (replica
 * mode: the lease moved on a rebalance or a fence): the agent's console was opened again through
 * the new owner, on the same attachment; the scrollback and the session are kept.
 */
export const CONSOLE_RECONNECTED_LINE = "\r\n\x1b[2m[nimbus] reconnected: another server replica watches this VM's host now; same session\x1b[0m\r\n";

/** The guest's bytes, base64: a class, so the tenant mask (plain values only) leaves them as they are. */
export class GuestOutput {
  constructor(readonly base64: string) {}
  toJSON(): string {
    return this.base64;
  }
}

export type ConsoleEvent =
  | { kind: "connecting" }
  | { kind: "connected" }
  /** Clear the terminal: what follows is the whole scrollback. */
  | { kind: "reset" }
  | { kind: "output"; data: GuestOutput }
  | { kind: "closed"; reason: string };

/** Where the console is and who may read it, resolved again at every check (null: no access any more). */
export type AccessCheck = () => Promise<{ host: string; domain: string } | string>;

interface Stream {
  userId: string;
  queue: { id: string; event: ConsoleEvent }[];
  wake: (() => void) | null;
  ended: boolean;
}

interface Console {
  key: string;
  epoch: string;
  viewer: Viewer;
  instance: string;
  host: string;
  domain: string;
  session: string | null;
  opening: boolean;
  chunks: { seq: number; data: Buffer }[];
  bytes: number;
  seq: number;
  streams: Set<Stream>;
  graceTimer: NodeJS.Timeout | null;
  openedAt: number | null;
  closed: boolean;
  lastCheck: number;
  check: AccessCheck;
  cols: number;
  rows: number;
  /** Times the console followed its VM to another host. */
  moves: number;
  /** Waiting for the VM to show up on another host. */
  following: boolean;
  /** Replica mode: waiting for the host's new owner to connect it (the lease moved). */
  reconnecting: boolean;
}

/**
 * Replica mode: consoles held by peer replicas (`cluster/src/console-relay.ts`). `input` is false
 * when no peer holds the user's console of the instance.
 */
export interface ConsoleRelayPort {
  input(viewer: Viewer, instance: string, data: string): Promise<boolean>;
  close(viewer: Viewer, instance: string): Promise<unknown>;
}

export interface ConsoleServiceOptions {
  graceMs?: number;
  recheckMs?: number;
  followMs?: number;
  settleMs?: number;
  now?: () => number;
}

export class ConsoleService {
  private readonly consoles = new Map<string, Console>();
  private readonly bySession = new Map<string, Console>();
  private readonly streamsPerUser = new Map<string, number>();
  private readonly inputs: RateWindow;
  private readonly graceMs: number;
  private readonly recheckMs: number;
  private readonly followMs: number;
  private readonly settleMs: number;
  /** Wakes consoles waiting for their VM to show up elsewhere, at every virt or connection change. */
  private readonly virtWaiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly unsubscribe: () => void;
  /** Replica mode: where keystrokes for a console held by another replica go. */
  relay: ConsoleRelayPort | null = null;
  /**
   * Replica mode: how long a console whose host is being handed to another replica (its record
   * goes from online to connecting) waits for the new owner to connect it, then opens the agent's
   * console again there; null (one server): the console closes with the link, as before.
   */
  handoverMs: number | null = null;

  constructor(
    private readonly fleet: FleetView,
    private readonly audit: AuditService,
    opts: ConsoleServiceOptions = {},
  ) {
    this.graceMs = opts.graceMs ?? CONSOLE_SERVER_LIMITS.graceMs;
    this.recheckMs = opts.recheckMs ?? CONSOLE_SERVER_LIMITS.recheckMs;
    this.followMs = opts.followMs ?? CONSOLE_SERVER_LIMITS.followMs;
    this.settleMs = opts.settleMs ?? CONSOLE_SERVER_LIMITS.settleMs;
    this.now = opts.now ?? Date.now;
    this.inputs = new RateWindow(CONSOLE_SERVER_LIMITS.inputCallsPerWindow, CONSOLE_SERVER_LIMITS.inputWindowMs, this.now);
    this.unsubscribe = fleet.subscribe((e) => this.onFleet(e));
  }

  stop(): void {
    this.unsubscribe();
    for (const c of [...this.consoles.values()]) this.close(c, "the server is stopping");
  }

  /** Open consoles (agent sessions held or being opened), for tests and /metrics. */
  get size(): number {
    return this.consoles.size;
  }

  /** Refuses before the stream starts, so the browser gets a plain error. */
  assertRoom(viewer: Viewer, instance: string): void {
    if ((this.streamsPerUser.get(viewer.userId) ?? 0) >= CONSOLE_SERVER_LIMITS.streamsPerUser)
      throw new NimbusError("RATE_LIMITED", `you already have ${CONSOLE_SERVER_LIMITS.streamsPerUser} console streams open; close one first`);
    const mine = [...this.consoles.values()].filter((c) => c.viewer.userId === viewer.userId && !c.closed);
    if (mine.length >= CONSOLE_SERVER_LIMITS.consolesPerUser && !mine.some((c) => c.instance === instance))
      throw new NimbusError("RATE_LIMITED", `you already have ${CONSOLE_SERVER_LIMITS.consolesPerUser} consoles open; close one first`);
  }

  /**
   * The stream of one browser: the scrollback (or only what it missed, after `lastEventId`), then
   * live output, until the console closes, access is lost or the browser leaves.
   */
  async *stream(
    viewer: Viewer,
    target: { instance: string; host: string; domain: string; cols: number; rows: number },
    check: AccessCheck,
    signal: AbortSignal | undefined,
    lastEventId?: string | null,
  ): AsyncGenerator<{ id: string; event: ConsoleEvent }> {
    const key = `${viewer.userId}\u0000${target.instance}`;
    let c = this.consoles.get(key);
    // A console left on another host (the VM migrated, and it is not following it) or already ended starts over.
    if (c && !c.following && (c.host !== target.host || c.domain !== target.domain || c.closed)) {
      this.close(c, "the VM moved to another host");
      c = undefined;
    }
    const stream: Stream = { userId: viewer.userId, queue: [], wake: null, ended: false };
    this.streamsPerUser.set(viewer.userId, (this.streamsPerUser.get(viewer.userId) ?? 0) + 1);
    if (!c) {
      c = {
        key, epoch: randomUUID().slice(0, 8), viewer, instance: target.instance, host: target.host, domain: target.domain,
        session: null, opening: false, chunks: [], bytes: 0, seq: 0, streams: new Set(), graceTimer: null, openedAt: null,
        closed: false, lastCheck: this.now(), check, cols: target.cols, rows: target.rows, moves: 0, following: false, reconnecting: false,
      };
      this.consoles.set(key, c);
    }
    c.viewer = viewer;
    c.check = check;
    if (c.graceTimer) clearTimeout(c.graceTimer);
    c.graceTimer = null;
    c.streams.add(stream);
    this.replay(c, stream, lastEventId);
    if (!c.session && !c.opening && !c.following && !c.reconnecting) void this.openAgent(c, target.cols, target.rows);
    const recheck = setInterval(() => void this.recheck(c!), this.recheckMs);
    recheck.unref();
    let released = false;
    // Once, from whichever comes first: the browser aborting (the generator may sit at a yield
    // nobody resumes) or the generator ending.
    const release = () => {
      if (released) return;
      released = true;
      clearInterval(recheck);
      signal?.removeEventListener("abort", onAbort);
      const left = (this.streamsPerUser.get(viewer.userId) ?? 1) - 1;
      if (left > 0) this.streamsPerUser.set(viewer.userId, left);
      else this.streamsPerUser.delete(viewer.userId);
      c!.streams.delete(stream);
      if (!c!.streams.size && !c!.closed && this.consoles.get(key) === c) {
        const held = c!;
        held.graceTimer = setTimeout(() => this.close(held, "the browser left"), this.graceMs);
        held.graceTimer.unref();
      }
    };
    const onAbort = () => {
      release();
      stream.wake?.();
    };
    signal?.addEventListener("abort", onAbort);
    try {
      while (!signal?.aborted) {
        const next = stream.queue.shift();
        if (next) {
          yield next;
          if (next.event.kind === "closed") return;
          continue;
        }
        if (stream.ended) return;
        await new Promise<void>((resolve) => (stream.wake = resolve));
        stream.wake = null;
      }
    } finally {
      release();
    }
  }

  /**
   * Keystrokes for the user's open console of `instance`: the console this replica holds, or
   * (replica mode) the one a peer holds, through the relay.
   */
  async input(viewer: Viewer, instance: string, data: string): Promise<void> {
    const c = this.consoles.get(`${viewer.userId}\u0000${instance}`);
    if (c && !c.closed && c.session) return this.send(c, viewer, data, instance);
    if (this.relay && (await this.relay.input(viewer, instance, data))) return;
    return this.send(c, viewer, data, instance);
  }

  /**
   * A peer replica's relayed keystrokes (replica mode): only a console this replica holds for the
   * same user, with the same role and tenant as when it opened; NOT_FOUND otherwise (the peer
   * tries the next replica).
   */
  async inputHere(viewer: Viewer, instance: string, data: string): Promise<void> {
    const c = this.consoles.get(`${viewer.userId}\u0000${instance}`);
    if (c && (c.viewer.role !== viewer.role || c.viewer.tenant !== viewer.tenant)) return this.send(undefined, viewer, data, instance);
    return this.send(c, viewer, data, instance);
  }

  private async send(c: Console | undefined, viewer: Viewer, data: string, instance: string): Promise<void> {
    if (!c || c.closed) throw new NimbusError("NOT_FOUND", `no open console for instance ${instance}`);
    if (!c.session)
      throw new NimbusError("CONFLICT", c.following ? "the console is following its VM to another host" : c.reconnecting ? "the console is reconnecting (its host changed server replica)" : "the console is still connecting", { reconnecting: c.following || c.reconnecting || c.openedAt !== null });
    if (!this.inputs.take(viewer.userId)) throw new NimbusError("RATE_LIMITED", "too many keystrokes at once; slow down");
    await this.fleet.request(c.host, "console.input", { session: c.session, data });
  }

  /**
   * The user closes the console (the Console tab's Close): the agent session ends now, not after
   * the grace; in replica mode on every peer holding one for the user too.
   */
  async closeFor(viewer: Viewer, instance: string): Promise<void> {
    this.closeHere(viewer, instance);
    await this.relay?.close(viewer, instance);
  }

  /** Closes the user's console of `instance` held here; false when there is none. */
  closeHere(viewer: Viewer, instance: string): boolean {
    const c = this.consoles.get(`${viewer.userId}\u0000${instance}`);
    if (!c) return false;
    this.close(c, "closed by you");
    return true;
  }

  /** An admin changed, disabled or reset the user: every console of theirs closes now. */
  revokeUser(userId: string): void {
    for (const c of [...this.consoles.values()]) if (c.viewer.userId === userId) this.close(c, "your session ended or your access changed: sign in again");
  }

  private replay(c: Console, stream: Stream, lastEventId?: string | null) {
    const [epoch, seqText] = (lastEventId ?? "").split(":");
    const since = Number(seqText);
    const resumable = epoch === c.epoch && Number.isInteger(since) && (c.chunks[0]?.seq ?? c.seq + 1) <= since + 1;
    if (!resumable) stream.queue.push({ id: `${c.epoch}:r`, event: { kind: "reset" } });
    stream.queue.push({ id: `${c.epoch}:s`, event: { kind: c.session ? "connected" : "connecting" } });
    for (const ch of c.chunks) {
      if (resumable && ch.seq <= since) continue;
      stream.queue.push({ id: `${c.epoch}:${ch.seq}`, event: { kind: "output", data: new GuestOutput(ch.data.toString("base64")) } });
    }
  }

  private push(c: Console, id: string, event: ConsoleEvent) {
    for (const s of c.streams) {
      s.queue.push({ id, event });
      s.wake?.();
    }
  }

  /** `retryUntil` (a reconnection): a host still changing hands (HOST_UNREACHABLE) is asked again until then. */
  private async openAgent(c: Console, cols: number, rows: number, reattach = false, retryUntil?: number): Promise<void> {
    c.opening = true;
    const host = c.host;
    try {
      const { session } = await this.fleet.request(host, "console.open", { domain: c.domain, cols, rows });
      c.opening = false;
      if (c.closed || c.host !== host) {
        void this.fleet.request(host, "console.close", { session }).catch(() => undefined);
        return;
      }
      c.session = session;
      this.bySession.set(session, c);
      this.push(c, `${c.epoch}:s`, { kind: "connected" });
      // A re-attachment continues the session the audit trail already has.
      if (reattach) return;
      c.openedAt = this.now();
      await this.record(c, "instances.console.open", "ok", null, {});
    } catch (err) {
      c.opening = false;
      if (retryUntil !== undefined && !c.closed && err instanceof NimbusError && err.code === "HOST_UNREACHABLE" && this.now() < retryUntil) {
        // The replicas' views of the new owner catch up within a lease round.
        await this.nextVirtChange(Math.min(500, retryUntil - this.now()));
        if (!c.closed) return this.openAgent(c, cols, rows, reattach, retryUntil);
        return;
      }
      const reason = err instanceof Error ? err.message : String(err);
      if (!reattach) await this.record(c, "instances.console.open", "error", err instanceof NimbusError ? err.code : "INTERNAL", { reason: cutText(reason, 300) });
      this.close(c, reattach ? `the VM moved to another host, and its console there could not be opened: ${reason}` : reason);
    }
  }

  /**
   * The agent session ended (or the VM is elsewhere): if the VM is moving, wait until the
   * inventory shows it on its new host and attach there; otherwise close with `reason`.
   */
  private async follow(c: Console, reason: string, agentEnded: boolean) {
    if (c.closed || c.following) return;
    c.following = true;
    const from = c.host;
    if (c.session) {
      this.bySession.delete(c.session);
      if (!agentEnded) void this.fleet.request(from, "console.close", { session: c.session }).catch(() => undefined);
      c.session = null;
    }
    const started = this.now();
    this.push(c, `${c.epoch}:s`, { kind: "connecting" });
    for (;;) {
      const verdict = await this.verdict(c);
      if (c.closed) return;
      const listed = this.fleet.hosts().filter((h) => h.connection.state === "online" && h.inventory.virt?.domains.some((d) => d.name === c.domain));
      if (typeof verdict === "string") {
        // Listed nowhere: between the source dropping it and the destination reporting it. Nothing is attached meanwhile.
        if (listed.length || this.now() - started >= this.settleMs) return this.close(c, verdict);
        await this.nextVirtChange(Math.min(1_000, this.settleMs - (this.now() - started)));
        continue;
      }
      if (verdict.host !== from || verdict.domain !== c.domain) {
        c.following = false;
        c.host = verdict.host;
        c.domain = verdict.domain;
        c.moves++;
        this.keep(c, Buffer.from(CONSOLE_MOVED_LINE, "utf8"));
        return this.openAgent(c, c.cols, c.rows, true);
      }
      // Still listed here. While another host lists it too, a migration is under way: wait for it.
      const elsewhere = listed.some((h) => h.name !== from);
      const here = this.fleet.host(from)?.inventory.virt?.domains.find((d) => d.name === c.domain);
      // Stopped where it was, and nowhere else: the console ended with the VM.
      if (!elsewhere && here && here.state !== "running" && here.state !== "paused") return this.close(c, reason);
      const waited = this.now() - started;
      if (waited >= (elsewhere ? this.followMs : this.settleMs)) return this.close(c, reason);
      await this.nextVirtChange(Math.min(1_000, (elsewhere ? this.followMs : this.settleMs) - waited));
    }
  }

  /**
   * Replica mode: the host's lease moved (its record says connecting): the agent session ended with
   * the old owner's link. Waits for the new owner to bring the host online (at most `waitMs`), then
   * opens the console again (the agent's shared attachment), keeping the scrollback and the audit
   * session, with a dim line saying so. Keystrokes meanwhile are refused as "reconnecting" (the
   * browser keeps them and sends them once connected), so none is lost or sent twice.
   */
  private async reconnect(c: Console, waitMs: number) {
    if (c.closed || c.following || c.reconnecting) return;
    // Never opened: the open in flight answers for itself; none in flight, it ends as on one server.
    if (c.openedAt === null) return void (c.opening || this.close(c, "the host's agent is unreachable", true));
    c.reconnecting = true;
    if (c.session) this.bySession.delete(c.session);
    c.session = null;
    this.push(c, `${c.epoch}:s`, { kind: "connecting" });
    const started = this.now();
    for (;;) {
      if (c.closed) return;
      const state = this.fleet.host(c.host)?.connection.state;
      if (state === "online") break;
      const waited = this.now() - started;
      if ((state !== "connecting" && state !== undefined) || waited >= waitMs) {
        c.reconnecting = false;
        return this.close(c, "the host's agent is unreachable", true);
      }
      await this.nextVirtChange(Math.min(1_000, waitMs - waited));
    }
    c.reconnecting = false;
    this.keep(c, Buffer.from(CONSOLE_RECONNECTED_LINE, "utf8"));
    return this.openAgent(c, c.cols, c.rows, true, started + waitMs);
  }

  /** Resolves at the next virt or connection change of any host, or after `ms`. */
  private nextVirtChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.virtWaiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, Math.max(ms, 10));
      t.unref();
      this.virtWaiters.add(done);
    });
  }

  /** Adds output to the scrollback and sends it to the console's streams. */
  private keep(c: Console, data: Buffer) {
    c.seq++;
    c.chunks.push({ seq: c.seq, data });
    c.bytes += data.length;
    while (c.bytes > CONSOLE_SERVER_LIMITS.scrollbackBytes && c.chunks.length > 1) c.bytes -= c.chunks.shift()!.data.length;
    this.push(c, `${c.epoch}:${c.seq}`, { kind: "output", data: new GuestOutput(data.toString("base64")) });
  }

  /** Ends the console: tells its streams why, ends the agent session, records the duration. */
  private close(c: Console, reason: string, agentEnded = false) {
    if (c.closed) return;
    c.closed = true;
    if (c.graceTimer) clearTimeout(c.graceTimer);
    c.graceTimer = null;
    if (this.consoles.get(c.key) === c) this.consoles.delete(c.key);
    this.push(c, `${c.epoch}:c`, { kind: "closed", reason: cutText(reason, 300) });
    if (c.session) {
      this.bySession.delete(c.session);
      if (!agentEnded) void this.fleet.request(c.host, "console.close", { session: c.session }).catch(() => undefined);
    }
    // Recorded once per session that opened, also when it ends while following its VM.
    if (c.openedAt !== null) {
      const closedAt = this.now();
      void this.record(c, "instances.console.close", "ok", null, {
        openedAt: new Date(c.openedAt).toISOString(),
        closedAt: new Date(closedAt).toISOString(),
        durationSeconds: Math.round((closedAt - c.openedAt) / 1000),
        reason: cutText(reason, 200),
        ...(c.moves ? { moves: c.moves } : {}),
      });
    }
  }

  private record(c: Console, action: string, result: "ok" | "error", errorCode: string | null, input: Record<string, unknown>) {
    const v = c.viewer;
    return this.audit
      .append({ userId: v.userId, userName: v.name, role: v.role, tenant: v.tenant, action, target: c.instance, input, result, errorCode })
      .catch(() => undefined);
  }

  /** The session's access check; a check that throws refuses with its message. */
  private async verdict(c: Console): Promise<Awaited<ReturnType<AccessCheck>>> {
    try {
      return await c.check();
    } catch (err) {
      return err instanceof Error ? err.message : "you no longer have access to this instance";
    }
  }

  /** Access again: the instance still visible to the user (not deleted, not moved to another tenant) and the session valid. */
  private async recheck(c: Console) {
    if (c.closed) return;
    c.lastCheck = this.now();
    const verdict = await this.verdict(c);
    if (c.closed) return;
    if (typeof verdict === "string") return this.close(c, verdict);
    if (verdict.host !== c.host || verdict.domain !== c.domain) void this.follow(c, "the VM moved to another host: open the console again", false);
  }

  private onFleet(e: FleetEvent) {
    if (e.type === "console-output") {
      const c = this.bySession.get(e.session);
      if (!c || c.host !== e.host || c.closed) return;
      this.keep(c, Buffer.from(e.data, "base64"));
      if (this.now() - c.lastCheck >= 1_000) void this.recheck(c);
      return;
    }
    if (e.type === "console-closed") {
      const c = this.bySession.get(e.session);
      // The VM may have left for another host (a migration's switch-over): follow it there.
      if (c && c.host === e.host) void this.follow(c, e.reason, true);
      return;
    }
    if (e.type === "host" && (e.changed.includes("virt") || e.changed.includes("connection"))) for (const wake of [...this.virtWaiters]) wake();
    if (e.type === "host" && e.changed.includes("connection") && e.host.connection.state !== "online") {
      // The agent's sessions ended with its link. Replica mode: a host changing hands comes back through its new owner.
      for (const c of [...this.consoles.values()])
        if (c.host === e.host.name) {
          if (this.handoverMs !== null && e.host.connection.state === "connecting") void this.reconnect(c, this.handoverMs);
          else if (!c.reconnecting) this.close(c, "the host's agent is unreachable", true);
        }
    }
  }
}

const services = new WeakMap<FleetView, ConsoleService>();

/** One service per fleet (the server has one; each test backend its own), told when the live hub revokes a user. */
export function consoleService(ctx: { deps: { fleet: FleetView; audit: AuditService }; live: { onRevokeUser?(l: (userId: string) => void): () => void } }): ConsoleService {
  let s = services.get(ctx.deps.fleet);
  if (!s) {
    const created = new ConsoleService(ctx.deps.fleet, ctx.deps.audit);
    ctx.live.onRevokeUser?.((userId) => created.revokeUser(userId));
    services.set(ctx.deps.fleet, (s = created));
  }
  return s;
}

/** Bounds the server applies to console.input on top of the agent's own. */
export const MAX_CONSOLE_INPUT = Math.min(CONSOLE_SERVER_LIMITS.inputChars, CONSOLE_LIMITS.inputChars);
