import { z } from "zod";
import { quote, unparseable } from "../../errors.js";
import { check, parseJson } from "./text.js";

/**
 * `ovs-vsctl --format=json list Bridge|Port|Interface`. OVSDB's JSON table format has typed
 * cells: atoms, ["uuid", id], ["set", [atoms]] (an empty set is how an unset optional column,
 * such as a port's tag, is printed) and ["map", [[k, v], ...]].
 */

const Table = z.object({ headings: z.array(z.string()), data: z.array(z.array(z.unknown())) });
type Cell = string | number | boolean | Cell[] | Record<string, string>;

type Atom = string | number | boolean;
const isAtom = (v: unknown): v is Atom => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** An atom or ["uuid", id] / ["named-uuid", id], the only things sets and maps hold. */
function atom(tool: string, raw: unknown, text: string): Atom {
  if (isAtom(raw)) return raw;
  if (Array.isArray(raw) && raw.length === 2 && (raw[0] === "uuid" || raw[0] === "named-uuid") && typeof raw[1] === "string") return raw[1];
  throw unparseable(tool, `unknown OVSDB value ${quote(raw, 60)}`, text);
}

function cell(tool: string, raw: unknown, text: string): Cell {
  if (isAtom(raw)) return raw;
  if (Array.isArray(raw) && raw.length === 2 && typeof raw[0] === "string") {
    const [tag, value] = raw as [string, unknown];
    if (tag === "uuid" || tag === "named-uuid") return atom(tool, raw, text);
    if (tag === "set" && Array.isArray(value)) return value.map((v) => atom(tool, v, text));
    if (tag === "map" && Array.isArray(value)) {
      const out: Record<string, string> = {};
      for (const pair of value) {
        if (!Array.isArray(pair) || pair.length !== 2) throw unparseable(tool, `OVSDB map entry ${quote(pair, 60)} is not a [key, value] pair`, text);
        // Own keys only: a key such as "__proto__" is data, not the object's prototype.
        Object.defineProperty(out, String(atom(tool, pair[0], text)), { value: String(atom(tool, pair[1], text)), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
  throw unparseable(tool, `unknown OVSDB cell ${quote(raw, 60)}`, text);
}

/** Rows as objects keyed by column; requires the columns a caller reads. */
export function parseOvsTable(table: string, text: string, required: string[]): Record<string, Cell>[] {
  const tool = `ovs-vsctl list ${table}`;
  const t = check(Table, tool, parseJson(tool, text), text);
  for (const col of required) if (!t.headings.includes(col)) throw unparseable(tool, `no column ${col}`, text);
  return t.data.map((row) => {
    if (row.length !== t.headings.length) throw unparseable(tool, "a row does not match the headings", text);
    return Object.fromEntries(t.headings.map((h, i) => [h, cell(tool, row[i], text)]));
  });
}

const str = (c: Cell | undefined): string | null => (typeof c === "string" && c !== "" ? c : null);
/** An optional integer column: the number, or null for the empty set. */
const optInt = (c: Cell | undefined): number | null => (typeof c === "number" ? c : Array.isArray(c) && typeof c[0] === "number" ? c[0] : null);
const ints = (c: Cell | undefined): number[] => (typeof c === "number" ? [c] : Array.isArray(c) ? c.filter((x): x is number => typeof x === "number") : []);
const uuids = (c: Cell | undefined): string[] => (typeof c === "string" ? [c] : Array.isArray(c) ? c.filter((x): x is string => typeof x === "string") : []);
const map = (c: Cell | undefined): Record<string, string> => (c && typeof c === "object" && !Array.isArray(c) ? c : {});
const optStr = (c: Cell | undefined): string | null => (typeof c === "string" ? c : Array.isArray(c) && typeof c[0] === "string" ? c[0] : null);

export interface OvsInterface {
  uuid: string;
  name: string;
  /** "" (system), "internal", "vxlan", "geneve", "gre", "patch", ... */
  type: string;
  options: Record<string, string>;
  externalIds: Record<string, string>;
  mtu: number | null;
  linkState: string | null;
  adminState: string | null;
  /** OVS's status map; for tunnels it names the egress interface and whether it has carrier. */
  status: Record<string, string>;
}

export interface OvsPort {
  uuid: string;
  name: string;
  tag: number | null;
  trunks: number[];
  vlanMode: string | null;
  interfaces: string[];
}

export interface OvsBridgeRow {
  uuid: string;
  name: string;
  ports: string[];
  datapathType: string | null;
}

export function parseOvsInterfaces(text: string): OvsInterface[] {
  return parseOvsTable("Interface", text, ["_uuid", "name", "type", "options", "external_ids", "mtu", "link_state"]).map((r) => ({
    uuid: String(r._uuid),
    name: String(r.name),
    type: typeof r.type === "string" ? r.type : "",
    options: map(r.options),
    externalIds: map(r.external_ids),
    mtu: optInt(r.mtu),
    linkState: optStr(r.link_state),
    adminState: optStr(r.admin_state),
    status: map(r.status),
  }));
}

export function parseOvsPorts(text: string): OvsPort[] {
  return parseOvsTable("Port", text, ["_uuid", "name", "tag", "trunks", "interfaces"]).map((r) => ({
    uuid: String(r._uuid),
    name: String(r.name),
    tag: optInt(r.tag),
    trunks: ints(r.trunks),
    vlanMode: optStr(r.vlan_mode),
    interfaces: uuids(r.interfaces),
  }));
}

export function parseOvsBridges(text: string): OvsBridgeRow[] {
  return parseOvsTable("Bridge", text, ["_uuid", "name", "ports"]).map((r) => ({
    uuid: String(r._uuid),
    name: String(r.name),
    ports: uuids(r.ports),
    datapathType: str(r.datapath_type),
  }));
}
