import { access, stat, unlink } from "node:fs/promises";
import { AgentErrorCode, type MoveDiskParams, type StorageMoveProgress } from "@nimbus/domain";
import type { JobContext } from "../drivers.js";
import { AgentError, conflict, notFound } from "../errors.js";
import type { AgentConfig } from "./config.js";
import type { Log } from "./log.js";
import { parseDomainXml } from "./parse/domain-xml.js";
import { failureOf, virshError } from "./parse/libvirt-errors.js";
import { parseDomstate } from "./parse/virsh.js";
import type { Tool } from "./tool.js";
import { sleep } from "./util.js";
import { blockcopyArgs, convertArgs, parseBlockjobRaw, parseQemuImgInfo, withDiskSource } from "./virt-disk-parse.js";
import { requireDomainUuid } from "./virt-ids.js";
import { defineDomainXml } from "./virsh-define.js";

export interface DiskMoveDeps {
  host: string;
  virsh: Tool;
  qemuImg: Tool;
  cfg: AgentConfig["virt"];
  log: Log;
}

const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * Moves one disk to another datastore. Running VM: `virsh blockcopy --wait --pivot` mirrors the
 * disk while the guest writes, then switches it over. VM off: `qemu-img convert`, then `qemu-img
 * compare`, then the definition is rewritten. Either way the persistent definition is checked to
 * point at the new file, and only then is the old file deleted. Before the switch any failure or
 * cancel removes the partial copy; the VM never stops using a complete disk.
 */
export async function moveDiskReal(d: DiskMoveDeps, p: MoveDiskParams, ctx: JobContext<StorageMoveProgress>): Promise<void> {
  const what = `domain ${p.domain} on ${d.host}`;
  const id = await requireDomainUuid(d.virsh, p.domain, what);
  const state = await d.virsh.run(["domstate", "--reason", "--", id]).then(parseDomstate, (e) => {
    throw virshError(e, what);
  });
  const live = state.state === "running" || state.state === "paused";
  if (!live && state.state !== "shutoff") throw conflict(`cannot copy the disk of ${what}: it is ${state.state}`);
  const disk = parseDomainXml(await d.virsh.run(["dumpxml", ...(live ? [] : ["--inactive"]), "--", id])).disks.find((k) => k.target === p.disk);
  if (!disk) throw notFound(`disk ${p.disk} of ${p.domain}`);
  const source = disk.path;
  if (source === p.destinationPath) throw conflict(`${p.disk} of ${p.domain} already uses ${source}`);
  if (await exists(p.destinationPath)) throw conflict(`${p.destinationPath} already exists on ${d.host}`);
  // -U: a running guest holds the image lock; reading its header is safe.
  const info = parseQemuImgInfo(await d.qemuImg.run(["info", "--output=json", ...(live ? ["-U"] : []), source]));
  const mode = live ? "live" : "offline";
  const progress = tracker(ctx, mode, info.actualSize);

  let switched = false;
  try {
    progress.report("preparing");
    if (live) await liveCopy(d, p, id, info.format, ctx, progress);
    else await offlineCopy(d, p, source, info.format, ctx, progress);
    progress.report("verifying");
    if (!live) await d.qemuImg.run(["compare", "-f", info.format, "-F", info.format, source, p.destinationPath], { timeoutMs: d.cfg.migrationTimeoutMs });
    progress.report("switchover");
    switched = live; // blockcopy --pivot already switched the running domain
    await pointDefinitionAt(d, p, id);
    switched = true;
    await verifyUses(d, p, id, live);
  } catch (e) {
    if (!switched) await unlink(p.destinationPath).catch(() => undefined);
    const failure = failureOf(e);
    const why = ctx.signal.aborted ? "was cancelled" : `failed: ${failure.reason}`;
    const where = switched ? `${p.domain} now uses ${p.destinationPath}; the old copy ${source} was kept` : `${p.domain} still uses ${source}`;
    throw new AgentError(ctx.signal.aborted ? AgentErrorCode.conflict : failure.code, `${live ? "block copy" : "copy"} of ${p.domain} ${p.disk} to ${p.destinationPath} ${why}; ${where}`, {
      domain: p.domain,
      host: d.host,
    });
  }
  progress.report("cleanup");
  await unlink(source).catch((e) => d.log("warn", `${p.domain} moved to ${p.destinationPath}, but its old copy ${source} could not be deleted: ${(e as Error).message}`));
}

function tracker(ctx: JobContext<StorageMoveProgress>, mode: "live" | "offline", total: number) {
  let last: StorageMoveProgress = { kind: "storage-move", phase: "preparing", mode, bytesTotal: total, bytesCopied: 0, bandwidthBytesPerSec: 0, percent: 0 };
  let sampledAt = Date.now();
  return {
    report(phase: StorageMoveProgress["phase"]) {
      ctx.report((last = { ...last, phase, bandwidthBytesPerSec: phase === "copying" ? last.bandwidthBytesPerSec : 0 }));
    },
    /** A new sample of bytes copied (of `end`, which grows while a live guest writes). */
    copied(bytes: number, end = total) {
      const now = Date.now();
      const rate = now > sampledAt ? Math.max(0, ((bytes - last.bytesCopied) * 1000) / (now - sampledAt)) : 0;
      sampledAt = now;
      const percent = Math.min(99, Math.max(last.percent, end > 0 ? Math.round((1000 * bytes) / end) / 10 : 0));
      ctx.report((last = { ...last, phase: "copying", bytesTotal: end, bytesCopied: bytes, bandwidthBytesPerSec: Math.round(rate), percent }));
    },
  };
}

async function liveCopy(d: DiskMoveDeps, p: MoveDiskParams, id: string, format: string, ctx: JobContext<StorageMoveProgress>, progress: ReturnType<typeof tracker>) {
  const abort = () =>
    void d.virsh.run(["blockjob", "--abort", "--", id, p.disk], { timeoutMs: 15_000 }).catch((e) => d.log("warn", `blockjob --abort ${p.domain} ${p.disk}: ${(e as Error).message}`));
  ctx.signal.addEventListener("abort", abort, { once: true });
  let running = true;
  const copy = d.virsh.run(blockcopyArgs(p, format, id), { timeoutMs: d.cfg.migrationTimeoutMs, maxBytes: 1024 * 1024 }).finally(() => (running = false));
  const sampler = (async () => {
    while (running) {
      await sleep(d.cfg.progressIntervalMs);
      if (!running) break;
      if (ctx.signal.aborted) abort();
      const job = await d.virsh.run(["blockjob", "--raw", "--", id, p.disk], { timeoutMs: 10_000 }).then(parseBlockjobRaw, () => null);
      if (job && running) progress.copied(job.cur, job.end);
    }
  })();
  try {
    await copy;
  } finally {
    ctx.signal.removeEventListener("abort", abort);
    await sampler;
  }
}

async function offlineCopy(d: DiskMoveDeps, p: MoveDiskParams, source: string, format: string, ctx: JobContext<StorageMoveProgress>, progress: ReturnType<typeof tracker>) {
  let running = true;
  const copy = d.qemuImg.run(convertArgs(p, source, format), { timeoutMs: d.cfg.migrationTimeoutMs, signal: ctx.signal }).finally(() => (running = false));
  const sampler = (async () => {
    while (running) {
      await sleep(d.cfg.progressIntervalMs);
      const st = await stat(p.destinationPath).catch(() => null);
      if (st && running) progress.copied(st.blocks * 512);
    }
  })();
  try {
    await copy;
  } finally {
    await sampler;
  }
}

/** Makes the persistent definition use the new file (libvirt may or may not have done so at pivot). */
async function pointDefinitionAt(d: DiskMoveDeps, p: MoveDiskParams, id: string): Promise<void> {
  const inactive = await d.virsh.run(["dumpxml", "--inactive", "--", id]);
  if (parseDomainXml(inactive).disks.find((k) => k.target === p.disk)?.path === p.destinationPath) return;
  await defineDomainXml(d.virsh, withDiskSource(inactive, p.disk, p.destinationPath));
}

async function verifyUses(d: DiskMoveDeps, p: MoveDiskParams, id: string, live: boolean): Promise<void> {
  const views = live ? [["dumpxml", "--", id], ["dumpxml", "--inactive", "--", id]] : [["dumpxml", "--inactive", "--", id]];
  for (const args of views) {
    const path = parseDomainXml(await d.virsh.run(args)).disks.find((k) => k.target === p.disk)?.path;
    if (path !== p.destinationPath) throw new Error(`${args.join(" ")} still shows ${path ?? "no disk"} for ${p.disk}`);
  }
}
