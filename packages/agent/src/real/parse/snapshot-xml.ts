import { XMLParser, XMLValidator } from "fast-xml-parser";
import { snapshotState, type DomainState, type SnapshotDisk } from "@nimbus/domain";
import { cut, unparseable } from "../../errors.js";
import { integer } from "./text.js";

type Node = Record<string, unknown>;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => name === "disk",
});

const obj = (v: unknown): Node => (v && typeof v === "object" && !Array.isArray(v) ? (v as Node) : {});
const attr = (n: unknown, name: string): string | null => {
  const v = obj(n)[`@${name}`];
  return typeof v === "string" ? v : null;
};
const text = (n: unknown): string | null => (typeof n === "string" ? n : typeof obj(n)["#text"] === "string" ? (obj(n)["#text"] as string) : null);

function parse(tool: string, source: string): Node {
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw unparseable(tool, `invalid XML: ${cut(valid.err.msg, 120)} (line ${valid.err.line})`, source);
  return xml.parse(source) as Node;
}

/** `virsh dumpxml` -> each disk's target and format (`<driver type=…>`), for the snapshot rule. CD-ROMs hold no snapshot. */
export function parseDiskFormats(source: string): SnapshotDisk[] {
  const devices = obj(obj(parse("virsh dumpxml", source).domain).devices);
  const disks = Array.isArray(devices.disk) ? devices.disk.map(obj) : [];
  return disks.flatMap((d) => {
    const target = attr(d.target, "dev");
    if ((attr(d, "device") ?? "disk") !== "disk" || !target) return [];
    return [{ target, format: attr(d.driver, "type") }];
  });
}

export interface SnapshotXml {
  name: string;
  description: string;
  state: DomainState;
  createdAt: string;
}

/** `virsh snapshot-dumpxml` -> name, description, the VM's state then, creation time (ISO). */
export function parseSnapshotXml(source: string): SnapshotXml {
  const TOOL = "virsh snapshot-dumpxml";
  const snap = obj(parse(TOOL, source).domainsnapshot);
  const name = text(snap.name);
  const state = text(snap.state);
  const seconds = integer(text(snap.creationTime) ?? undefined);
  if (!name || !state || seconds === null) throw unparseable(TOOL, "a snapshot without name, state or creationTime", source);
  return { name, description: text(snap.description) ?? "", state: snapshotState(state), createdAt: new Date(seconds * 1000).toISOString() };
}
