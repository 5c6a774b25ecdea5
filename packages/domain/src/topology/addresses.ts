import type { HostRecord } from "../fleet.js";

/** "10.0.0.1/24" -> "10.0.0.1": interfaces report CIDRs, tunnels name bare addresses. */
export const bareAddress = (cidr: string) => cidr.split("/")[0]!.trim().toLowerCase();

/** Addresses every host has (loopback) or that only mean something on one link (IPv6 link-local). */
export const isLocalOnly = (ip: string) => ip.startsWith("127.") || ip === "::1" || ip.startsWith("fe80:");

/** The addresses a host can be reached at for tunnels: its interfaces' addresses minus loopback. */
export function underlayAddresses(h: HostRecord): string[] {
  const out = new Set<string>();
  for (const i of h.inventory.net?.interfaces ?? []) {
    if (i.kind === "loopback") continue;
    for (const a of i.addresses) {
      const ip = bareAddress(a);
      if (ip && !isLocalOnly(ip)) out.add(ip);
    }
  }
  return [...out];
}

/**
 * Address -> host name, over underlay addresses and each host's configured address. When two
 * hosts claim one address, the first in fleet order keeps it, so resolution stays deterministic.
 */
export function addressBook(hosts: readonly HostRecord[], underlay: ReadonlyMap<string, readonly string[]>): Map<string, string> {
  const book = new Map<string, string>();
  for (const h of hosts) {
    for (const ip of underlay.get(h.name) ?? []) if (!book.has(ip)) book.set(ip, h.name);
  }
  // Configured addresses last, so they never shadow another host's underlay; loopback ones
  // (the lab reaches hosts on 127.x) say nothing about where a tunnel lands.
  for (const h of hosts) {
    const ip = bareAddress(h.address);
    if (!isLocalOnly(ip) && !book.has(ip)) book.set(ip, h.name);
  }
  return book;
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) return null;
    n = n * 256 + octet;
  }
  return n;
}

/** Whether `ip` lies in the IPv4 network `cidr` ("10.99.0.1/24"); false for anything else. */
export function inSubnet(ip: string, cidr: string): boolean {
  const [net, lenText] = cidr.split("/");
  const len = Number(lenText);
  const a = ipv4ToInt(bareAddress(ip));
  const b = ipv4ToInt(net ?? "");
  if (a === null || b === null || !Number.isInteger(len) || len < 0 || len > 32) return false;
  const size = 2 ** (32 - len);
  return Math.floor(a / size) === Math.floor(b / size);
}
