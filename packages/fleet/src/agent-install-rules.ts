import type { RemoteResult } from "./remote-command.js";

/** Pure rules of installing the agent: what a host's answers mean and where the files go. */

export const DEFAULT_AGENT_DIR = ".nimbus/agent";
export const DEFAULT_AGENT_COMMAND = "nimbus-agent";

/**
 * The uploaded agent's path carries its version, so several versions coexist (two servers of
 * different versions, a rollback) and a file under that name is only ever a complete upload:
 * the bytes go to `part` first and are renamed once verified.
 */
export function agentFiles(dir: string, version: string): { file: string; part: string } {
  const file = `${dir.replace(/\/+$/, "")}/nimbus-agent-${version}.cjs`;
  return { file, part: `${file}.part` };
}

/** Single-quotes for a POSIX shell (sshd runs exec commands through the login shell). */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export const serveCommand = (program: string) => `${program} serve --stdio`;

/** The lowest Node.js major the bundle's manifest asks for (`">=20"`), 20 when it says nothing usable. */
export function minNodeMajor(range: string | undefined): number {
  const m = range?.match(/^\s*>=\s*v?(\d+)/);
  return m ? Number(m[1]) : 20;
}

export type NodeFound = { kind: "none" } | { kind: "version"; text: string; major: number } | { kind: "unusable"; text: string };

/** What `node --version` says about the host's Node.js: missing (127: the shell found no node), a version, or something else. */
export function nodeFound(result: RemoteResult): NodeFound {
  // Line-wise: a chatty shell start-up file may print before node does.
  const m = result.stdout.match(/^(v(\d+)\.\d+\.\d+\S*)\s*$/m);
  if (result.code === 0 && m) return { kind: "version", text: m[1]!, major: Number(m[2]) };
  if (result.code === 127) return { kind: "none" };
  return { kind: "unusable", text: describeFailure("node --version", result) };
}

/** `"CMD" exited N: first line it said`, for messages about a check that went wrong. */
export function describeFailure(command: string, result: RemoteResult): string {
  const said = (result.stderr.trim() || result.stdout.trim()).split("\n")[0]!.slice(0, 160);
  return `"${command}" ${result.code === null ? "ended without status" : `exited ${result.code}`}${said ? `: ${said}` : ""}`;
}

/** The row's message when the host cannot run the agent; null when its Node.js is good enough. */
export function nodeProblem(host: string, found: NodeFound, minMajor: number): string | null {
  if (found.kind === "version" && found.major >= minMajor) return null;
  const what = found.kind === "none" ? "none" : found.text;
  return (
    `${host}: Node.js ${minMajor} or newer is needed to run the Nimbus agent (found: ${what}). ` +
    `Install it, e.g. \`apt-get install nodejs\` on Debian 13 or Ubuntu 24.04 (older releases ship an older one: use the NodeSource packages); ` +
    `Nimbus then installs the agent by itself on its next attempt.`
  );
}

/** The hash `sha256sum FILE` printed, or null (file missing, tool missing, or anything unexpected). */
export function sha256sumOutput(result: RemoteResult): string | null {
  if (result.code !== 0) return null;
  const m = result.stdout.match(/^\\?([0-9a-f]{64})\s/m);
  return m ? m[1]! : null;
}
