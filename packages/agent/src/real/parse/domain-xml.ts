import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ImageName, TenantSlug, VlanId, type DomainNic } from "@nimbus/domain";
import { cut, quote, unparseable } from "../../errors.js";
import { integer } from "./text.js";

/**
 * `virsh dumpxml DOMAIN` -> what Nimbus shows of a VM. State, persistence and autostart are not
 * in the XML; they come from dominfo.
 *
 * Tenant and role live in the domain's metadata under Nimbus's own namespace (the libvirt way
 * to attach application data; `virsh metadata DOMAIN https://nimbus.dev/xmlns/1 --key nimbus
 * --set '<instance tenant="acme" role="web"/>'` writes it):
 *
 *   <metadata>
 *     <nimbus:instance xmlns:nimbus="https://nimbus.dev/xmlns/1" tenant="acme" role="web"/>
 *   </metadata>
 *
 * A domain without it (or with a tenant that is not a valid tenant id) is infrastructure:
 * tenant null, so no tenant ever sees it.
 */
export const NIMBUS_XMLNS = "https://nimbus.dev/xmlns/1";

export interface DomainXmlDisk {
  target: string;
  path: string;
  pool: string | null;
}

export interface DomainXml {
  name: string;
  uuid: string;
  vcpus: number;
  memoryMiB: number;
  tenant: string | null;
  role: string | null;
  /** The image a Nimbus-created instance was built from (metadata); absent otherwise. */
  image?: string;
  cpuModel: string | null;
  cpuFeatures: string[];
  disks: DomainXmlDisk[];
  nics: DomainNic[];
}

const TOOL = "virsh dumpxml";
type Node = Record<string, unknown>;

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  isArray: (name) => ["disk", "interface", "feature", "tag"].includes(name),
});

const obj = (v: unknown): Node => (v && typeof v === "object" && !Array.isArray(v) ? (v as Node) : {});
const list = (v: unknown): Node[] => (Array.isArray(v) ? v.map(obj) : []);
const attr = (n: unknown, name: string): string | null => {
  const v = obj(n)[`@${name}`];
  return typeof v === "string" ? v : null;
};
/** Element text, whether or not the element has attributes. */
const text = (n: unknown): string | null => (typeof n === "string" ? n : typeof obj(n)["#text"] === "string" ? (obj(n)["#text"] as string) : null);

const UNIT_BYTES: Record<string, number> = {
  b: 1, bytes: 1, k: 1024, KiB: 1024, KB: 1000, M: 1024 ** 2, MiB: 1024 ** 2, MB: 1000 ** 2,
  G: 1024 ** 3, GiB: 1024 ** 3, GB: 1000 ** 3, T: 1024 ** 4, TiB: 1024 ** 4,
};

export function parseDomainXml(source: string): DomainXml {
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw unparseable(TOOL, `invalid XML: ${cut(valid.err.msg, 120)} (line ${valid.err.line})`, source);
  const domain = obj(xml.parse(source).domain);
  const fail = (reason: string): never => {
    throw unparseable(TOOL, reason, source);
  };
  const name = text(domain.name) ?? fail("no <name>");
  const uuid = text(domain.uuid) ?? fail("no <uuid>");
  const vcpuText = attr(domain.vcpu, "current") ?? text(domain.vcpu) ?? fail("no <vcpu>");
  const memText = text(domain.memory) ?? fail("no <memory>");
  const vcpus = integer(vcpuText.trim()) || fail(`vcpu ${quote(vcpuText)} is not a positive whole number`);
  const memValue = integer(memText.trim()) || fail(`memory ${quote(memText)} is not a positive whole number`);
  const unitName = attr(domain.memory, "unit") ?? "KiB";
  const unit = Object.hasOwn(UNIT_BYTES, unitName) ? UNIT_BYTES[unitName]! : fail(`unknown memory unit ${quote(unitName)}`);
  const devices = obj(domain.devices);
  const meta = nimbusMetadata(obj(domain.metadata));
  const cpu = cpuOf(obj(domain.cpu));
  return {
    name,
    uuid,
    vcpus,
    memoryMiB: (memValue * unit) / 1024 ** 2,
    tenant: meta.tenant,
    role: meta.role,
    ...(meta.image ? { image: meta.image } : {}),
    cpuModel: cpu.model,
    cpuFeatures: cpu.features,
    disks: list(devices.disk).flatMap(diskOf),
    nics: list(devices.interface).map((n) => nicOf(n, source)),
  };
}

function nimbusMetadata(metadata: Node): { tenant: string | null; role: string | null; image: string | null } {
  for (const [key, value] of Object.entries(metadata)) {
    const el = obj(Array.isArray(value) ? value[0] : value);
    const local = key.includes(":") ? key.slice(key.indexOf(":") + 1) : key;
    const inNamespace = Object.entries(el).some(([k, v]) => (k === "@xmlns" || k.startsWith("@xmlns:")) && v === NIMBUS_XMLNS);
    if (local !== "instance" || !inNamespace) continue;
    const tenant = attr(el, "tenant");
    const image = attr(el, "image");
    return { tenant: tenant && TenantSlug.safeParse(tenant).success ? tenant : null, role: attr(el, "role"), image: image && ImageName.safeParse(image).success ? image : null };
  }
  return { tenant: null, role: null, image: null };
}

function cpuOf(cpu: Node): { model: string | null; features: string[] } {
  const mode = attr(cpu, "mode");
  const features = list(cpu.feature)
    .filter((f) => ["require", "force", null].includes(attr(f, "policy")))
    .map((f) => attr(f, "name"))
    .filter((n): n is string => n !== null);
  const model = mode === "host-passthrough" || mode === "host-model" || mode === "maximum" ? mode : text(cpu.model);
  return { model, features };
}

function diskOf(disk: Node): DomainXmlDisk[] {
  const device = attr(disk, "device") ?? "disk";
  const target = attr(disk.target, "dev");
  const src = obj(disk.source);
  if (device !== "disk" || !target) return [];
  const pool = attr(src, "pool");
  const path =
    attr(src, "file") ??
    attr(src, "dev") ??
    (pool ? `${pool}/${attr(src, "volume") ?? ""}` : null) ??
    (attr(src, "protocol") ? `${attr(src, "protocol")}://${attr(src, "name") ?? ""}` : null);
  return path ? [{ target, path, pool }] : [];
}

function nicOf(nic: Node, source: string): DomainNic {
  const type = attr(nic, "type");
  const src = obj(nic.source);
  const mac = attr(nic.mac, "address");
  if (!mac) throw unparseable(TOOL, "an <interface> without <mac address>", source);
  const ovs = attr(nic.virtualport, "type") === "openvswitch";
  const bridge = attr(src, "bridge") ?? attr(src, "network") ?? attr(src, "dev") ?? (type === "ethernet" ? attr(nic.target, "dev") : null) ?? "";
  const vlanEl = obj(nic.vlan);
  const tags = list(vlanEl.tag).map((t) => integer(attr(t, "id") ?? undefined));
  const access = attr(vlanEl, "trunk") !== "yes" && tags.length === 1 ? VlanId.safeParse(tags[0]) : null;
  return {
    mac,
    bridge,
    bridgeType: ovs ? "ovs" : "linux",
    device: attr(nic.target, "dev"),
    vlan: access?.success ? access.data : null,
    model: attr(nic.model, "type"),
    ipAddresses: [],
  };
}
