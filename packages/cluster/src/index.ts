export type { Queryable } from "./sql.js";
export { ReplicaDirectory, REPLICA_TIMING, type ReplicaInfo } from "./replicas.js";
export { LeaseManager, LEADER_LEASE, DEFAULT_LEASE_TIMING, fairShare, planRound, fenceDeadline, defaultMaxMoves, type LeaseEvent, type LeaseTiming, type LeaseManagerOptions, type ReleaseReason, type RoundState } from "./leases.js";
export { ClusterBus, BUS_CHANNEL, type BusMessage, type ClusterBusOptions } from "./bus.js";
export { InternalRpc, INTERNAL_PREFIX, type InternalRpcOptions } from "./internal-http.js";
export { ClusterFleet, type ClusterFleetOptions } from "./cluster-fleet.js";
export { startCluster, type Cluster, type ClusterOptions } from "./runtime.js";
export { ClusterOperations, clusterSqlPool, operationHost, stampReplica, startClusterOperations, type ClusterOperationsOptions } from "./operations-forward.js";
export { OperationAdoption, type AdoptionOptions } from "./adoption.js";
