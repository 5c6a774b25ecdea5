import { toolFailed } from "../../src/real/run.js";
import type { Tool } from "../../src/real/tool.js";
import { sample } from "../fixtures/samples.js";

/**
 * A stand-in for virsh that behaves as virsh does where names go wrong: arguments starting
 * with "--" are options unless they follow "--"; a domain argument is looked up as an id
 * first, then a UUID, then a name; and under LC_ALL=C the tables escape every non-ASCII byte
 * ("caf\xc3\xa9"), while `--uuid`/`--name` lists, XML and dominfo print names as they are.
 */

export interface FakeDomain {
  id: number | null;
  name: string;
  uuid: string;
}

export interface FakePool {
  name: string;
  uuid: string;
  path: string;
}

const BOOL_OPTIONS: Record<string, string[]> = {
  list: ["all", "uuid", "name"],
  "pool-list": ["all", "uuid", "name"],
  dumpxml: ["inactive"],
  domstats: ["block"],
  domstate: ["reason"],
};

/** virsh's table cells under LC_ALL=C: bytes outside printable ASCII as \xNN. */
const escapeForTable = (s: string) =>
  [...Buffer.from(s, "utf8")].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");

const xmlText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => ` ${cells.map((c, i) => c.padEnd(widths[i]!)).join("   ")}`.trimEnd();
  return `${line(header)}\n${"-".repeat(line(header).length + 2)}\n${rows.map(line).join("\n")}\n\n`;
}

export function fakeVirsh(domains: FakeDomain[], pools: FakePool[] = [], calls: string[][] = []): Tool {
  const fail = (args: string[], message: string) => toolFailed({ tool: "virsh", args, exitCode: 1, stderr: `error: ${message}\n` });

  const parse = (args: string[]) => {
    const [cmd, ...rest] = args;
    const opts = new Set<string>();
    const data: string[] = [];
    let dataOnly = false;
    for (const a of rest) {
      if (!dataOnly && a === "--") dataOnly = true;
      else if (!dataOnly && /^--[A-Za-z0-9]/.test(a)) {
        if (!(BOOL_OPTIONS[cmd!] ?? []).includes(a.slice(2))) throw fail(args, `command '${cmd}' doesn't support option ${a}`);
        opts.add(a.slice(2));
      } else data.push(a);
    }
    return { cmd: cmd!, opts, data };
  };

  const domain = (args: string[], ref: string | undefined) => {
    if (ref === undefined) throw fail(args, `command '${args[0]}' requires <domain> option`);
    const d =
      (/^\d+$/.test(ref) ? domains.find((x) => x.id === Number(ref)) : undefined) ??
      domains.find((x) => x.uuid === ref.toLowerCase()) ??
      domains.find((x) => x.name === ref);
    if (!d) throw fail(args, `failed to get domain '${ref}'`);
    return d;
  };

  const pool = (args: string[], ref: string | undefined) => {
    if (ref === undefined) throw fail(args, `command '${args[0]}' requires <pool> option`);
    const p = pools.find((x) => x.uuid === ref) ?? pools.find((x) => x.name === ref);
    if (!p) throw fail(args, `failed to get pool '${ref}'\nerror: Storage pool not found: no storage pool with matching name '${ref}'`);
    return p;
  };

  const run = async (args: string[]): Promise<string> => {
    calls.push(args);
    const { cmd, opts, data } = parse(args);
    switch (cmd) {
      case "version":
        return sample("virsh-test-version.txt");
      case "list":
        if (opts.has("uuid") || opts.has("name"))
          return `${domains.map((d) => [opts.has("uuid") ? d.uuid : null, opts.has("name") ? d.name : null].filter((x) => x !== null).join(" ")).join("\n")}\n\n`;
        return table(["Id", "Name", "State"], domains.map((d) => [d.id === null ? "-" : String(d.id), escapeForTable(d.name), d.id === null ? "shut off" : "running"]));
      case "dumpxml": {
        const d = domain(args, data[0]);
        return sample("virsh-test-dumpxml.xml").replace("<name>test</name>", `<name>${xmlText(d.name)}</name>`).replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${d.uuid}</uuid>`);
      }
      case "dominfo": {
        const d = domain(args, data[0]);
        return sample("virsh-test-dominfo.txt")
          .replace(/^Name:.*$/m, `Name:           ${d.name}`)
          .replace(/^UUID:.*$/m, `UUID:           ${d.uuid}`)
          .replace(/^State:.*$/m, `State:          ${d.id === null ? "shut off" : "running"}`);
      }
      case "domstats": {
        const listed = data.length ? data.map((ref) => domain(args, ref)) : domains;
        return listed.map((d) => `Domain: '${d.name}'\n  block.count=1\n  block.0.name=vda\n  block.0.capacity=1073741824\n`).join("\n");
      }
      case "start":
      case "shutdown":
      case "reboot":
      case "destroy":
        return `Domain '${domain(args, data[0]).name}' ${cmd === "start" ? "started" : "done"}\n\n`;
      case "pool-list":
        if (opts.has("uuid")) return `${pools.map((p) => p.uuid).join("\n")}\n\n`;
        return table(["Name", "State", "Autostart"], pools.map((p) => [escapeForTable(p.name), "active", "no"]));
      case "pool-dumpxml": {
        const p = pool(args, data[0]);
        return sample("virsh-test-pool-dumpxml.xml").replace("default-pool</name>", `${xmlText(p.name)}</name>`).replace("<path>/default-pool</path>", `<path>${p.path}</path>`);
      }
      default:
        throw fail(args, `unknown command: '${cmd}'`);
    }
  };
  return { run, command: (args: string[]) => ({ cmd: "virsh", args, env: {} }) } as unknown as Tool;
}
