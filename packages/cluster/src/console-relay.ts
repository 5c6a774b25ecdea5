import { Role, isNimbusError } from "@nimbus/domain";
import { z } from "zod";
import type { InternalRpc } from "./internal-http.js";
import type { ReplicaInfo } from "./replicas.js";

/**
 * Serial-console keystrokes and closes that land on a replica which does not hold the console.
 * A console is held by the replica serving its output stream (one long SSE request, so it stays
 * where it opened); `instances.consoleInput` / `consoleClose` are short requests the load balancer
 * may send anywhere. The receiving replica authorizes the call as always (the user's session, the
 * instance visible to them, the role's console rule), then, holding no console for (user,
 * instance), asks its peers over internal HTTP (`console.input` / `console.close`, cluster secret)
 * with the user it authenticated. The holder checks again on its own inventory with that user,
 * finds the console by (user, instance) (so no id a browser sends can name another user's
 * console), and applies its own per-user keystroke limit. Peers are tried one at a time (the last
 * holder first), so keystrokes are never sent twice; a peer that does not answer is skipped.
 */

/** What a replica does with a relayed call: the same checks and limits as for its own browsers. */
export interface ConsoleRelayHandlers {
  input(viewer: RelayedViewer, instance: string, data: string): Promise<void>;
  /** True when it held a console for (user, instance) and closed it. */
  close(viewer: RelayedViewer, instance: string): Promise<boolean>;
}

const ViewerInput = z.object({
  userId: z.string().min(1).max(200),
  name: z.string().max(200),
  role: Role,
  tenant: z.string().min(1).max(200).nullable(),
});
export type RelayedViewer = z.infer<typeof ViewerInput>;
const InputCall = z.object({ viewer: ViewerInput, instance: z.string().min(1).max(200), data: z.string().min(1).max(4096) });
const CloseCall = z.object({ viewer: ViewerInput, instance: z.string().min(1).max(200) });

export interface ConsoleRelayOptions {
  rpc: InternalRpc;
  replicaId: string;
  /** The replicas alive now (this one included or not). */
  peers: () => readonly ReplicaInfo[];
  handlers: ConsoleRelayHandlers;
  /** Per relayed call (a keystroke batch waits for the agent through the holder). */
  timeoutMs?: number;
}

/** The caller's side: `input`/`close` on the peers; registers the receiving side on `rpc`. */
export class ConsoleRelay {
  /** (user, instance) -> the replica that took its last relayed keystrokes. */
  private readonly lastHolder = new Map<string, string>();
  private readonly timeoutMs: number;

  constructor(private readonly opts: ConsoleRelayOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    opts.rpc.register("console.input", InputCall, async (c) => {
      await opts.handlers.input(c.viewer, c.instance, c.data);
      return { held: true };
    });
    opts.rpc.register("console.close", CloseCall, async (c) => ({ closed: await opts.handlers.close(c.viewer, c.instance) }));
  }

  private others(first?: string): ReplicaInfo[] {
    const peers = this.opts.peers().filter((p) => p.id !== this.opts.replicaId);
    return first ? [...peers.filter((p) => p.id === first), ...peers.filter((p) => p.id !== first)] : peers;
  }

  /**
   * Sends keystrokes to the peer holding the user's console of `instance`. False when no peer
   * holds one; a holder's refusal (rate limit, still connecting, access lost) is thrown as is.
   */
  async input(viewer: RelayedViewer, instance: string, data: string): Promise<boolean> {
    const key = `${viewer.userId}\u0000${instance}`;
    const body = { viewer: pick(viewer), instance, data };
    for (const peer of this.others(this.lastHolder.get(key))) {
      try {
        await this.opts.rpc.call(peer.internalUrl, "console.input", body, { timeoutMs: this.timeoutMs });
        this.lastHolder.set(key, peer.id);
        if (this.lastHolder.size > 10_000) this.lastHolder.delete(this.lastHolder.keys().next().value!);
        return true;
      } catch (err) {
        if (isNimbusError(err) && err.code === "NOT_FOUND") continue;
        // The peer itself did not answer: it holds nothing we can reach.
        if (isNimbusError(err) && (err.details as { peer?: boolean } | undefined)?.peer) continue;
        throw err;
      }
    }
    this.lastHolder.delete(key);
    return false;
  }

  /** Closes the user's console of `instance` on every peer holding one (a second tab elsewhere too). */
  async close(viewer: RelayedViewer, instance: string): Promise<number> {
    this.lastHolder.delete(`${viewer.userId}\u0000${instance}`);
    const answers = await Promise.allSettled(
      this.others().map((p) => this.opts.rpc.call<{ closed: boolean }>(p.internalUrl, "console.close", { viewer: pick(viewer), instance }, { timeoutMs: this.timeoutMs })),
    );
    return answers.filter((a) => a.status === "fulfilled" && a.value.closed).length;
  }
}

const pick = (v: RelayedViewer): RelayedViewer => ({ userId: v.userId, name: v.name, role: v.role, tenant: v.tenant });
