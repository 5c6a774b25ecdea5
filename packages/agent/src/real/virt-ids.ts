import { notFound } from "../errors.js";
import { virshError } from "./parse/libvirt-errors.js";
import { parseUuidList } from "./parse/virsh.js";
import type { Tool } from "./tool.js";

/**
 * The virt driver addresses domains by UUID. By name, virsh would look a "5" up as domain id 5
 * first, read "--all" as an option, and the table of `virsh list` escapes non-ASCII names under
 * LC_ALL=C, so a name read from it does not name anything. Requests name a domain; this turns
 * the name into its UUID from `list --uuid --name`, which prints names as libvirt has them.
 */
export async function domainUuid(virsh: Tool, name: string): Promise<string | null> {
  let text: string;
  try {
    text = await virsh.run(["list", "--all", "--uuid", "--name"]);
  } catch (e) {
    throw virshError(e, "the list of domains");
  }
  return parseUuidList("virsh list", text).find((d) => d.name === name)?.uuid ?? null;
}

/** As domainUuid, for a request that needs the domain: notFound naming `what` when it is not here. */
export async function requireDomainUuid(virsh: Tool, name: string, what: string): Promise<string> {
  const uuid = await domainUuid(virsh, name);
  if (uuid === null) throw notFound(what);
  return uuid;
}
