import {
  NimbusError,
  cleanupPlan,
  createSteps,
  deletePlan,
  type CreateInstanceParams,
  type DeleteInstanceParams,
  type HostRecord,
  type Operation,
  type PendingCreate,
} from "@nimbus/domain";
import type { FleetView } from "./contract.js";
import { locateInstance } from "./locate.js";
import { tunnelEndpoint } from "./operations-peer-tunnels.js";

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params">;

/**
 * Creates and deletes as operations: what to record and what to send. The create's placement
 * and quota were decided by the caller (the API holds the tenant's quota lock around it); the
 * delete's plan comes from the inventory here.
 */
export function createOperation(host: string, params: CreateInstanceParams, requestedBy: string): NewOperation & Pick<Operation, "steps"> {
  return {
    kind: "create",
    target: { type: "instance", name: params.name },
    host,
    tenant: params.tenant,
    requestedBy,
    summary: `Create ${params.name} on ${host} from ${params.image.name} (${params.vcpus} vCPU, ${params.memoryMiB} MiB, ${params.diskGiB} GiB)`,
    // What reconciliation and quota accounting need; SSH keys and first-boot commands stay with the job.
    params: {
      image: params.image.name,
      vcpus: params.vcpus,
      memoryMiB: params.memoryMiB,
      diskGiB: params.diskGiB,
      volumePath: params.volumePath,
      bridge: params.nic.bridge,
      vlan: params.nic.vlan,
      vnis: params.wiring.flatMap((w) => (w.kind === "vxlan" ? [w.vni] : [])),
      // The hosts the new ports go to: each is asked for a port back once the job succeeded.
      tunnelPeers: [...new Set(params.wiring.flatMap((w) => (w.kind === "vxlan" ? w.peers.map((p) => p.host) : [])))],
    },
    steps: createSteps(params),
  };
}

/** A create still running, as placement counts it (RAM and vCPUs held on its host) and quota (the tenant's usage). */
export function pendingCreates(running: readonly Operation[]): (PendingCreate & { tenant: string | undefined; diskGiB: number })[] {
  return running
    .filter((o) => o.kind === "create")
    .map((o) => ({
      name: o.target.name,
      host: o.host,
      vcpus: Number(o.params.vcpus ?? 0),
      memoryMiB: Number(o.params.memoryMiB ?? 0),
      diskGiB: Number(o.params.diskGiB ?? 0),
      tenant: o.tenant ?? undefined,
      vlan: typeof o.params.vlan === "number" ? o.params.vlan : undefined,
    }));
}

/** The delete of `name` as the inventory shows it: force off, undefine, release the tenant's network there if last, remove its datastore volumes. */
export function planDelete(
  fleet: FleetView,
  name: string,
  requestedBy: string,
  tenantVni: (tenant: string) => number | null,
  tenant?: string | null,
): { fields: NewOperation; host: HostRecord; job: Omit<DeleteInstanceParams, "jobId"> } {
  const found = locateInstance(fleet.hosts(), name);
  if (!found || (tenant && found.domain.tenant !== tenant)) throw new NimbusError("NOT_FOUND", `instance ${name} not found`, { instance: name });
  const { host, domain } = found;
  const mounts = (host.inventory.storage?.mounts ?? []).map((m) => m.target);
  const vni = domain.tenant ? tenantVni(domain.tenant) : null;
  const plan = deletePlan(domain, mounts, vni);
  return {
    host,
    job: { name: domain.name, actions: plan.actions, kept: plan.kept },
    fields: {
      kind: "delete",
      target: { type: "instance", name: domain.name },
      host: host.name,
      tenant: domain.tenant,
      requestedBy,
      summary: `Delete ${domain.name} on ${host.name}`,
      params: {
        vcpus: domain.vcpus,
        memoryMiB: domain.memoryMiB,
        kept: plan.kept,
        actions: plan.actions.map((a) => a.description),
        // What the peers drop (their ports to this host) when the agent did release the VNI here.
        // The endpoint is read now: once released, the host no longer reports its port of the VNI.
        releases: plan.actions.flatMap((a) => (a.kind === "release-network" ? [{ bridge: a.bridge, vni: a.vni, vlan: a.vlan, endpoint: tunnelEndpoint(host, a.vni) }] : [])),
      },
    },
  };
}

/**
 * The undo of a create whose agent died with it (the host lost power mid-create): every cleanup
 * action, each idempotent, as a delete job once the host is back. What the create got to make
 * is on the shared datastore and in libvirt's definitions, so it outlived the agent.
 */
export function lostCreateCleanup(op: Operation): Omit<DeleteInstanceParams, "jobId"> | null {
  const volumePath = typeof op.params.volumePath === "string" ? op.params.volumePath : null;
  const bridge = typeof op.params.bridge === "string" ? op.params.bridge : null;
  const vlan = typeof op.params.vlan === "number" ? op.params.vlan : null;
  const vnis = Array.isArray(op.params.vnis) ? op.params.vnis.filter((v): v is number => typeof v === "number") : [];
  if (!volumePath || !bridge || vlan === null) return null;
  const wiring = vnis.map((vni) => ({ kind: "vxlan" as const, bridge, vni, vlan, peers: [] }));
  return { name: op.target.name, actions: cleanupPlan({ name: op.target.name, tenant: op.tenant, volumePath, wiring }, "wait-address"), kept: [] };
}
