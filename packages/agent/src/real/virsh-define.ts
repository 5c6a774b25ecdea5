import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { virshDefineArgs } from "@nimbus/domain";
import type { RunOptions } from "./run.js";
import type { Tool } from "./tool.js";

/**
 * `virsh define` of an XML text. virsh reads a file, never our stdin: Node gives a child a socket
 * for stdin, and `/dev/stdin` on a socket fails ("Failed to open file /dev/stdin: No such device
 * or address"). The file sits in a private directory (mkdtemp: 0700), removed right after.
 */
export async function defineDomainXml(virsh: Tool, xml: string, opts: Omit<RunOptions, "label" | "prefixArgs"> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nimbus-define-"));
  try {
    const file = join(dir, "domain.xml");
    await writeFile(file, xml, { mode: 0o600 });
    return await virsh.run(virshDefineArgs(file), opts);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
