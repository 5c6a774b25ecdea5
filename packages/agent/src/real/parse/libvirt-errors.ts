import { AgentErrorCode } from "@nimbus/domain";
import { AgentError, cut } from "../../errors.js";

/**
 * libvirt's error messages (what virsh prints on stderr as "error: ...") in words a user can act
 * on, with the code the server branches on. Without this a user read "failed: error: Unsafe
 * migration: Migration without shared storage is unsafe".
 */

type Code = (typeof AgentErrorCode)[keyof typeof AgentErrorCode];

export interface LibvirtFailure {
  code: Code;
  /** Reads after "failed: " or "<what>: "; names no host (callers do). */
  reason: string;
  /** libvirt's own message, cut, for data and logs. */
  detail: string;
}

interface Rule {
  match: RegExp;
  code: Code;
  reason: (detail: string) => string;
}

// First match wins: specific messages before the families they belong to; an unreachable
// daemon first ("Failed to connect socket ...: No such file or directory" is not a disk).
const RULES: Rule[] = [
  {
    match: /failed to connect to the hypervisor|unable to connect|Failed to connect socket|Connection refused|No route to host|Cannot recv data|End of file while reading|Connection reset|Name or service not known/i,
    code: AgentErrorCode.toolFailed,
    reason: (d) => `libvirt could not be reached (${d})`,
  },
  {
    match: /Domain snapshot not found|no domain snapshot with matching/i,
    code: AgentErrorCode.notFound,
    reason: () => "there is no such snapshot",
  },
  {
    match: /domain (moment|snapshot) .* already exists/i,
    code: AgentErrorCode.conflict,
    reason: () => "a snapshot with that name already exists; pick another name",
  },
  {
    match: /Migration without shared storage is unsafe/i,
    code: AgentErrorCode.conflict,
    reason: () =>
      "its disk is not on shared storage that both hosts see, and libvirt refuses to live-migrate such a VM; move the disk to a datastore mounted on both hosts first",
  },
  {
    match: /Unsafe migration:.*cache/i,
    code: AgentErrorCode.conflict,
    reason: () => "a disk uses a cache mode that is unsafe to migrate (only cache='none' or 'directsync' is); change the disk's cache mode first",
  },
  {
    match: /not supported by the connection driver|Operation not supported|unsupported configuration|this function is not supported/i,
    code: AgentErrorCode.unsupported,
    reason: (d) => `this host's hypervisor does not support it (libvirt: ${d})`,
  },
  {
    match: /Domain not found|no domain with matching|failed to get domain|Storage pool not found|no storage pool with matching/i,
    code: AgentErrorCode.notFound,
    reason: () => "it is not defined on this host",
  },
  {
    match: /cannot acquire state change lock/i,
    code: AgentErrorCode.conflict,
    reason: () => "another libvirt operation on this VM has not finished; try again when it has",
  },
  {
    match: /Timed out during operation|operation timed out/i,
    code: AgentErrorCode.toolFailed,
    reason: (d) => `libvirt timed out (${d})`,
  },
  {
    match: /canceled by client|operation aborted/i,
    code: AgentErrorCode.conflict,
    reason: () => "it was cancelled",
  },
  {
    match: /another migration job is already running|active block job|already being migrated|job .* is already running/i,
    code: AgentErrorCode.conflict,
    reason: () => "the VM already has a migration or disk job running",
  },
  {
    match: /domain is not running|not running/i,
    code: AgentErrorCode.conflict,
    reason: () => "the VM is not running",
  },
  {
    match: /already running|is already active/i,
    code: AgentErrorCode.conflict,
    reason: () => "the VM is already running",
  },
  {
    match: /already exists/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `a VM with the same name or UUID already exists there (libvirt: ${d})`,
  },
  {
    match: /incompatible with host CPU|does not provide required features|guest CPU doesn't match/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `the destination's CPU lacks features the VM uses (libvirt: ${d})`,
  },
  {
    match: /Cannot allocate memory|not enough memory|Out of memory/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `not enough free memory (libvirt: ${d})`,
  },
  {
    match: /Cannot access storage file|Storage source .* not found|Could not open '[^']*': No such file or directory/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `a disk file cannot be reached (libvirt: ${d})`,
  },
  {
    match: /Network not found|Cannot get interface MTU|network '[^']*' is not active|Cannot find bridge|No such device/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `a network or bridge the VM needs is missing (libvirt: ${d})`,
  },
  {
    match: /authentication failed|Permission denied|access denied|not authorized/i,
    code: AgentErrorCode.toolFailed,
    reason: (d) => `libvirt refused access (${d})`,
  },
  {
    match: /Requested operation is not valid/i,
    code: AgentErrorCode.conflict,
    reason: (d) => `the VM is not in a state that allows it (libvirt: ${d})`,
  },
];

/**
 * What virsh said on stderr, as libvirt's messages: its "error: " lines without the prefix (the
 * last lines when there are none). "Failed to start domain 'x'" only repeats the request (and
 * quotes a name that could say anything), so it is left out when another line says why.
 */
function messages(stderr: string): string[] {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /^error:/i.test(l)).map((l) => l.replace(/^error:\s*/i, ""));
  const telling = errors.filter((l) => !/^Failed to \S+ (domain|pool)\b/i.test(l));
  return (telling.length ? telling : errors.length ? errors : lines.slice(-2)).map((l) => cut(l, 300));
}

/** libvirt's last message in virsh's stderr, cut to a few hundred characters. */
export const libvirtMessage = (stderr: string): string => messages(stderr).at(-1) ?? "";

/** What a libvirt failure means, from virsh's stderr. Unknown messages stay toolFailed with libvirt's words. */
export function classifyLibvirt(stderr: string): LibvirtFailure {
  const all = messages(stderr);
  const detail = all.at(-1) ?? "";
  // Rules read every message: "failed to connect to the hypervisor" may come before the detail.
  const text = all.join("\n");
  for (const r of RULES) if (r.match.test(text)) return { code: r.code, reason: r.reason(detail), detail };
  return { code: AgentErrorCode.toolFailed, reason: detail ? `libvirt said: ${detail}` : "virsh failed without a message", detail };
}

/** virsh's stderr when `err` is a virsh call that failed with something to say; else null. */
function virshStderr(err: unknown): string | null {
  if (!(err instanceof AgentError) || err.code !== AgentErrorCode.toolFailed || err.data?.tool !== "virsh") return null;
  const stderr = err.data.stderr;
  // Killed, timed out or not installed: run.ts already said it in words.
  return typeof stderr === "string" && libvirtMessage(stderr) ? stderr : null;
}

/**
 * Why a step of a longer job (a migration, a disk copy) failed, to follow "failed: ": libvirt's
 * message classified when it was virsh, else the last line of the error's own message.
 */
export function failureOf(err: unknown): { code: Code; reason: string; detail: string | null } {
  const stderr = virshStderr(err);
  if (stderr !== null) return classifyLibvirt(stderr);
  const message = err instanceof Error ? err.message : String(err);
  return { code: AgentErrorCode.toolFailed, reason: lastLine(message), detail: null };
}

const lastLine = (s: string) => cut(s.trim().split("\n").filter(Boolean).pop() ?? "", 300);

/**
 * A failed virsh call as the typed error the server shows: `what` (e.g. "domain web1 on kvm1")
 * and the reason in words. Errors that are not a virsh failure (a parse error, a bug) pass through.
 */
export function virshError(err: unknown, what: string): unknown {
  const stderr = virshStderr(err);
  if (stderr === null) return err;
  const f = classifyLibvirt(stderr);
  const message = f.code === AgentErrorCode.notFound ? `${what} not found` : `${what}: ${f.reason}`;
  return new AgentError(f.code, message, { ...(err as AgentError).data, libvirt: f.detail });
}
