import { BlockList, isIP } from "node:net";

/**
 * The reverse proxies whose X-Forwarded-For is believed (NIMBUS_TRUSTED_PROXIES: addresses and
 * CIDR ranges). Without any, the client is the TCP peer and X-Forwarded-For is ignored: anyone can
 * send that header, and believing it would let them pick a fresh address per sign-in attempt.
 */
export class TrustedProxies {
  private constructor(
    private readonly list: BlockList,
    readonly size: number,
  ) {}

  static readonly none = new TrustedProxies(new BlockList(), 0);

  /** "10.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"; throws naming the first entry that is neither. */
  static parse(entries: readonly string[]): TrustedProxies {
    const list = new BlockList();
    for (const raw of entries) {
      const entry = raw.trim();
      const [address = "", prefix, extra] = entry.split("/");
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const valid = family !== 0 && extra === undefined && (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits));
      if (!valid) throw new Error(`"${entry}" is not an IP address or CIDR range (e.g. 10.0.0.1 or 10.0.0.0/8)`);
      const type = family === 4 ? "ipv4" : "ipv6";
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
    }
    return new TrustedProxies(list, entries.length);
  }

  has(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? "ipv4" : "ipv6");
  }

  /**
   * The client behind `peer`: walks X-Forwarded-For from the right (the hop the nearest proxy
   * added) past trusted proxies; the first address not trusted is the client. Entries left of it
   * were written by the client itself and are never read.
   */
  clientAddress(peer: string, forwardedFor: string | readonly string[] | undefined): string {
    const header = typeof forwardedFor === "string" ? forwardedFor : (forwardedFor?.join(",") ?? "");
    const hops = header.split(",").map((h) => unmapped(h.trim())).filter(Boolean);
    let client = unmapped(peer);
    while (this.has(client)) {
      const next = hops.pop();
      // A hop that is not an address: stop at the last proxy we trust rather than believe it.
      if (next === undefined || isIP(next) === 0) break;
      client = next;
    }
    return client;
  }
}

/** "::ffff:127.0.0.1" → "127.0.0.1". */
export const unmapped = (address: string) => (address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address);
