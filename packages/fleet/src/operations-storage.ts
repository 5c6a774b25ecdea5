import {
  MoveDiskRequest,
  NimbusError,
  datastoreCapacity,
  preflightVerdict,
  storageMovePreflight,
  type HostRecord,
  type Operation,
  type StorageMovePlan,
} from "@nimbus/domain";
import type { z } from "zod";
import type { FleetView } from "./contract.js";
import { locateInstance } from "./locate.js";

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params">;

/**
 * A disk move the inventory allows, as the operation to record and the agent request to send.
 * Refuses (PRECONDITION_FAILED with the checks) before anything is recorded.
 */
export function planStorageMove(
  fleet: FleetView,
  request: z.input<typeof MoveDiskRequest>,
  requestedBy: string,
  busyInstances: ReadonlySet<string>,
  tenant?: string | null,
): { fields: NewOperation; host: HostRecord; plan: StorageMovePlan & { destinationPath: string } ; request: MoveDiskRequest } {
  const req = MoveDiskRequest.parse(request);
  const hosts = fleet.hosts();
  const found = locateInstance(hosts, req.instance);
  if (!found || (tenant && found.domain.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `instance ${req.instance} not found`, { instance: req.instance });
  const { host, domain } = found;
  const plan = storageMovePreflight({ domain, host, hosts, disk: req.disk, datastore: req.datastore, capacities: datastoreCapacity(hosts), busyInstances });
  if (preflightVerdict(plan.checks) === "fail" || !plan.destinationPath) {
    const failing = plan.checks.filter((c) => c.result === "fail");
    throw new NimbusError("PRECONDITION_FAILED", `cannot move ${req.disk} of ${req.instance} to ${req.datastore}: ${failing.map((c) => c.reason).join("; ")}`, {
      instance: req.instance,
      datastore: req.datastore,
      checks: failing,
    });
  }
  const from = plan.fromDatastore ?? plan.sourcePath;
  return {
    host,
    plan: { ...plan, destinationPath: plan.destinationPath },
    request: req,
    fields: {
      kind: "storage-move",
      target: { type: "instance", name: req.instance },
      host: host.name,
      tenant: domain.tenant,
      requestedBy,
      summary: `Move disk ${req.disk} of ${req.instance} from ${from} to ${req.datastore}`,
      params: {
        disk: req.disk,
        mode: plan.mode,
        fromDatastore: plan.fromDatastore,
        toDatastore: req.datastore,
        sourcePath: plan.sourcePath,
        destinationPath: plan.destinationPath,
        bandwidthMiBps: req.bandwidthMiBps,
        sizeBytes: plan.sizeBytes,
      },
    },
  };
}
