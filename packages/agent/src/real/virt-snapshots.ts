import { AgentErrorCode, DOMAIN_SNAPSHOTS_MAX, SnapshotName, snapshotState, snapshotsAllowed, type DomainSnapshots, type Snapshot, type SnapshotCreateParams, type SnapshotListResult, type SnapshotTarget } from "@nimbus/domain";
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
  return { allowed: rule, snapshots: await readSnapshots(t, uuid, snapshotNames(names), current, what(t, domain)) };
}

/** `snapshot-list --name` as names a request could name back (snapshots made outside Nimbus with other names are left out), sorted. */
export function snapshotNames(text: string): string[] {
  return text
    .split("\n")
    .map((n) => n.trim())
    .filter((n) => SnapshotName.safeParse(n).success)
    .sort();
}

/** Each named snapshot's XML (four at a time), oldest first; one deleted meanwhile is left out. */
export async function readSnapshots(t: SnapshotTools, uuid: string, names: readonly string[], current: string | null, subject: string): Promise<Snapshot[]> {
  const snapshots = await mapLimit([...names], 4, async (name): Promise<Snapshot | null> => {
    try {
      const x = parseSnapshotXml(await t.virsh.run(["snapshot-dumpxml", `--domain=${uuid}`, `--snapshotname=${name}`]));
      return { ...x, current: x.name === current };
    } catch (e) {
      // Deleted between the list and its dumpxml: gone.
      const typed = virshError(e, `snapshot ${name} of ${subject}`);
      if (typed instanceof AgentError && typed.code === AgentErrorCode.notFound) return null;
      throw typed;
    }
  });
  return snapshots.filter((s): s is Snapshot => s !== null).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
}

/**
 * A domain's snapshots for the virt section. `names` is its `snapshot-list --name` of this
 * refresh; the snapshots' XML is read again only when that list differs from the one `cached`
 * was read for (or the cache was dropped after Nimbus took, reverted or deleted one). At most
 * 256 are read; the newest DOMAIN_SNAPSHOTS_MAX are listed, `total` counts all.
 */
export async function domainSnapshots(
  t: SnapshotTools,
  uuid: string,
  namesText: string,
  domainXml: string,
  cached: { key: string; value: DomainSnapshots } | undefined,
): Promise<{ key: string; value: DomainSnapshots }> {
  const names = snapshotNames(namesText);
  const key = names.join("\n");
  const allowed = snapshotsAllowed(parseDiskFormats(domainXml));
  if (cached && cached.key === key) return { key, value: { ...cached.value, allowed } };
  const current = names.length ? await t.virsh.run(["snapshot-current", "--name", `--domain=${uuid}`]).then((s) => s.trim(), () => null) : null;
  const items = names.length ? await readSnapshots(t, uuid, names.slice(0, 256), current, `domain ${uuid} on ${t.host}`) : [];
  return { key, value: { allowed, items: items.slice(-DOMAIN_SNAPSHOTS_MAX), total: names.length } };
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
