import type { MoveDiskParams } from "@nimbus/domain";
import { quote, unparseable } from "../errors.js";
import { integer } from "./parse/text.js";

/**
 * Pure pieces of a disk move on a real host: the tool argument lists, and parsers for what
 * `virsh blockjob --raw`, `qemu-img info --output=json` and `virsh dumpxml --inactive` say.
 */

export interface BlockJob {
  type: string;
  /** Bytes copied and to copy; `cur === end` once the mirror is in sync ("ready"). */
  cur: number;
  end: number;
  bandwidth: number;
}

/**
 * `virsh blockjob DOMAIN TARGET --raw`: " type=Copy\n bandwidth=0\n cur=123\n end=456"; nothing
 * at all when the disk has no block job.
 */
export function parseBlockjobRaw(text: string): BlockJob | null {
  if (!text.trim()) return null;
  const kv = new Map(
    text
      .split("\n")
      .map((l) => /^\s*(\w+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[2]!.trim()]),
  );
  const num = (k: string) => {
    const v = integer(kv.get(k));
    if (v === null) throw unparseable("virsh blockjob", kv.has(k) ? `${k} ${quote(kv.get(k))} is not a whole number` : `missing ${k}`, text);
    return v;
  };
  return { type: kv.get("type") ?? "Unknown", cur: num("cur"), end: num("end"), bandwidth: kv.has("bandwidth") ? num("bandwidth") : 0 };
}

/** `qemu-img info --output=json FILE`: the format to keep and the bytes a copy moves. */
export function parseQemuImgInfo(text: string): { format: string; virtualSize: number; actualSize: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw unparseable("qemu-img info", "not JSON", text);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw unparseable("qemu-img info", "not a JSON object", text);
  const o = raw as Record<string, unknown>;
  if (typeof o.format !== "string" || !/^[a-z0-9]+$/.test(o.format) || typeof o["virtual-size"] !== "number")
    throw unparseable("qemu-img info", "no format or virtual-size", text);
  return { format: o.format, virtualSize: o["virtual-size"], actualSize: typeof o["actual-size"] === "number" ? o["actual-size"] : o["virtual-size"] };
}

/**
 * Live copy: mirror the disk to the new file, wait until in sync, pivot the domain onto it.
 * --transient-job lets libvirt copy a persistent domain's disk (the job is not resumed after a
 * restart: a restart aborts it, leaving the domain on its old disk).
 */
export function blockcopyArgs(p: MoveDiskParams, format: string, id: string = p.domain): string[] {
  const args = ["blockcopy", "--dest", p.destinationPath, "--format", format, "--wait", "--verbose", "--pivot", "--transient-job"];
  if (p.bandwidthMiBps !== null) args.push("--bandwidth", String(p.bandwidthMiBps));
  // The domain (its UUID, see virt-ids.ts) and the disk after "--": never read as options.
  args.push("--", id, p.disk);
  return args;
}

/** Offline copy, format kept, rate-limited (qemu-img's -r takes a size per second, M = MiB). */
export function convertArgs(p: MoveDiskParams, source: string, format: string): string[] {
  const args = ["convert", "-f", format, "-O", format];
  if (p.bandwidthMiBps !== null) args.push("-r", `${p.bandwidthMiBps}M`);
  args.push(source, p.destinationPath);
  return args;
}

const escapeAttr = (s: string) => s.replace(/&/g, "&amp;").replace(/'/g, "&apos;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * The domain XML with one disk's `<source file=...>` pointing elsewhere, everything else byte for
 * byte (so `virsh define` changes nothing but the path). Throws when the disk is not a file disk.
 */
export function withDiskSource(xmlText: string, target: string, path: string): string {
  let replaced = 0;
  const out = xmlText.replace(/<disk\b[\s\S]*?<\/disk>/g, (disk) => {
    if (!new RegExp(`<target\\b[^>]*\\bdev=(['"])${target}\\1`).test(disk)) return disk;
    return disk.replace(/(<source\b[^>]*\bfile=)(['"])[^'"]*\2/, (_m, head: string) => {
      replaced++;
      return `${head}'${escapeAttr(path)}'`;
    });
  });
  if (replaced !== 1) throw unparseable("virsh dumpxml", `no file disk with target ${target}`, xmlText);
  return out;
}
