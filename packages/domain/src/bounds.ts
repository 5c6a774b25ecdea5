import { z } from "zod";

/**
 * Bounds for what hosts send. A host is not trusted to be sane (a bug, or a compromised host):
 * every string and list it reports has a finite limit, generous for any real host (thousands of
 * VMs, ports or tasks), so one host cannot make the server hold or walk unbounded data.
 */
export const LIMITS = {
  /** Names, ids, addresses, labels: far above any real one (Linux interface names stop at 15). */
  name: 256,
  /** File system paths (PATH_MAX). */
  path: 4096,
  /** Free-form text a person reads (a task's or a job's error): cut, not refused. */
  text: 2048,
  domains: 4096,
  disksPerDomain: 256,
  nicsPerDomain: 256,
  addressesPerNic: 256,
  cpuFeatures: 1024,
  interfaces: 32_768,
  addressesPerInterface: 1024,
  bridges: 4096,
  portsPerBridge: 65_536,
  swarmNodes: 10_000,
  swarmServices: 10_000,
  swarmTasks: 100_000,
  portsPerService: 1024,
  exports: 4096,
  clientsPerExport: 4096,
  datastores: 4096,
  mounts: 65_536,
  preflightChecks: 1024,
  images: 4096,
} as const;

export const boundedName = () => z.string().max(LIMITS.name);
export const boundedPath = () => z.string().max(LIMITS.path);

/** Cuts a peer's text to `max` characters (with an ellipsis), so messages stay readable and small. */
export const cutText = (s: string, max: number = LIMITS.text) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** Free-form text from a host: kept, but cut to LIMITS.text (a long error is still worth showing). */
export const boundedText = () => z.string().transform((s) => cutText(s));

export const boundedList = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max);
