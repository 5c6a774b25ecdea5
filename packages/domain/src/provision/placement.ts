import type { Domain } from "../inventory.js";
import type { HostRecord } from "../fleet.js";
import {
  DEFAULT_POLICY,
  capacityChecks,
  hostAvailabilityCheck,
  rankDestinations,
  rankingReason,
  type CheckResult,
  type PreflightCheck,
  type PreflightPolicy,
} from "../preflight.js";
import { mountTargetOf, type DatastoreCapacity } from "../storage-plan/datastores.js";
import { BYTES_PER_GIB, diskSizeProblem, type ImageEntry } from "./image.js";
import { networkFit, vxlanPeers, type WiringAction } from "./network-fit.js";
import type { CreateInstanceRequest } from "./request.js";

/**
 * Where a new instance goes: every hypervisor is checked with the migration destination rules
 * (reachable, RAM after headroom, vCPU overcommit: shared with preflight.ts) plus what a create
 * needs (the image's datastore mounted, room on it, the tenant's network), then ranked like
 * migration destinations. A pinned host goes through the very same checks.
 */
export interface PendingCreate {
  name: string;
  host: string;
  vcpus: number;
  memoryMiB: number;
  /** With these, two tenants' creates in flight cannot both take one VLAN of a host. */
  tenant?: string;
  vlan?: number;
}

export interface PlacementInput {
  request: Pick<CreateInstanceRequest, "name" | "vcpus" | "memoryMiB" | "diskGiB" | "tenant" | "network" | "host">;
  image: Pick<ImageEntry, "name" | "datastore" | "virtualSizeBytes">;
  hosts: readonly HostRecord[];
  /** storage-plan's datastoreCapacity(hosts). */
  datastores: readonly DatastoreCapacity[];
  /** Creates accepted but not yet running: they hold RAM and vCPUs on their host already. */
  pending?: readonly PendingCreate[];
  policy?: PreflightPolicy;
}

export interface PlacementCandidate {
  host: string;
  verdict: CheckResult;
  /** MiB free on the host before this instance (committed = running VMs and pending creates). */
  freeMemoryMiB: number;
  checks: PreflightCheck[];
  bridge: { name: string; type: "linux" | "ovs" } | null;
  /** Where this host mounts the image's datastore: the volume is created under it. */
  mountTarget: string | null;
  wiring: WiringAction[];
}

export interface Placement {
  chosen: PlacementCandidate | null;
  /** Why this host, or why none. */
  reason: string;
  /** Ranked: passing first, then by free memory. */
  candidates: PlacementCandidate[];
}

const isHypervisor = (h: HostRecord) => !!h.inventory.virt || h.connection.capabilities.includes("virt");

/** Another VM (or a create in flight) with this name anywhere in the fleet: libvirt names must stay unique for migrations to work. */
export function nameTaken(name: string, hosts: readonly HostRecord[], pending: readonly PendingCreate[] = []): string | null {
  const lower = name.toLowerCase();
  for (const h of hosts) for (const d of h.inventory.virt?.domains ?? []) if (d.name.toLowerCase() === lower) return `an instance named ${d.name} already exists on ${h.name}`;
  const p = pending.find((c) => c.name.toLowerCase() === lower);
  return p ? `an instance named ${p.name} is being created on ${p.host}` : null;
}

export function placeInstance(input: PlacementInput): Placement {
  const { request, image } = input;
  const policy = input.policy ?? DEFAULT_POLICY;
  const pending = input.pending ?? [];
  const considered = input.hosts.filter((h) => isHypervisor(h) || h.name === request.host);
  const peersOf = (vni: number) => vxlanPeers(input.hosts, vni);
  const evaluated = considered.map((h) => {
    const host = withPending(h, pending);
    const checks = [hostAvailabilityCheck(host, "Host"), ...capacityChecks(host, request, policy)];
    const mountTarget = mountTargetOf(image.datastore, host.inventory.storage?.mounts ?? []);
    checks.push(
      mountTarget
        ? { id: "datastore", label: "Datastore", result: "pass", reason: `${image.datastore} mounted at ${mountTarget} on ${host.name}` }
        : { id: "datastore", label: "Datastore", result: "fail", reason: `${host.name} does not mount ${image.datastore}, where image ${image.name} is` },
      spaceCheck(input),
    );
    const net = networkFit(host, request.tenant, request.network, peersOf);
    checks.push(...net.checks);
    return { host, checks, extra: { bridge: net.bridge, mountTarget, wiring: net.wiring } };
  });
  const byName = new Map(evaluated.map((e) => [e.host.name, e.extra]));
  const candidates: PlacementCandidate[] = rankDestinations(evaluated).map((r) => ({ ...r, ...byName.get(r.host)! }));

  const blocked = nameTaken(request.name, input.hosts, pending) ?? diskSizeProblem(request.diskGiB, image);
  if (blocked) return { chosen: null, reason: blocked, candidates };
  if (request.host) {
    const pinned = candidates.find((c) => c.host === request.host);
    if (!pinned) return { chosen: null, reason: `host ${request.host} is not part of the fleet`, candidates };
    if (pinned.verdict === "fail") return { chosen: null, reason: `${pinned.host} (pinned): ${failing(pinned)}`, candidates };
    return { chosen: pinned, reason: `pinned to ${pinned.host}; ${reasonFor(pinned, request.memoryMiB, 1)}`, candidates };
  }
  const best = candidates[0];
  if (!best) return { chosen: null, reason: "no hypervisor in the fleet", candidates };
  if (best.verdict === "fail") return { chosen: null, reason: `no hypervisor fits; closest is ${closest(candidates)}`, candidates };
  return { chosen: best, reason: reasonFor(best, request.memoryMiB, candidates.length), candidates };
}

function reasonFor(c: PlacementCandidate, memoryMiB: number, count: number): string {
  const vxlan = c.wiring.find((w) => w.kind === "vxlan");
  return `${rankingReason(c, memoryMiB, count)}${vxlan?.kind === "vxlan" ? `; VNI ${vxlan.vni} will be added there` : ""}`;
}

const failing = (c: PlacementCandidate) =>
  c.checks
    .filter((k) => k.result === "fail")
    .map((k) => k.reason)
    .join("; ");

/** The failing host with the fewest failing checks, and why it fails. */
function closest(candidates: readonly PlacementCandidate[]): string {
  const count = (c: PlacementCandidate) => c.checks.filter((k) => k.result === "fail").length;
  const c = [...candidates].sort((a, b) => count(a) - count(b))[0]!;
  return `${c.host}: ${failing(c)}`;
}

/**
 * The new volume is thin (qcow2): it starts near the image's size and grows to the disk size as
 * the guest writes. Less room than the image is a failure; less than the full disk a warning.
 */
function spaceCheck(input: PlacementInput): PreflightCheck {
  const { image, request } = input;
  const check = (result: CheckResult, reason: string): PreflightCheck => ({ id: "datastore-space", label: "Datastore space", result, reason });
  const ds = input.datastores.find((d) => d.path === image.datastore);
  if (!ds) return check("warn", `no storage server reports ${image.datastore}: its free space is unknown`);
  const free = Math.floor(ds.freeBytes / BYTES_PER_GIB);
  const base = Math.ceil(image.virtualSizeBytes / BYTES_PER_GIB);
  if (ds.freeBytes < image.virtualSizeBytes) return check("fail", `${image.datastore} has ${free} GiB free; the image alone needs ${base} GiB`);
  if (free < request.diskGiB) return check("warn", `${image.datastore} has ${free} GiB free, less than the ${request.diskGiB} GiB disk could grow to`);
  return check("pass", `${image.datastore} has ${free} GiB free for a ${request.diskGiB} GiB disk`);
}

/** A copy of the host whose running domains include the creates in flight there (as the evacuation planner counts planned moves). */
function withPending(h: HostRecord, pending: readonly PendingCreate[]): HostRecord {
  const virt = h.inventory.virt;
  const mine = pending.filter((p) => p.host === h.name && !virt?.domains.some((d) => d.name === p.name && d.state === "running"));
  if (!mine.length || !virt) return h;
  const extra = mine.map((p): Domain => ({
    name: p.name, uuid: `pending-${p.name}`, state: "running", vcpus: p.vcpus, memoryMiB: p.memoryMiB, tenant: p.tenant ?? null, role: null,
    cpuModel: null, cpuFeatures: [], disks: [], persistent: true, autostart: false,
    nics: p.vlan === undefined ? [] : [{ mac: "", bridge: "", bridgeType: "ovs", device: null, vlan: p.vlan, model: null, ipAddresses: [] }],
  }));
  return { ...h, inventory: { ...h.inventory, virt: { ...virt, domains: [...virt.domains, ...extra] } } };
}
