import { z } from "zod";
import type { NetInterface } from "@nimbus/domain";
import { parseJsonWith } from "./text.js";

/** `ip -j -d link show`, `ip -j addr show`, `bridge -j vlan show` (iproute2's JSON). */

const LinkJson = z.array(
  z.looseObject({
    ifname: z.string(),
    flags: z.array(z.string()),
    mtu: z.number().int().optional(),
    master: z.string().optional(),
    operstate: z.string().optional(),
    link_type: z.string().optional(),
    address: z.string().optional(),
    linkinfo: z
      .looseObject({
        info_kind: z.string().optional(),
        info_data: z.looseObject({}).optional(),
        info_slave_kind: z.string().optional(),
      })
      .optional(),
  }),
);

export interface Link {
  name: string;
  kind: NetInterface["kind"];
  /** iproute2's info_kind as printed, e.g. "tun", "openvswitch". */
  rawKind: string | null;
  mtu: number | null;
  mac: string | null;
  up: boolean;
  master: string | null;
  vxlan: { id: number; local: string | null; remote: string | null; port: number } | null;
  /** 802.1Q sub-interfaces (eth0.10): their VLAN id. */
  vlanId: number | null;
  /** Linux bridges only: whether the bridge filters VLANs (then `bridge vlan` is meaningful). */
  vlanFiltering: boolean;
}

const KINDS: Record<string, NetInterface["kind"]> = {
  bridge: "bridge",
  vxlan: "vxlan",
  veth: "veth",
  tun: "tap",
  vlan: "vlan",
  openvswitch: "ovs-internal",
};

const mtuOf = (mtu: number | undefined) => (mtu !== undefined && mtu >= 68 && mtu <= 65_535 ? mtu : null);

export function parseIpLink(text: string): Link[] {
  return parseJsonWith(LinkJson, "ip link", text).map((l) => {
    const info = l.linkinfo;
    const kindName = info?.info_kind ?? null;
    const data = (info?.info_data ?? {}) as Record<string, unknown>;
    const kind: NetInterface["kind"] =
      l.link_type === "loopback" ? "loopback" : kindName ? (Object.hasOwn(KINDS, kindName) ? KINDS[kindName]! : "other") : l.link_type === "ether" ? "physical" : "other";
    const vxlan =
      kindName === "vxlan" && typeof data.id === "number"
        ? {
            id: data.id,
            local: typeof data.local === "string" ? data.local : null,
            remote: typeof data.remote === "string" ? data.remote : typeof data.group === "string" ? data.group : null,
            port: typeof data.port === "number" ? data.port : 8472,
          }
        : null;
    return {
      name: l.ifname,
      kind,
      rawKind: kindName,
      mtu: mtuOf(l.mtu),
      mac: l.address && l.link_type === "ether" ? l.address : null,
      // operstate UNKNOWN is normal for loopback, vxlan and tap devices that are up.
      up: l.flags.includes("UP") && l.operstate !== "DOWN" && l.operstate !== "LOWERLAYERDOWN",
      master: l.master ?? null,
      vxlan,
      vlanId: kindName === "vlan" && typeof data.id === "number" ? data.id : null,
      vlanFiltering: kindName === "bridge" && data.vlan_filtering === 1,
    };
  });
}

const AddrJson = z.array(
  z.looseObject({
    ifname: z.string(),
    addr_info: z.array(z.looseObject({ family: z.string(), local: z.string(), prefixlen: z.number().int(), scope: z.string().optional() })).default([]),
  }),
);

/** Addresses per interface as "A.B.C.D/N"; link-local IPv6 addresses are left out (every link has one). */
export function parseIpAddr(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of parseJsonWith(AddrJson, "ip addr", text)) {
    out.set(
      l.ifname,
      l.addr_info.filter((a) => !(a.family === "inet6" && a.scope === "link")).map((a) => `${a.local}/${a.prefixlen}`),
    );
  }
  return out;
}

const VlanJson = z.array(
  z.looseObject({
    ifname: z.string(),
    vlans: z.array(z.looseObject({ vlan: z.number().int(), vlanEnd: z.number().int().optional(), flags: z.array(z.string()).default([]) })).default([]),
  }),
);

export interface PortVlans {
  /** Untagged VLAN (PVID + Egress Untagged): the port's access VLAN. */
  pvid: number | null;
  /** VLANs carried tagged. */
  tagged: number[];
}

/** `bridge -j vlan show`: per port, its access VLAN and tagged VLANs (VLAN-filtering bridges only). */
export function parseBridgeVlans(text: string): Map<string, PortVlans> {
  const out = new Map<string, PortVlans>();
  for (const port of parseJsonWith(VlanJson, "bridge vlan", text)) {
    let pvid: number | null = null;
    const tagged: number[] = [];
    for (const v of port.vlans) {
      if (v.flags.includes("PVID") && v.flags.includes("Egress Untagged")) pvid = v.vlan;
      else for (let id = v.vlan; id <= (v.vlanEnd ?? v.vlan); id++) tagged.push(id);
    }
    out.set(port.ifname, { pvid, tagged });
  }
  return out;
}

const FdbJson = z.array(z.looseObject({ mac: z.string(), ifname: z.string().optional(), dst: z.string().optional() }));

/**
 * `bridge -j fdb show`: the flood destinations of each VXLAN device (all-zero MAC entries with a
 * dst), which is where the remotes of a VXLAN configured without a single `remote` live.
 */
export function parseVxlanFloodRemotes(text: string, dev?: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of parseJsonWith(FdbJson, "bridge fdb", text)) {
    // `bridge fdb show dev X` leaves ifname out of each entry: they are all X's.
    const ifname = e.ifname ?? dev;
    if (e.mac !== "00:00:00:00:00:00" || !e.dst || !ifname) continue;
    out.set(ifname, [...(out.get(ifname) ?? []), e.dst]);
  }
  return out;
}
