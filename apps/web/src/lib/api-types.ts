import type { AppRouter } from "@nimbus/api";
import type { inferRouterOutputs } from "@trpc/server";

/** Answers of the procedures the pages read, inferred from the router so they cannot drift. */
type Out = inferRouterOutputs<AppRouter>;

export type MigratePreflight = Out["instances"]["preflight"];
export type MigrationTarget = MigratePreflight["destinations"][number];
export type VmSwarmRole = NonNullable<MigratePreflight["swarm"]>;
export type MaintenancePlan = Out["maintenance"]["plan"];
export type MaintenanceView = Out["maintenance"]["list"][number];
export type DatastoresCapacity = Out["datastores"]["capacity"];
export type StorageSuggestion = DatastoresCapacity["suggestions"][number];
export type DiskMoveTarget = Out["datastores"]["moveTargets"][number];
export type MoveRow = Out["history"]["moves"][number];
