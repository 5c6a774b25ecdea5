import { AgentErrorCode, type NetSection, type TunnelParams, type TunnelResult } from "@nimbus/domain";
import type { NetDriver } from "../drivers.js";
import { AgentError } from "../errors.js";
import type { AgentConfig } from "./config.js";
import { watchLines } from "./lines.js";
import type { Log } from "./log.js";
import { parseBridgeVlans, parseIpAddr, parseIpLink, parseVxlanFloodRemotes } from "./parse/ip.js";
import { buildNetSection, type VmNic } from "./parse/net.js";
import { parseOvsBridges, parseOvsInterfaces, parseOvsPorts } from "./parse/ovs.js";
import type { Tool } from "./tool.js";
import { ensureTunnel, releaseTunnel } from "./ovs-tunnel.js";
import { mapLimit } from "./util.js";

export interface NetTools {
  ip: Tool;
  bridge: Tool;
  /** Present when Open vSwitch answers on this host. */
  ovsVsctl: Tool | null;
  /** Present when ovsdb-client exists: OVS changes are then pushed instead of re-read on a timer. */
  ovsdbClient: Tool | null;
}

/**
 * `ovsdb-client monitor` arguments, one process per table (it follows one table per call: a
 * second table name is read as a column of the first and it exits). Only columns whose changes
 * matter to the NetSection (not statistics, which change every 5 s); `!initial` skips the
 * dump of current rows, as the snapshot already has them.
 */
export const OVS_MONITORS: readonly (readonly string[])[] = [
  ["Bridge", "name,ports"],
  ["Port", "name,tag,trunks,vlan_mode,interfaces"],
  ["Interface", "name,type,options,mtu,link_state,external_ids,status"],
].map(([table, columns]) => ["monitor", "Open_vSwitch", table!, `${columns},!initial`]);

/**
 * Links, Linux bridges and OVS bridges. Kernel link changes are pushed by `ip monitor`; OVS
 * changes by `ovsdb-client monitor`. Without ovsdb-client, OVS is re-read every
 * fallbackIntervalMs (OVS has no other event source a CLI can follow).
 */
export class RealNetDriver implements NetDriver {
  /** Why the last bridge call failed; null while it works (so each outage is logged once). */
  private bridgeProblem: string | null = null;

  constructor(
    private readonly host: string,
    private readonly tools: NetTools,
    private readonly cfg: AgentConfig["net"],
    private readonly vmNics: () => Promise<VmNic[]>,
    private readonly log: Log,
  ) {}

  async snapshot(): Promise<NetSection> {
    const { ip, ovsVsctl } = this.tools;
    const [linkText, addrText, bridgeVlans, ovs, vmNics] = await Promise.all([
      ip.run(["-j", "-d", "link", "show"]),
      ip.run(["-j", "addr", "show"]),
      this.fromBridge(["-j", "vlan", "show"], parseBridgeVlans),
      ovsVsctl ? this.ovs(ovsVsctl) : null,
      this.vmNics(),
    ]);
    const links = parseIpLink(linkText);
    // Only VXLANs without a single remote keep their remotes in the fdb; read just those (and
    // not at all when bridge just failed: each read would fail the same way).
    const meshVxlans = bridgeVlans ? links.filter((l) => l.vxlan && !l.vxlan.remote).map((l) => l.name) : [];
    const fdbs = await mapLimit(meshVxlans, 4, (dev) => this.fromBridge(["-j", "fdb", "show", "dev", dev], (text) => parseVxlanFloodRemotes(text, dev)));
    const floodRemotes = new Map(fdbs.flatMap((m) => (m ? [...m] : [])));
    return buildNetSection({ links, addresses: parseIpAddr(addrText), bridgeVlans: bridgeVlans ?? new Map(), floodRemotes, ovs, vmNics });
  }

  /**
   * What `bridge` says, or null when it cannot run or fails. Its data (VLANs of VLAN-filtering
   * bridges, flood remotes of mesh VXLANs) only refines what ip reports, so a host without it
   * (not installed, or in /usr/sbin off PATH and absent from the sbin dirs too) still gets its
   * links and bridges. Logged once when it starts failing and once when it answers again.
   * Output that does not parse is still an error: that is a parser to fix, not a missing tool.
   */
  private async fromBridge<T>(args: string[], parse: (text: string) => T): Promise<T | null> {
    let text: string;
    try {
      text = await this.tools.bridge.run(args);
    } catch (err) {
      if (!(err instanceof AgentError && err.code === AgentErrorCode.toolFailed)) throw err;
      if (this.bridgeProblem === null)
        this.log("warn", `net on ${this.host}: ${err.message}; reporting links and bridges without bridge VLAN and VXLAN flood data until it works`);
      this.bridgeProblem = err.message;
      return null;
    }
    if (this.bridgeProblem !== null) {
      this.log("info", `net on ${this.host}: bridge answers again (it failed with: ${this.bridgeProblem})`);
      this.bridgeProblem = null;
    }
    return parse(text);
  }

  ensureTunnel(params: TunnelParams): Promise<TunnelResult> {
    return ensureTunnel(this.requireOvs(params), params);
  }

  releaseTunnel(params: TunnelParams): Promise<TunnelResult> {
    return releaseTunnel(this.requireOvs(params), params);
  }

  private requireOvs(params: TunnelParams): Tool {
    if (this.tools.ovsVsctl) return this.tools.ovsVsctl;
    throw new AgentError(AgentErrorCode.unsupported, `VXLAN ports need Open vSwitch on ${this.host}; ${params.bridge} cannot take one`);
  }

  watch(onChange: () => void): () => void {
    const { ip, ovsVsctl, ovsdbClient } = this.tools;
    const stops: (() => void)[] = [];
    const follow = (name: string, tool: Tool, args: string[]) => {
      const { cmd, args: full, env } = tool.command(args);
      stops.push(watchLines({ name: `${name} on ${this.host}`, cmd, args: full, env, log: this.log, onLine: onChange, onRestart: onChange }));
    };
    follow("ip monitor", ip, ["monitor", "link", "address"]);
    if (ovsVsctl && ovsdbClient) for (const args of OVS_MONITORS) follow(`ovsdb-client monitor ${args[2]}`, ovsdbClient, [...args]);
    else if (ovsVsctl) {
      const timer = setInterval(onChange, this.cfg.fallbackIntervalMs);
      stops.push(() => clearInterval(timer));
    }
    return () => stops.forEach((s) => s());
  }

  private async ovs(vsctl: Tool) {
    const list = (table: string) => vsctl.run(["--format=json", "list", table]);
    const [b, p, i] = await Promise.all([list("Bridge"), list("Port"), list("Interface")]);
    return { bridges: parseOvsBridges(b), ports: parseOvsPorts(p), interfaces: parseOvsInterfaces(i) };
  }
}
