import { MigrateRequest, NimbusError, preflight, preflightVerdict, type Domain, type HostRecord, type PreflightCheck, type PreflightPolicy } from "@nimbus/domain";
import type { z } from "zod";
import type { FleetView } from "./contract.js";
import { locateInstance } from "./locate.js";

/** A migration the inventory allows: who moves where, and how the source reaches the destination. */
export interface MigrationRoute {
  instance: string;
  source: HostRecord;
  domain: Domain;
  destination: HostRecord;
  uri: string;
  options: MigrateRequest["options"];
}

/**
 * Finds the VM and its destination and runs the preflight over the inventory. Throws the typed
 * error a person can act on: NOT_FOUND, HOST_UNREACHABLE, or PRECONDITION_FAILED with the checks.
 */
export function routeMigration(
  fleet: FleetView,
  request: z.input<typeof MigrateRequest>,
  opts: { tenant?: string | null; tenantVni?: (tenant: string) => number | null; policy?: PreflightPolicy; beforeDestination?: (instance: string) => void },
): MigrationRoute {
  const { instance, destination, options } = MigrateRequest.parse(request);
  const found = locateInstance(fleet.hosts(), instance);
  if (!found || (opts.tenant && found.domain.tenant !== opts.tenant)) throw new NimbusError("NOT_FOUND", `instance ${instance} not found`, { instance });
  const { host: source, domain } = found;
  opts.beforeDestination?.(instance);
  const dest = fleet.host(destination);
  if (!dest) throw new NimbusError("NOT_FOUND", `host ${destination} not found`, { host: destination });
  assertOnline(source, `cannot migrate ${instance}`);

  const checks = preflight({
    domain,
    source,
    destination: dest,
    tenantVni: domain.tenant ? (opts.tenantVni?.(domain.tenant) ?? null) : null,
    busyInstances: new Set(),
    policy: opts.policy,
  });
  refuseOnFailure(instance, destination, checks);
  const uri = fleet.hostConfig?.(destination)?.migrationUri ?? `qemu+ssh://${dest.address}/system`;
  return { instance, source, domain, destination: dest, uri, options };
}

/** PRECONDITION_FAILED naming every failing check, with the checks in the details for the UI. */
export function refuseOnFailure(instance: string, destination: string, checks: readonly PreflightCheck[]): void {
  if (preflightVerdict(checks) !== "fail") return;
  const failing = checks.filter((c) => c.result === "fail");
  throw new NimbusError("PRECONDITION_FAILED", `cannot migrate ${instance} to ${destination}: ${failing.map((c) => c.reason).join("; ")}`, {
    instance,
    destination,
    checks: failing,
  });
}

export function assertOnline(host: HostRecord, what: string): void {
  const { state, message } = host.connection;
  if (state !== "online")
    throw new NimbusError("HOST_UNREACHABLE", `${what}: ${host.name} is ${state}${message ? ` (${message})` : ""}`, { host: host.name, state });
}
