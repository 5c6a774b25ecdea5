import type { Mount } from "@nimbus/domain";
import { quote, unparseable } from "../../errors.js";
import { integer, toInt } from "./text.js";

/** NFS server and client facts: showmount, rpcinfo, df, /proc/mounts, keepalived state. */

/** `showmount -e HOST`: "Export list for HOST:" then "PATH CLIENTS" lines. */
export function parseShowmount(text: string): { path: string; clients: string[] }[] {
  const tool = "showmount";
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (!/^Export list for .*:$/.test(lines[0]?.trim() ?? "")) throw unparseable(tool, 'no "Export list for" header', text);
  return lines.slice(1).map((line) => {
    const m = /^(\/\S*)\s*(.*)$/.exec(line.trim());
    if (!m) throw unparseable(tool, `${quote(line.trim())} is not an export`, text);
    const clients = m[2]!.trim();
    return { path: m[1]!, clients: clients === "" || clients === "(everyone)" ? ["*"] : clients.split(",").map((c) => c.trim()) };
  });
}

export interface RpcProgram {
  program: number;
  version: number;
  proto: string;
  port: number;
  service: string | null;
}

/** `rpcinfo -p HOST` */
export function parseRpcinfo(text: string): RpcProgram[] {
  const tool = "rpcinfo";
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (!/^program\s+vers\s+proto\s+port/.test(lines[0]?.trim() ?? "")) throw unparseable(tool, "no program/vers/proto/port header", text);
  return lines.slice(1).map((line) => {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) throw unparseable(tool, `${quote(line.trim())} has too few fields`, text);
    return {
      program: toInt(tool, f[0], "program", text),
      version: toInt(tool, f[1], "vers", text),
      proto: f[2]!,
      port: toInt(tool, f[3], "port", text),
      service: f[4] ?? null,
    };
  });
}

/** The NFS program number: registered with rpcbind when an NFS server (kernel or ganesha) runs. */
export const NFS_PROGRAM = 100003;

/** `df -B1 --output=size,used,target PATH...`: one line per path, in argument order. */
export function parseDf(text: string): { totalBytes: number; usedBytes: number; target: string }[] {
  const tool = "df";
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (!/^1B-blocks\s+Used\s+Mounted on$/.test(lines[0]?.trim() ?? "")) throw unparseable(tool, "no 1B-blocks/Used/Mounted on header", text);
  return lines.slice(1).map((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.+)$/.exec(line);
    const [total, used] = [integer(m?.[1]), integer(m?.[2])];
    if (!m || total === null || used === null) throw unparseable(tool, `${quote(line.trim())} is not size used target`, text);
    return { totalBytes: total, usedBytes: used, target: m[3]!.trim() };
  });
}

const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Network filesystems a VM disk can live on and still be seen by every hypervisor. */
export const SHARED_FSTYPES = ["nfs", "nfs4", "cifs", "smb3", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph", "ocfs2", "gfs2"];

/**
 * Shared-storage mounts from `/proc/mounts`: network filesystems, plus mount points the agent's
 * config declares shared whatever their type (a clustered filesystem under a bind mount, say).
 */
export function parseNfsMounts(text: string, declaredShared: readonly string[] = []): Mount[] {
  const tool = "/proc/mounts";
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const f = line.split(" ");
    if (f.length < 4) throw unparseable(tool, `${quote(line)} has too few fields`, text);
    const target = unescapeMount(f[1]!);
    if (SHARED_FSTYPES.includes(f[2]!) || declaredShared.includes(target)) out.push({ source: unescapeMount(f[0]!), target, fstype: f[2]! });
  }
  return out;
}

export type KeepalivedState = "master" | "backup" | "fault" | "stopped";

/**
 * A state file written by keepalived's notify script. Scripts write either the bare state or
 * keepalived's notify arguments ("INSTANCE VI_1 MASTER 100"); the last state word counts.
 */
export function parseKeepalivedState(text: string): KeepalivedState {
  const words = text.trim().toUpperCase().split(/\s+/);
  const word = words.reverse().find((w) => ["MASTER", "BACKUP", "FAULT", "STOP", "STOPPED"].includes(w));
  if (!word) throw unparseable("keepalived state file", "no MASTER/BACKUP/FAULT/STOP", text);
  return word === "STOP" || word === "STOPPED" ? "stopped" : (word.toLowerCase() as KeepalivedState);
}
