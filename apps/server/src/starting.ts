import { StartingAnnouncement } from "@nimbus/cluster/announce";
import { replicaConfig, type ReplicaConfig } from "./replica-config.js";

/**
 * Replica mode: "starting" in the cluster's table from the first moment of the process (see
 * StartingAnnouncement), so replicas started together each take their own share in their first
 * lease round. The entry (main.ts) calls `announceStarting` before it loads the server's modules,
 * from the raw environment with loadEnv's defaults (loadEnv checks it later, with the rest).
 */
let early: StartingAnnouncement | null = null;

export function announceStarting(raw: Record<string, string | undefined>): void {
  const port = raw["NIMBUS_PORT"] === undefined ? 3000 : Number(raw["NIMBUS_PORT"]);
  // Port 0 without an internal address is refused by loadEnv: nothing to announce.
  if (!Number.isInteger(port) || (port === 0 && !raw["NIMBUS_INTERNAL_URL"])) return;
  const config = replicaConfig({
    NIMBUS_CLUSTER_SECRET: raw["NIMBUS_CLUSTER_SECRET"] || undefined,
    DATABASE_URL: raw["DATABASE_URL"] || undefined,
    NIMBUS_REPLICA_ID: raw["NIMBUS_REPLICA_ID"] || undefined,
    NIMBUS_INTERNAL_URL: raw["NIMBUS_INTERNAL_URL"] || undefined,
    NIMBUS_BIND: raw["NIMBUS_BIND"] || "127.0.0.1",
    NIMBUS_PORT: port,
  });
  if (config) early = new StartingAnnouncement(config.databaseUrl, { id: config.id, internalUrl: config.internalUrl });
}

/** This replica's announcement: the entry's if it names the same replica, else one made now (a server started without main.ts). */
export function startingAnnouncement(config: ReplicaConfig): StartingAnnouncement {
  const mine = early && early.url === config.databaseUrl && early.self.id === config.id && early.self.internalUrl === config.internalUrl ? early : null;
  if (early && !mine) void early.stop();
  early = null;
  return mine ?? new StartingAnnouncement(config.databaseUrl, { id: config.id, internalUrl: config.internalUrl });
}
