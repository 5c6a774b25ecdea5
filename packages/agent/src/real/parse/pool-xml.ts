import { XMLParser, XMLValidator } from "fast-xml-parser";
import { unparseable } from "../../errors.js";

const xml = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

/** `virsh pool-dumpxml POOL`: the pool's name and target directory (to name the pool of file disks). */
export function parsePoolXml(source: string): { name: string; targetPath: string | null } {
  if (XMLValidator.validate(source) !== true) throw unparseable("virsh pool-dumpxml", "invalid XML", source);
  const pool = xml.parse(source).pool as { name?: unknown; target?: { path?: unknown } } | undefined;
  if (!pool || typeof pool.name !== "string") throw unparseable("virsh pool-dumpxml", "no <pool><name>", source);
  return { name: pool.name, targetPath: typeof pool.target?.path === "string" ? pool.target.path : null };
}
