import { pino, type Logger } from "pino";
import { z } from "zod";
import type { BusMessage, ClusterBus } from "./bus.js";
import { NimbusError, isNimbusError } from "@nimbus/domain";
import type { InternalRpc } from "./internal-http.js";
import type { ReplicaInfo } from "./replicas.js";

/**
 * What replicas cache from the database and another replica may write: alert rules, channels,
 * silences and alerts (their acknowledgements), load balancer specs, the health checks'
 * acknowledgements, and the autoscaler's policies. The replica that wrote
 * announces it on the bus with a small message (what and which id, never the data); the others
 * read it again from the database. After a bus reconnect (messages may have been missed) every
 * cache is read again. Reloads of one kind never overlap: a burst becomes at most two.
 */
export const ALERTS_CHANGED = "alerts-changed";
export const LB_SPECS_CHANGED = "lb-specs-changed";
export const HEALTH_ACKS_CHANGED = "health-acks-changed";
export const AUTOSCALE_CHANGED = "autoscale-changed";
/** The leader's autoscaler suggestions and decisions (the data itself: they live in its memory only). */
export const AUTOSCALE_STATE = "autoscale-state";
/** A replica that starts or missed messages asks the leader for them. */
export const AUTOSCALE_STATE_REQUEST = "autoscale-state-request";

export interface SharedAlerts {
  reload(): Promise<void>;
  onStoredChange(listener: (c: { what: string; id: string | null }) => void): () => void;
}

export interface SharedLoadBalancers {
  reload(): Promise<void>;
  onStoredChange(listener: (name: string) => void): () => void;
}

/** The autoscaler's policies (scaling_policies). */
export interface SharedAutoscale {
  reload(): Promise<void>;
  onStoredChange(listener: (service: string) => void): () => void;
}

/**
 * The autoscaler's open suggestions and recent decisions: made on the leader, held in its memory.
 * The leader sends them whole on the bus when they change (bounded: 100 decisions) and when a
 * replica asks (it started, or its bus reconnected); the others show them as they are, and a
 * replica that becomes leader starts from the last it was told. Accepting a suggestion through a
 * replica that does not lead goes to the leader over internal HTTP (`autoscale.accept`).
 */
export interface SharedAutoscaleDecisions {
  sharedState(): unknown;
  /** False: a malformed message, ignored. */
  adoptState(state: unknown): boolean;
  onStateChange(listener: () => void): () => void;
  acceptHere(service: string, by: string): Promise<unknown>;
}

/** The health checks' acknowledgements (HealthMonitor's, kept in health_acks). */
export interface SharedHealthAcks {
  reload(): Promise<void>;
  onStoredChange(listener: (checkId: string) => void): () => void;
}

export interface SharedStateOptions {
  replicaId: string;
  bus: Pick<ClusterBus, "publish" | "subscribe" | "onResync">;
  alerts?: SharedAlerts;
  loadBalancers?: SharedLoadBalancers;
  healthAcks?: SharedHealthAcks;
  autoscale?: SharedAutoscale;
  /** With `leader` and `rpc`: the leader's autoscaler state is shown everywhere, accepted anywhere. */
  autoscaleDecisions?: SharedAutoscaleDecisions;
  leader?: { isLeader(): boolean };
  rpc?: Pick<InternalRpc, "register">;
  logger?: Logger;
}

const AcceptInput = z.object({ service: z.string().min(1).max(200), by: z.string().min(1).max(200) });

/** Follows the bus for the others' writes and announces this replica's; returns the stop. */
export function shareCachedState(opts: SharedStateOptions): () => void {
  const logger = opts.logger ?? pino({ level: "silent" });
  const cleanups: (() => void)[] = [];
  const announce = (kind: string, payload: unknown) =>
    void opts.bus.publish(kind, payload).catch((err: unknown) => logger.warn({ err, kind }, "change not announced to the other replicas (they reload after their next bus reconnect)"));

  const reloaders = new Map<string, () => void>();
  const follow = (kind: string, what: string, target: { reload(): Promise<void> }) => {
    let running: Promise<void> | null = null;
    let again = false;
    const reload = () => {
      if (running) {
        again = true;
        return;
      }
      running = target
        .reload()
        .catch((err: unknown) => logger.warn({ err, what }, "not reloaded after another replica's change"))
        .finally(() => {
          running = null;
          if (again) {
            again = false;
            reload();
          }
        });
    };
    reloaders.set(kind, reload);
  };

  if (opts.alerts) {
    follow(ALERTS_CHANGED, "alerts", opts.alerts);
    cleanups.push(opts.alerts.onStoredChange((c) => announce(ALERTS_CHANGED, { what: c.what, id: c.id })));
  }
  if (opts.loadBalancers) {
    follow(LB_SPECS_CHANGED, "load balancer specs", opts.loadBalancers);
    cleanups.push(opts.loadBalancers.onStoredChange((name) => announce(LB_SPECS_CHANGED, { name })));
  }
  if (opts.healthAcks) {
    follow(HEALTH_ACKS_CHANGED, "health acknowledgements", opts.healthAcks);
    cleanups.push(opts.healthAcks.onStoredChange((check) => announce(HEALTH_ACKS_CHANGED, { check })));
  }
  if (opts.autoscale) {
    follow(AUTOSCALE_CHANGED, "scaling policies", opts.autoscale);
    cleanups.push(opts.autoscale.onStoredChange((service) => announce(AUTOSCALE_CHANGED, { service })));
  }
  const decisions = opts.autoscaleDecisions && opts.leader ? { state: opts.autoscaleDecisions, leader: opts.leader } : null;
  const tellState = () => {
    if (decisions?.leader.isLeader()) announce(AUTOSCALE_STATE, { state: decisions.state.sharedState() });
  };
  if (decisions) {
    cleanups.push(decisions.state.onStateChange(tellState));
    opts.rpc?.register("autoscale.accept", AcceptInput, async (c) => {
      if (!decisions.leader.isLeader()) throw new NimbusError("CONFLICT", "this server replica does not lead the cluster", NOT_LEADER);
      return decisions.state.acceptHere(c.service, c.by);
    });
  }
  cleanups.push(
    opts.bus.subscribe((m: BusMessage) => {
      if (m.from === opts.replicaId) return;
      reloaders.get(m.kind)?.();
      if (!decisions) return;
      if (m.kind === AUTOSCALE_STATE_REQUEST) tellState();
      else if (m.kind === AUTOSCALE_STATE && !decisions.leader.isLeader()) {
        if (!decisions.state.adoptState((m.payload as { state?: unknown } | null)?.state)) logger.warn({ from: m.from }, "autoscaler state from another replica refused (malformed)");
      }
    }),
    opts.bus.onResync(() => {
      for (const reload of reloaders.values()) reload();
      if (decisions) announce(AUTOSCALE_STATE_REQUEST, {});
    }),
  );
  // What the leader decided before this replica started.
  if (decisions) announce(AUTOSCALE_STATE_REQUEST, {});
  return () => {
    for (const c of cleanups.splice(0)) c();
  };
}

/** A peer that does not lead refuses a call meant for the leader with this detail (the caller tries the next). */
const NOT_LEADER = { notLeader: true };

/**
 * Runs `method` on the leader (internal HTTP), or `here` when this replica leads (leadership may
 * have just moved to it). The leader is found by asking the alive peers one at a time (`hint`
 * first: one that does not lead refuses at once; one that does not answer is skipped), so a call
 * is carried out at most once. None leads: CONFLICT, nothing done.
 */
export async function onLeader<T>(
  cluster: { rpc: Pick<InternalRpc, "call">; replicaId: string; isLeader(): boolean; peers(): readonly ReplicaInfo[]; hint?(): string | undefined },
  method: string,
  input: unknown,
  here: () => Promise<T>,
): Promise<T> {
  if (cluster.isLeader()) return here();
  const hint = cluster.hint?.();
  const peers = cluster.peers().filter((p) => p.id !== cluster.replicaId);
  for (const peer of [...peers.filter((p) => p.id === hint), ...peers.filter((p) => p.id !== hint)]) {
    try {
      return await cluster.rpc.call<T>(peer.internalUrl, method, input, { timeoutMs: 30_000 });
    } catch (err) {
      const details = isNimbusError(err) ? (err.details as { notLeader?: boolean; peer?: boolean } | undefined) : undefined;
      if (details?.notLeader || details?.peer) continue;
      throw err;
    }
  }
  if (cluster.isLeader()) return here();
  throw new NimbusError("CONFLICT", "no server replica leads the cluster right now (they are re-sharing the work); try again in a moment");
}
