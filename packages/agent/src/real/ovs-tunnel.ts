import type { TunnelParams, TunnelResult } from "@nimbus/domain";
import type { Tool } from "./tool.js";

const linesOf = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
/** ovs-vsctl prints a string value quoted when it is not a bare word. */
const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, "$1");

/** The VXLAN interfaces of the bridge's ports that carry `vni` to `remoteIp` (found by what they do, not by name). */
async function portsTo(ovs: Tool, p: TunnelParams): Promise<{ ports: string[]; all: string[] }> {
  const all = linesOf(await ovs.run(["list-ports", p.bridge]));
  const found = linesOf(await ovs.run(["--bare", "--columns=name", "find", "Interface", "type=vxlan", `options:key=${p.vni}`, `options:remote_ip=${p.remoteIp}`]));
  return { ports: found.filter((name) => all.includes(name)), all };
}

/**
 * A port of the VNI to `remoteIp` on the bridge, added only when none exists (a port of any
 * name doing that already counts). Its name is the first free `vx<vni>-<n>` (IFNAMSIZ: 15).
 */
export async function ensureTunnel(ovs: Tool, p: TunnelParams): Promise<TunnelResult> {
  const { ports, all } = await portsTo(ovs, p);
  if (ports.length) return { port: ports[0]!, changed: false };
  let port = "";
  for (let i = 0; ; i++) {
    port = `vx${p.vni}-${i}`.slice(0, 15);
    if (!all.includes(port)) break;
  }
  await ovs.run(["--may-exist", "add-port", p.bridge, port, `tag=${p.vlan}`, "--", "set", "interface", port, "type=vxlan", `options:remote_ip=${p.remoteIp}`, `options:key=${p.vni}`]);
  return { port, changed: true };
}

/**
 * Removes the bridge's ports of the VNI to `remoteIp`; none there is no change. The server asks
 * this of a host that still runs the tenant's instances (its last one leaving takes every port
 * itself), so when that was its last port of the VNI a flow-based one takes its place, as the
 * first host of a VNI has: without it the host would drop out of the tenant's network.
 */
export async function releaseTunnel(ovs: Tool, p: TunnelParams): Promise<TunnelResult> {
  const { ports, all } = await portsTo(ovs, p);
  for (const port of ports) await ovs.run(["--if-exists", "del-port", p.bridge, port]);
  if (ports.length) {
    const left = linesOf(await ovs.run(["--bare", "--columns=name", "find", "Interface", "type=vxlan", `options:key=${p.vni}`])).filter((n) => all.includes(n) && !ports.includes(n));
    if (!left.length) await ovs.run(["--may-exist", "add-port", p.bridge, `vx${p.vni}`, `tag=${p.vlan}`, "--", "set", "interface", `vx${p.vni}`, "type=vxlan", "options:remote_ip=flow", `options:key=${p.vni}`]);
  }
  return { port: ports[0] ?? null, changed: ports.length > 0 };
}

/** Which VLANs Nimbus put on a trunk, so a release removes only those and never one an admin configured. */
const ADDED_KEY = "nimbus-added-trunks";
const parseVlans = (text: string) =>
  unquote(text)
    .replace(/^\[|\]$/g, "")
    .split(/[,\s]+/)
    .filter((v) => /^\d+$/.test(v))
    .map(Number);

/**
 * The bridge's trunk ports: ports with an explicit `trunks` list (an empty list carries every
 * VLAN already, so it needs nothing). Read with one `get` per port.
 */
async function trunkPorts(ovs: Tool, bridge: string): Promise<{ port: string; trunks: number[]; added: number[] }[]> {
  const out: { port: string; trunks: number[]; added: number[] }[] = [];
  for (const port of linesOf(await ovs.run(["list-ports", bridge]))) {
    const trunks = parseVlans(await ovs.run(["get", "Port", port, "trunks"]));
    if (!trunks.length) continue;
    const added = parseVlans(await ovs.run(["--if-exists", "get", "Port", port, `external_ids:${ADDED_KEY}`]));
    out.push({ port, trunks, added });
  }
  return out;
}

const setTrunks = (ovs: Tool, port: string, trunks: number[], added: number[]) =>
  ovs.run([
    "set", "Port", port, `trunks=${trunks.sort((a, b) => a - b).join(",")}`,
    // A map value needs quoting for ovs-vsctl when it holds a comma.
    `external_ids:${ADDED_KEY}="${added.sort((a, b) => a - b).join(",")}"`,
  ]);

/** Puts `vlan` on each trunk of the bridge that lacks it (the topology's vlan-not-trunked rule); the ports changed. */
export async function trunkVlan(ovs: Tool, bridge: string, vlan: number): Promise<string[]> {
  const changed: string[] = [];
  for (const t of await trunkPorts(ovs, bridge)) {
    if (t.trunks.includes(vlan)) continue;
    await setTrunks(ovs, t.port, [...t.trunks, vlan], [...t.added, vlan]);
    changed.push(t.port);
  }
  return changed;
}

/**
 * Takes `vlan` off the trunks Nimbus put it on; never the last VLAN of a list (an empty trunk
 * list means every VLAN in OVS).
 */
export async function untrunkVlan(ovs: Tool, bridge: string, vlan: number): Promise<string[]> {
  const changed: string[] = [];
  for (const t of await trunkPorts(ovs, bridge)) {
    if (!t.added.includes(vlan) || !t.trunks.includes(vlan) || t.trunks.length === 1) continue;
    await setTrunks(ovs, t.port, t.trunks.filter((v) => v !== vlan), t.added.filter((v) => v !== vlan));
    changed.push(t.port);
  }
  return changed;
}
