import type {
  LogChunk,
  AgentInstall,
  HostRecord,
  Job,
  MethodName,
  MethodParams,
  MethodResult,
  Operation,
  OperationListQuery,
  OperationPage,
  OperationScope,
  SectionName,
  StatsCounters,
} from "@nimbus/domain";

/**
 * What the rest of the server sees of the fleet. The API package depends only on these types;
 * `Fleet` (ssh + agent protocol + inventory) and `OperationManager` implement them.
 */

/** One host as configured: where to reach it over SSH. */
export interface HostConfig {
  name: string;
  address: string;
  port: number;
  user: string;
  /** libvirt URI other hypervisors migrate to; default qemu+ssh://ADDRESS/system. */
  migrationUri?: string;
  /** How the agent gets there (see agentInstaller); absent: run the agent already on the host. */
  agent?: AgentInstall;
}

/** Pinned host keys (trust on first use). Backed by the database in the server. */
export interface KnownHostsStore {
  get(host: string): Promise<{ fingerprint: string; key: string } | null>;
  /**
   * Trust on first use: stores `entry` only when the host has no pin yet, and resolves to the pin
   * stored now, ours or one another connection (or server replica) stored first. Never overwrites.
   */
  pin(host: string, entry: { fingerprint: string; key: string }): Promise<{ fingerprint: string; key: string }>;
  /**
   * An admin accepted a changed key: replaces the pin whose fingerprint is `previous` with `entry`.
   * False when the pin is no longer `previous` (someone accepted another key meanwhile).
   */
  replace(host: string, previous: string, entry: { fingerprint: string; key: string; acceptedBy?: string | null }): Promise<boolean>;
  /** Every pin at once, so a fleet's first connections need one query rather than one each. */
  list?(): Promise<{ host: string; fingerprint: string; key: string }[]>;
}

/** Where operations are recorded, so they survive a server restart. */
export interface OperationStore {
  insert(op: Operation): Promise<void>;
  update(op: Operation): Promise<void>;
  /** Operations still pending/running, to reconcile at start. */
  listUnfinished(): Promise<Operation[]>;
  /** Newest first; `kinds` keeps only those kinds (the moves history asks for migrate + storage-move). */
  list(filter: { limit: number; target?: { type: string; name: string }; kinds?: readonly string[] }): Promise<Operation[]>;
  /** One page, filtered and sorted, with counts (domain `queryOperations` is the rule). */
  page(query: OperationListQuery, scope: OperationScope): Promise<OperationPage>;
  get(id: string): Promise<Operation | null>;
}

export type FleetEvent =
  | { type: "host"; host: HostRecord; changed: (SectionName | "connection" | "maintenance")[] }
  | { type: "job"; host: string; job: Job }
  | { type: "host-event"; host: string; at: string; level: "info" | "warn" | "error"; message: string }
  /** Guest output of a console session the server opened on that host (console.output, base64). */
  | { type: "console-output"; host: string; session: string; data: string }
  /** A console session ended on the host's side (console.closed). */
  | { type: "console-closed"; host: string; session: string; reason: string }
  /** Lines of a service log stream the server started on that host (swarm.logs). */
  | { type: "log-lines"; host: string; chunk: LogChunk }
  /** The host's counters (stats.counters, every 10 s), with when the server received them; not inventory, no host event. */
  | { type: "stats"; host: string; at: number; counters: StatsCounters };

export interface FleetView {
  hosts(): readonly HostRecord[];
  host(name: string): HostRecord | undefined;
  /** How a host is reached (migration needs its libvirt URI). Optional so API test fakes need not provide it. */
  hostConfig?(name: string): HostConfig | undefined;
  /** Sends one request to a host's agent; rejects with a NimbusError naming the host. */
  request<M extends MethodName>(host: string, method: M, params: MethodParams<M>, opts?: { timeoutMs?: number }): Promise<MethodResult<M>>;
  /**
   * Admin action: trust the key the host now offers, named by its fingerprint (refused when the
   * host offers another one now), and reconnect.
   */
  acceptHostKey(host: string, fingerprint: string, acceptedBy?: string | null): Promise<void>;
  /** Replica mode: answered once the host's owner set it (or with its error). */
  setMaintenance(host: string, on: boolean): void | Promise<void>;
  /** Retry a host now instead of at the end of its backoff (a swarm manager's VM just built). Optional for test fakes. */
  reconnect?(host: string): void;
  subscribe(listener: (e: FleetEvent) => void): () => void;
}
