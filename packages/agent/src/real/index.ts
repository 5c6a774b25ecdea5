import { existsSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { CheckRunner } from "../checks.js";
import { realProbe } from "../checks-probe.js";
import type { AgentDrivers } from "../drivers.js";
import type { AgentConfig } from "./config.js";
import type { Log } from "./log.js";
import { RealNetDriver } from "./net.js";
import { RealNodeDriver } from "./node.js";
import { probe, toolsFrom, type Probe } from "./probe.js";
import { RealStatsDriver } from "./stats.js";
import { RealStorageDriver } from "./storage.js";
import { RealHaproxyDriver, haproxyInstalled } from "./haproxy.js";
import { RealSwarmDriver } from "./swarm.js";
import { RealStackSwarmDriver } from "./swarm-stacks.js";
import { RealVirtDriver } from "./virt.js";

export * from "./config.js";
export { runTool, toolFailed, type RunOptions } from "./run.js";
export { probe, toolsFrom, type Probe } from "./probe.js";
export { NIMBUS_XMLNS } from "./parse/domain-xml.js";
export { buildBaseImage, type ImageBuildOptions, type ImageBuildResult } from "./image-build.js";
export { DEFAULT_BASE_IMAGE, type BaseImageRecipe } from "./image-build-recipe.js";
export { APPLIANCE_KERNEL_NEED, IMAGE_BUILD_NEEDS } from "./image-build-host.js";
export { DEFAULT_IMAGE_CACHE } from "./image-build-command.js";
export { RealHaproxyDriver } from "./haproxy.js";
export { RealNetDriver, RealNodeDriver, RealStatsDriver, RealStorageDriver, RealSwarmDriver, RealVirtDriver };

/** The drivers for this host: node always, the others as the probe (or the config) decides. */
export async function createRealDrivers(cfg: AgentConfig, log: Log, probed?: Probe): Promise<AgentDrivers & { probe: Probe }> {
  const tools = toolsFrom(cfg);
  const p = probed ?? (await probe(cfg, tools));
  const host = cfg.hostname ?? hostname();
  const on = (c: string) => p.capabilities.includes(c as never);
  let net: RealNetDriver | undefined;
  const virt = on("virt")
    ? new RealVirtDriver(host, tools.virsh, cfg.virt, log, {
        qemuImg: tools.qemuImg,
        procRoot: cfg.node.procRoot,
        bridges: async () => (net ? (await net.snapshot()).bridges : []),
        provision: {
          virtBuilder: tools.virtBuilder,
          ovsVsctl: p.ovs ? tools.ovsVsctl : null,
          bridge: tools.bridge,
          virtType: cfg.virt.domainType === "auto" ? (existsSync("/dev/kvm") ? "kvm" : "qemu") : cfg.virt.domainType,
        },
      })
    : undefined;
  const vmNics = async () =>
    virt
      ? (await virt.domains().catch(() => [])).flatMap((d) => d.nics.map((n) => ({ domain: d.name, domainUuid: d.uuid, mac: n.mac, device: n.device })))
      : [];
  return {
    hostname: host,
    probe: p,
    node: new RealNodeDriver(cfg.node, host),
    stats: new RealStatsDriver(
      { ip: on("net") ? tools.ip : null, virsh: virt ? tools.virsh : null },
      cfg.node.procRoot,
      p.nfsServer ? cfg.storage.exports.map((e) => ({ path: e.path, local: e.localPath ?? e.path })) : [],
    ),
    checks: new CheckRunner(realProbe),
    lb: haproxyInstalled() ? new RealHaproxyDriver({ dir: join(homedir(), ".nimbus", "lb") }) : undefined,
    virt,
    net: (net = on("net")
      ? new RealNetDriver(
          host,
          { ip: tools.ip, bridge: tools.bridge, ovsVsctl: p.ovs ? tools.ovsVsctl : null, ovsdbClient: p.ovsdbClient ? tools.ovsdbClient : null },
          cfg.net,
          vmNics,
          log,
        )
      : undefined),
    swarm: on("swarm") ? new RealStackSwarmDriver(host, tools.docker, cfg.swarm, log) : undefined,
    storage: on("storage") ? new RealStorageDriver({ showmount: tools.showmount, rpcinfo: tools.rpcinfo, df: tools.df, ip: tools.ip }, cfg.storage, cfg.node.procRoot, p.nfsServer, tools.qemuImg) : undefined,
  };
}
