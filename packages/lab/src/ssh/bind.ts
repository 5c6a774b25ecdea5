import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";

export interface BindOptions {
  /** Small labs: first port of a consecutive range (host i gets basePort + i). Large labs: the one port. Default: free ports. */
  basePort?: number;
  /** One loopback address per host (127.1.x.y, same port) instead of one port per host. Default: when hosts > 500. */
  perHostAddress?: boolean;
}

export interface PlannedEndpoint {
  host: string;
  address: string;
  /** 0: let the OS choose. */
  port: number;
}

const LARGE_LAB = 500;
const SavedEndpoints = z.record(z.string(), z.object({ address: z.string(), port: z.number().int() }));

/**
 * Where each host listens. Small labs share 127.0.0.1 with a port each; large ones get an
 * address each in 127.0.0.0/8 (Linux answers the whole /8 without setup) on one port, since
 * thousands of ports would run into the ephemeral range. Ports from the last run are reused
 * when possible, so a fleet file written earlier keeps working after a lab restart.
 */
export function planEndpoints(
  hosts: readonly string[],
  bind: BindOptions,
  saved: Record<string, { address: string; port: number }>,
): { sharedPort: boolean; endpoints: PlannedEndpoint[] } {
  const perHost = bind.perHostAddress ?? hosts.length > LARGE_LAB;
  if (!perHost)
    return {
      sharedPort: false,
      endpoints: hosts.map((host, i) => ({
        host,
        address: "127.0.0.1",
        port: bind.basePort !== undefined ? bind.basePort + i : saved[host]?.address === "127.0.0.1" ? saved[host]!.port : 0,
      })),
    };
  const first = saved[hosts[0] ?? ""];
  const shared = bind.basePort ?? (first && first.address === loopbackAddress(0) ? first.port : 0);
  return { sharedPort: true, endpoints: hosts.map((host, i) => ({ host, address: loopbackAddress(i), port: shared })) };
}

/** 127.1.x.y with y in 1..250: room for 64,000 hosts. */
export function loopbackAddress(index: number): string {
  return `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export function readSavedEndpoints(path: string): Record<string, { address: string; port: number }> {
  try {
    return SavedEndpoints.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch {
    return {};
  }
}

export function saveEndpoints(path: string, endpoints: readonly { host: string; address: string; port: number }[]): void {
  writeFileSync(path, JSON.stringify(Object.fromEntries(endpoints.map((e) => [e.host, { address: e.address, port: e.port }]))));
}
