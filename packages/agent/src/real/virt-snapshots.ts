import { AgentErrorCode, SnapshotName, snapshotState, snapshotsAllowed, type Snapshot, type SnapshotCreateParams, type SnapshotListResult, type SnapshotTarget } from "@nimbus/domain";
import { AgentError, conflict } from "../errors.js";
import { parseDiskFormats, parseSnapshotXml } from "./parse/snapshot-xml.js";
import { virshError } from "./parse/libvirt-errors.js";
import type { Tool } from "./tool.js";
import { mapLimit } from "./util.js";
import { requireDomainUuid } from "./virt-ids.js";

/**
 * Internal snapshots through virsh. The domain is named by UUID; snapshot names are identifiers
 * (SnapshotName) and go as `--opt=value`, so neither can be read as an option.
 */
export interface SnapshotTools {
  host: string;
  virsh: Tool;
}

const what = (t: SnapshotTools, domain: string) => `domain ${domain} on ${t.host}`;

async function run(t: SnapshotTools, args: string[], subject: string): Promise<string> {
  try {
    return await t.virsh.run(args);
  } catch (e) {
    throw virshError(e, subject);
  }
}

async function allowed(t: SnapshotTools, uuid: string, domain: string) {
  return snapshotsAllowed(parseDiskFormats(await run(t, ["dumpxml", "--", uuid], what(t, domain))));
}

export async function listSnapshots(t: SnapshotTools, domain: string): Promise<SnapshotListResult> {
  const uuid = await requireDomainUuid(t.virsh, domain, what(t, domain));
  const [names, current, rule] = await Promise.all([
    run(t, ["snapshot-list", "--name", `--domain=${uuid}`], what(t, domain)),
    // No current snapshot is an error to virsh, not an empty answer.
    t.virsh.run(["snapshot-current", "--name", `--domain=${uuid}`]).then((s) => s.trim(), () => null),
    allowed(t, uuid, domain),
  ]);
  // Snapshots made outside Nimbus may have names no request could name back; they are left out.
  const listed = names.split("\n").map((n) => n.trim()).filter((n) => SnapshotName.safeParse(n).success);
  const snapshots = await mapLimit(listed, 4, async (name): Promise<Snapshot | null> => {
    try {
      const x = parseSnapshotXml(await t.virsh.run(["snapshot-dumpxml", `--domain=${uuid}`, `--snapshotname=${name}`]));
      return { ...x, current: x.name === current };
    } catch (e) {
      // Deleted between the list and its dumpxml: gone.
      const typed = virshError(e, `snapshot ${name} of ${what(t, domain)}`);
      if (typed instanceof AgentError && typed.code === AgentErrorCode.notFound) return null;
      throw typed;
    }
  });
  const found = snapshots.filter((s): s is Snapshot => s !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  return { allowed: rule, snapshots: found };
}

export async function createSnapshot(t: SnapshotTools, p: SnapshotCreateParams): Promise<Snapshot> {
  const uuid = await requireDomainUuid(t.virsh, p.domain, what(t, p.domain));
  const [rule, stateText] = await Promise.all([allowed(t, uuid, p.domain), run(t, ["domstate", "--", uuid], what(t, p.domain))]);
  if (!rule.ok) throw conflict(`${what(t, p.domain)} cannot take a snapshot: ${rule.reason}`);
  const createdAt = new Date().toISOString();
  await run(t, ["snapshot-create-as", `--domain=${uuid}`, `--name=${p.name}`, ...(p.description ? [`--description=${p.description}`] : []), "--atomic"], `snapshot ${p.name} of ${what(t, p.domain)}`);
  // domstate prints "shut off"; the snapshot records the state the VM was in when it was taken.
  return { name: p.name, description: p.description, state: snapshotState(stateText.trim().replace(/\s+/g, "")), createdAt, current: true };
}

export async function revertSnapshot(t: SnapshotTools, p: SnapshotTarget): Promise<void> {
  const uuid = await requireDomainUuid(t.virsh, p.domain, what(t, p.domain));
  await run(t, ["snapshot-revert", `--domain=${uuid}`, `--snapshotname=${p.name}`], `snapshot ${p.name} of ${what(t, p.domain)}`);
}

export async function deleteSnapshot(t: SnapshotTools, p: SnapshotTarget): Promise<void> {
  const uuid = await requireDomainUuid(t.virsh, p.domain, what(t, p.domain));
  await run(t, ["snapshot-delete", `--domain=${uuid}`, `--snapshotname=${p.name}`], `snapshot ${p.name} of ${what(t, p.domain)}`);
}
