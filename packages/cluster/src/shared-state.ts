import { pino, type Logger } from "pino";
import type { BusMessage, ClusterBus } from "./bus.js";

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
  logger?: Logger;
}

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
  cleanups.push(
    opts.bus.subscribe((m: BusMessage) => {
      if (m.from !== opts.replicaId) reloaders.get(m.kind)?.();
    }),
    opts.bus.onResync(() => {
      for (const reload of reloaders.values()) reload();
    }),
  );
  return () => {
    for (const c of cleanups.splice(0)) c();
  };
}
