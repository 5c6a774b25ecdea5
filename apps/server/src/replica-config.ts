import { hostname } from "node:os";

/** Replica mode's settings (few imports: the entry reads them before loading the server, see starting.ts). */
export interface ReplicaConfig {
  id: string;
  secret: string;
  internalUrl: string;
  databaseUrl: string;
}

/** What replicaConfig reads of the environment (ServerEnv, or the raw one with its defaults). */
export interface ReplicaEnv {
  NIMBUS_CLUSTER_SECRET?: string;
  DATABASE_URL?: string;
  NIMBUS_REPLICA_ID?: string;
  NIMBUS_INTERNAL_URL?: string;
  NIMBUS_BIND: string;
  NIMBUS_PORT: number;
}

/** Replica mode's settings, or null in the default single process. */
export function replicaConfig(env: ReplicaEnv): ReplicaConfig | null {
  if (!env.NIMBUS_CLUSTER_SECRET || !env.DATABASE_URL) return null;
  const host = env.NIMBUS_BIND === "0.0.0.0" || env.NIMBUS_BIND === "::" ? "127.0.0.1" : env.NIMBUS_BIND;
  return {
    id: env.NIMBUS_REPLICA_ID ?? `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64),
    secret: env.NIMBUS_CLUSTER_SECRET,
    internalUrl: env.NIMBUS_INTERNAL_URL ?? `http://${host.includes(":") ? `[${host}]` : host}:${env.NIMBUS_PORT}`,
    databaseUrl: env.DATABASE_URL,
  };
}
