import type { HostRecord } from "../fleet.js";
import type { Domain } from "../inventory.js";
import { CAPACITY_CRIT_PCT, CAPACITY_WARN_PCT } from "../overviews.js";
import type { CheckResult, PreflightCheck } from "../preflight.js";
import { datastoreOfPath, mountTargetOf, pctOf, type DatastoreCapacity } from "./datastores.js";

/**
 * What must hold before one disk moves to another datastore, with the plan it implies: live block
 * copy for a running VM, plain copy for one that is off; the new path on the destination's mount.
 */
export interface StorageMoveInput {
  domain: Domain;
  /** The hypervisor the VM is defined (and running) on. */
  host: HostRecord;
  hosts: readonly HostRecord[];
  disk: string;
  datastore: string;
  capacities: readonly DatastoreCapacity[];
  busyInstances: ReadonlySet<string>;
}

export interface StorageMovePlan {
  checks: PreflightCheck[];
  mode: "live" | "offline";
  fromDatastore: string | null;
  sourcePath: string | null;
  destinationPath: string | null;
  sizeBytes: number;
}

const fmtGiB = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
const basename = (p: string) => p.slice(p.lastIndexOf("/") + 1);

export function storageMovePreflight(input: StorageMoveInput): StorageMovePlan {
  const { domain, host, datastore } = input;
  const checks: PreflightCheck[] = [];
  const add = (id: string, label: string, result: CheckResult, reason: string) => checks.push({ id, label, result, reason });
  const mounts = host.inventory.storage?.mounts ?? [];
  const disk = domain.disks.find((d) => d.target === input.disk);
  const live = domain.state === "running" || domain.state === "paused";
  const mode = live ? "live" : "offline";
  const sizeBytes = disk?.capacityBytes ?? 0;
  const from = disk ? datastoreOfPath(disk.path, mounts) : null;
  const mountTarget = mountTargetOf(datastore, mounts);
  const destinationPath = disk && mountTarget ? `${mountTarget.replace(/\/$/, "")}/${basename(disk.path)}` : null;

  if (host.connection.state !== "online") add("host", "Host", "fail", `${host.name} is ${host.connection.state}`);
  else add("host", "Host", "pass", `${host.name} is online`);

  if (input.busyInstances.has(domain.name)) add("state", "VM state", "fail", `${domain.name} already has an operation running`);
  else if (live) add("state", "VM state", "pass", `${domain.name} is ${domain.state}: live block copy, then switch-over`);
  else if (domain.state === "shutoff") add("state", "VM state", "pass", `${domain.name} is off: offline copy`);
  else add("state", "VM state", "fail", `${domain.name} is ${domain.state}; start or stop it first`);

  if (!disk) add("disk", "Disk", "fail", `${domain.name} has no disk ${input.disk} (has ${domain.disks.map((d) => d.target).join(", ") || "none"})`);
  else add("disk", "Disk", "pass", `${disk.target} at ${disk.path}${sizeBytes ? `, ${fmtGiB(sizeBytes)}` : ""}`);

  const dest = input.capacities.find((c) => c.path === datastore);
  if (!dest) add("datastore", "Destination", "fail", `no datastore ${datastore} (datastores: ${input.capacities.map((c) => c.path).join(", ") || "none"})`);
  else if (from?.datastore === datastore) add("datastore", "Destination", "fail", `${input.disk} already lives on ${datastore}`);
  else if (!mountTarget) add("datastore", "Destination", "fail", `${datastore} is not mounted on ${host.name}`);
  else add("datastore", "Destination", "pass", `${datastore} is mounted on ${host.name} at ${mountTarget}`);

  if (dest) {
    const afterPct = pctOf(dest.usedBytes + sizeBytes, dest.totalBytes);
    const after = `${datastore} would be ${afterPct.toFixed(1)} % full`;
    if (sizeBytes > dest.freeBytes) add("space", "Free space", "fail", `needs ${fmtGiB(sizeBytes)}, ${datastore} has ${fmtGiB(dest.freeBytes)} free`);
    else if (afterPct >= CAPACITY_CRIT_PCT) add("space", "Free space", "warn", `${after} (critical from ${CAPACITY_CRIT_PCT} %)`);
    else if (afterPct >= CAPACITY_WARN_PCT) add("space", "Free space", "warn", `${after} (warning from ${CAPACITY_WARN_PCT} %)`);
    else add("space", "Free space", "pass", after);

    const missing = input.hosts.filter((h) => h.inventory.virt && h.name !== host.name && !dest.mountedOn.includes(h.name)).map((h) => h.name);
    if (missing.length) add("shared", "Shared storage", "warn", `${missing.join(", ")} do(es) not mount ${datastore}: ${domain.name} could not live-migrate there afterwards`);
    else add("shared", "Shared storage", "pass", `every hypervisor mounts ${datastore}`);
  }

  const taken = destinationPath && input.hosts.some((h) => h.inventory.virt?.domains.some((d) => d.disks.some((k) => k.path === destinationPath)));
  if (taken) add("file", "Destination file", "fail", `${destinationPath} is already a disk of a VM`);

  return { checks, mode, fromDatastore: from?.datastore ?? null, sourcePath: disk?.path ?? null, destinationPath, sizeBytes };
}
