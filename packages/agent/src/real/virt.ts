import { AgentErrorCode, type CreateInstanceParams, type CreateProgress, type DeleteInstanceParams, type DeleteProgress, type AgentPreflightParams, type Bridge, type Domain, type DomainSnapshots, type MigrateParams, type MigrationProgress, type MoveDiskParams, type PreflightCheck, type StorageMoveProgress, type VirtSection } from "@nimbus/domain";
import type { JobContext, SnapshotDriver, VirtDriver } from "../drivers.js";
import { AgentError } from "../errors.js";
import type { AgentConfig } from "./config.js";
import { watchLines } from "./lines.js";
import type { Log } from "./log.js";
import { migrateDomain } from "./migrate.js";
import { parseDomainXml } from "./parse/domain-xml.js";
import { parsePoolXml } from "./parse/pool-xml.js";
import { virshError } from "./parse/libvirt-errors.js";
import { blockCapacities, parseDominfo, parseDomstats, parseUuidList, parseVersion } from "./parse/virsh.js";
import type { Tool } from "./tool.js";
import { ChangeFeed, mapLimit } from "./util.js";
import { moveDiskReal } from "./virt-disk-move.js";
import { requireDomainUuid } from "./virt-ids.js";
import { realPreflight } from "./virt-preflight.js";
import { createReal, deleteReal, type ProvisionTools } from "./virt-create.js";
import { createSnapshot, deleteSnapshot, domainSnapshots, listSnapshots, revertSnapshot } from "./virt-snapshots.js";
import { RealConsoleDriver } from "./console.js";

/** What the virt driver needs beyond virsh for preflight re-checks and disk moves. */
export interface VirtExtras {
  qemuImg: Tool;
  procRoot: string;
  /** The bridges this host has now (from the net driver), for the destination's NIC checks. */
  bridges: () => Promise<Bridge[]>;
  /** Creates and deletes (virt-builder, Open vSwitch, bridge); absent: virt.create is unsupported. */
  provision?: Pick<ProvisionTools, "virtBuilder" | "ovsVsctl" | "bridge" | "virtType">;
}

/**
 * libvirt through virsh. Snapshot = the domains' UUIDs + dumpxml/dominfo/domstats per domain
 * (domstats for disk sizes; pools to name file disks' pools). Every domain and pool is addressed
 * by UUID (see virt-ids.ts). Changes are pushed from a long-running `virsh event --loop --all`,
 * restarted if it dies.
 */
export class RealVirtDriver implements VirtDriver {
  private readonly feed = new ChangeFeed();
  private last: { at: number; section: VirtSection } | null = null;
  /** Per domain UUID: its snapshots as last read, and the list of names they were read for. */
  private readonly snapCache = new Map<string, { key: string; value: DomainSnapshots }>();

  constructor(
    private readonly host: string,
    private readonly virsh: Tool,
    private readonly cfg: AgentConfig["virt"],
    private readonly log: Log,
    private readonly extras?: VirtExtras,
  ) {}

  async snapshot(): Promise<VirtSection> {
    const [listText, versionText, pools] = await Promise.all([this.virsh.run(["list", "--all", "--uuid"]), this.virsh.run(["version"]), this.poolPaths()]);
    const listed = parseUuidList("virsh list", listText);
    const domains = await mapLimit(listed, 4, async ({ uuid }): Promise<Domain | null> => {
      try {
        const [xmlText, infoText, statsText, snapNames] = await Promise.all([
          this.virsh.run(["dumpxml", "--", uuid]),
          this.virsh.run(["dominfo", "--", uuid]),
          this.virsh.run(["domstats", "--block", "--", uuid]).catch((e: unknown) => {
            // A hypervisor without domain stats still has domains; their disks have no known size.
            if ((virshError(e, uuid) as AgentError).code === AgentErrorCode.unsupported) return "";
            throw e;
          }),
          // One cheap call; the snapshots themselves are read only when this list changed.
          this.virsh.run(["snapshot-list", "--name", `--domain=${uuid}`]).catch(() => null),
        ]);
        const snaps = snapNames === null ? null : await domainSnapshots(this.snapshotTools(), uuid, snapNames, xmlText, this.snapCache.get(uuid));
        if (snaps) this.snapCache.set(uuid, snaps);
        const xml = parseDomainXml(xmlText);
        const info = parseDominfo(infoText);
        // One domain asked, one record: its name as printed does not matter.
        const caps = blockCapacities([...parseDomstats(statsText).values()][0], statsText);
        return {
          ...xml,
          state: info.state,
          persistent: info.persistent,
          autostart: info.autostart,
          disks: xml.disks.map((disk) => ({ ...disk, pool: disk.pool ?? poolOf(disk.path, pools), capacityBytes: caps.get(disk.target) ?? null })),
          ...(snaps ? { snapshots: snaps.value } : {}),
        };
      } catch (e) {
        // A domain undefined between `list` and `dumpxml` (a migration just finished) is simply gone.
        const typed = virshError(e, `domain ${uuid} on ${this.host}`);
        if (typed instanceof AgentError && typed.code === AgentErrorCode.notFound) return null;
        throw typed;
      }
    });
    const section = { hypervisor: parseVersion(versionText).hypervisor, domains: domains.filter((d): d is Domain => d !== null) };
    for (const uuid of this.snapCache.keys()) if (!listed.some((l) => l.uuid === uuid)) this.snapCache.delete(uuid);
    this.last = { at: Date.now(), section };
    return section;
  }

  /**
   * Domains for the net driver to match VM ports with. A VM that just started changes both
   * sections at once, so a snapshot older than a moment is taken again.
   */
  async domains(maxAgeMs = 2000): Promise<Domain[]> {
    if (this.last && Date.now() - this.last.at <= maxAgeMs) return this.last.section.domains;
    return (await this.snapshot()).domains;
  }

  watch(onChange: () => void): () => void {
    const { cmd, args, env } = this.virsh.command(["event", "--loop", "--all"]);
    const stopEvents = watchLines({
      name: `virsh event on ${this.host}`,
      cmd,
      args,
      env,
      log: this.log,
      onLine: (line) => {
        if (line.startsWith("event ")) onChange();
      },
      onRestart: onChange,
    });
    const stopFeed = this.feed.add(onChange);
    return () => {
      stopEvents();
      stopFeed();
    };
  }

  async migrate(params: MigrateParams, ctx: JobContext<MigrationProgress>): Promise<{ downtimeMs: number | null }> {
    try {
      return await migrateDomain({ host: this.host, virsh: this.virsh, cfg: this.cfg, log: this.log }, params, ctx);
    } finally {
      this.feed.emit();
    }
  }

  async preflight(params: AgentPreflightParams): Promise<PreflightCheck[]> {
    const extras = this.extras ?? { procRoot: "/proc", bridges: async () => [] };
    return realPreflight({ host: this.host, virsh: this.virsh, procRoot: extras.procRoot, bridges: extras.bridges }, params);
  }

  async moveDisk(params: MoveDiskParams, ctx: JobContext<StorageMoveProgress>): Promise<void> {
    if (!this.extras) throw new Error(`disk moves need qemu-img on ${this.host}, which this agent was not given`);
    try {
      await moveDiskReal({ host: this.host, virsh: this.virsh, qemuImg: this.extras.qemuImg, cfg: this.cfg, log: this.log }, params, ctx);
    } finally {
      this.feed.emit();
    }
  }

  async create(params: CreateInstanceParams, ctx: JobContext<CreateProgress>): Promise<CreateProgress> {
    return createReal(this.provisionTools(), params, ctx).finally(() => this.feed.emit());
  }

  async delete(params: DeleteInstanceParams, ctx: JobContext<DeleteProgress>): Promise<DeleteProgress> {
    return deleteReal(this.provisionTools(), params, ctx).finally(() => this.feed.emit());
  }

  readonly snapshots: SnapshotDriver = {
    list: (domain) => listSnapshots(this.snapshotTools(), domain),
    // Each changes the snapshots the virt section carries (a revert also the VM's state): read again, pushed.
    create: (p) => createSnapshot(this.snapshotTools(), p).finally(() => this.snapshotsChanged()),
    revert: (p) => revertSnapshot(this.snapshotTools(), p).finally(() => this.snapshotsChanged()),
    delete: (p) => deleteSnapshot(this.snapshotTools(), p).finally(() => this.snapshotsChanged()),
  };

  /** Serial consoles: `virsh console` under a pty (console.ts). */
  get console(): RealConsoleDriver {
    return new RealConsoleDriver(this.host, this.virsh);
  }

  private snapshotsChanged() {
    this.snapCache.clear();
    this.feed.emit();
  }

  private snapshotTools() {
    return { host: this.host, virsh: this.virsh };
  }

  private provisionTools(): ProvisionTools {
    const p = this.extras?.provision;
    if (!p) throw new AgentError(AgentErrorCode.unsupported, `creating instances is not set up on ${this.host}`);
    return { ...p, host: this.host, virsh: this.virsh, domains: () => this.domains(0) };
  }

  async power(domain: string, action: "start" | "shutdown" | "reboot" | "destroy"): Promise<void> {
    const what = `domain ${domain} on ${this.host}`;
    const uuid = await requireDomainUuid(this.virsh, domain, what);
    try {
      await this.virsh.run([action, "--", uuid]);
    } catch (e) {
      throw virshError(e, what);
    }
    this.feed.emit();
  }

  /** Pool name by target directory, so a file disk under a pool's directory names its pool. */
  private async poolPaths(): Promise<Map<string, string>> {
    const pools = parseUuidList("virsh pool-list", await this.virsh.run(["pool-list", "--all", "--uuid"]));
    const xmls = await mapLimit(pools, 4, (p) =>
      this.virsh.run(["pool-dumpxml", "--", p.uuid]).catch((e: unknown) => {
        // A pool undefined since the list has no disks to name.
        const typed = virshError(e, `storage pool ${p.uuid} on ${this.host}`);
        if (typed instanceof AgentError && typed.code === AgentErrorCode.notFound) return null;
        throw typed;
      }),
    );
    const out = new Map<string, string>();
    for (const x of xmls) {
      if (x === null) continue;
      const pool = parsePoolXml(x);
      if (pool.targetPath) out.set(pool.targetPath.replace(/\/+$/, ""), pool.name);
    }
    return out;
  }
}

function poolOf(path: string, pools: Map<string, string>): string | null {
  const dir = path.slice(0, path.lastIndexOf("/"));
  return pools.get(dir) ?? null;
}
