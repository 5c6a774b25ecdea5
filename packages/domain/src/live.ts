import type { HealthCheck } from "./health.js";
import type { Operation } from "./operations.js";
import type { StorageOverview, SwarmOverview } from "./overviews.js";
import type { HostSummary, InstanceView } from "./views.js";
import type { HostNetworkView } from "./overviews.js";
import type { LoadBalancerView } from "./lb/view.js";

/**
 * What the server pushes to a browser on the live channel, already filtered for that viewer.
 * Each event replaces one slice of a cached query, so the client patches instead of refetching.
 */
export type LiveEvent =
  /** Full state at (re)subscription, when the client's last event id is unknown. */
  | { type: "reset" }
  /** Host summaries that changed in one flush, batched so the client updates its list once. */
  | { type: "hosts"; summaries: HostSummary[] }
  /**
   * `added` / `removed` / `restated`: names of this viewer's instances that arrived on or left the
   * host, or whose state changed, since the previous event for it (left out when none, or when not
   * known): a paged list learns that its count or order moved at a row it has not loaded (see
   * apps/web's sparse pages).
   */
  | { type: "host-instances"; host: string; instances: InstanceView[]; added?: string[]; removed?: string[]; restated?: string[] }
  | { type: "host-network"; network: HostNetworkView }
  | { type: "swarm"; swarm: SwarmOverview }
  /** `mounts` is left out when it did not change since the last storage event. */
  | { type: "storage"; storage: Omit<StorageOverview, "mounts"> & { mounts?: StorageOverview["mounts"] } }
  /** Only the checks that changed (upsert, by id) or disappeared (remove): the full list runs to 10,000+ at fleet size. */
  | { type: "health-changes"; upsert: HealthCheck[]; remove: string[] }
  | { type: "operation"; operation: Operation }
  /** Staff only: one load balancer's view changed (backend states, sessions, request shares); `lb: null` when deleted. */
  | { type: "load-balancer"; name: string; lb: LoadBalancerView | null }
  /** The network topology or its findings changed for this viewer: refetch network.topology. */
  | { type: "topology"; version: number };
