import { readFile, readdir } from "node:fs/promises";
import { IMAGE_CATALOG_FILE, IMAGE_REPOSITORY_DIR, ImageEntry, LIMITS, type Datastore, type StorageSection } from "@nimbus/domain";
import { join } from "node:path";
import type { ImageDriver, StorageDriver } from "../drivers.js";
import type { AgentConfig } from "./config.js";
import { parseIpAddr } from "./parse/ip.js";
import { NFS_PROGRAM, parseDf, parseKeepalivedState, parseNfsMounts, parseRpcinfo, parseShowmount, type KeepalivedState } from "./parse/storage.js";
import { RealImageRepository, catalogEntries } from "./storage-images.js";
import type { Tool } from "./tool.js";

export interface StorageTools {
  showmount: Tool;
  rpcinfo: Tool;
  df: Tool;
  ip: Tool;
}

/**
 * NFS server state (is it registered with rpcbind, what it exports, how full the exported
 * directories are, who holds the VIP) and the NFS mounts of this host. None of these have
 * events a CLI can follow (df and address ownership change silently), so the driver re-reads
 * them every pollIntervalMs; the agent core pushes only when the section really changed.
 */
export class RealStorageDriver implements StorageDriver {
  readonly imageRepository?: ImageDriver;

  constructor(
    private readonly tools: StorageTools,
    private readonly cfg: AgentConfig["storage"],
    private readonly procRoot: string,
    /** Whether this host serves NFS (configured exports, or rpcbind had nfs at start). */
    private readonly nfsServer: boolean,
    /** Imports and deletes images (storage servers only). */
    qemuImg?: Tool,
  ) {
    if (nfsServer && qemuImg) this.imageRepository = new RealImageRepository(qemuImg, (datastore) => this.localDirectory(datastore));
  }

  /**
   * Where an export lives on this host: the configured local directory, else (no exports
   * configured) the path itself when showmount lists it. Any other path is no datastore, so an
   * import never writes outside an export.
   */
  private async localDirectory(datastore: string): Promise<string | null> {
    if (this.cfg.exports.length) {
      const e = this.cfg.exports.find((x) => x.path === datastore);
      return e ? (e.localPath ?? e.path) : null;
    }
    const exports = await this.tools.showmount.run(["-e", this.cfg.nfsHost], { timeoutMs: 10_000 }).then(parseShowmount, () => []);
    return exports.some((e) => e.path === datastore) ? datastore : null;
  }

  async snapshot(): Promise<StorageSection> {
    const mounts = parseNfsMounts(await readFile(`${this.procRoot}/mounts`, "utf8"), this.cfg.sharedMounts);
    return { nfs: this.nfsServer ? await this.nfs() : null, mounts };
  }

  watch(onChange: () => void): () => void {
    const timer = setInterval(onChange, this.cfg.pollIntervalMs);
    return () => clearInterval(timer);
  }

  private async nfs(): Promise<NonNullable<StorageSection["nfs"]>> {
    const { showmount, rpcinfo } = this.tools;
    const host = this.cfg.nfsHost;
    // A stopped server is a state to show, not an error: rpcbind or mountd not answering means "not running".
    const [programs, exports] = await Promise.all([
      rpcinfo.run(["-p", host], { timeoutMs: 10_000 }).then(parseRpcinfo, () => []),
      showmount.run(["-e", host], { timeoutMs: 10_000 }).then(parseShowmount, () => []),
    ]);
    const paths = this.cfg.exports.length > 0 ? this.cfg.exports.map((e) => ({ path: e.path, local: e.localPath ?? e.path })) : exports.map((e) => ({ path: e.path, local: e.path }));
    const [datastores, vip, images] = await Promise.all([this.datastores(paths), this.vip(), this.images(paths)]);
    return {
      serverRunning: programs.some((p) => p.program === NFS_PROGRAM),
      exports,
      datastores,
      vip,
      keepalivedState: await this.keepalivedState(vip),
      images,
    };
  }

  /** One df per path, so one missing directory does not hide the others. */
  private async datastores(paths: { path: string; local: string }[]): Promise<Datastore[]> {
    const rows = await Promise.all(
      paths.map(async ({ path, local }) => {
        const text = await this.tools.df.run(["-B1", "--output=size,used,target", local]).catch(() => null);
        const row = text === null ? undefined : parseDf(text)[0];
        return row ? [{ path, totalBytes: row.totalBytes, usedBytes: row.usedBytes }] : [];
      }),
    );
    return rows.flat();
  }

  /**
   * The image catalog of each export (`.nimbus-images/catalog.json`, a JSON array of entries).
   * Entries that do not parse, or name another datastore, are left out: the catalog is a file
   * anyone with write access to the export can change.
   */
  private async images(paths: { path: string; local: string }[]): Promise<ImageEntry[]> {
    const lists = await Promise.all(
      paths.map(async ({ path, local }) => {
        const text = await readFile(join(local, IMAGE_REPOSITORY_DIR, IMAGE_CATALOG_FILE), "utf8").catch(() => null);
        if (text === null || text.length > 4 * 1024 * 1024) return [];
        let raw: unknown;
        try {
          raw = JSON.parse(text);
        } catch {
          return [];
        }
        return catalogEntries(raw, path);
      }),
    );
    return lists.flat().slice(0, LIMITS.images);
  }

  private async vip(): Promise<{ address: string; heldHere: boolean } | null> {
    if (!this.cfg.vip) return null;
    const addrs = parseIpAddr(await this.tools.ip.run(["-j", "addr", "show"]));
    const held = [...addrs.values()].some((list) => list.some((a) => a.split("/")[0] === this.cfg.vip));
    return { address: this.cfg.vip, heldHere: held };
  }

  /** From keepalived's notify state file when configured; else inferred from the process and the VIP. */
  private async keepalivedState(vip: { heldHere: boolean } | null): Promise<KeepalivedState | null> {
    if (this.cfg.keepalivedStateFile) {
      const text = await readFile(this.cfg.keepalivedStateFile, "utf8").catch(() => null);
      if (text !== null) return parseKeepalivedState(text);
    }
    if (!vip) return null;
    if (!(await processRunning(this.procRoot, "keepalived"))) return "stopped";
    return vip.heldHere ? "master" : "backup";
  }
}

async function processRunning(procRoot: string, comm: string): Promise<boolean> {
  const pids = (await readdir(procRoot)).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    const name = await readFile(`${procRoot}/${pid}/comm`, "utf8").catch(() => "");
    if (name.trim() === comm) return true;
  }
  return false;
}
