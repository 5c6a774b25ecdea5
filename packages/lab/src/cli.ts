import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { LabControlClient } from "./control/client.js";
import { FAULTS } from "./control/fault-table.js";
import { defaultDataDir } from "./cli/env.js";
import { serve } from "./cli/serve.js";
import { formatStatus } from "./cli/status.js";

const USAGE = `usage:
  lab serve [--hosts N] [--vms-per-host M] [--data DIR] [--speed X] [--base-port P]
  lab fault <name> [args...] [--data DIR]
  lab status [--data DIR]
  lab faults

DIR defaults to $NIMBUS_LAB_DIR, else $NIMBUS_DATA_DIR/lab (the server's embedded lab),
else .nimbus/lab under the repository root. serve creates DIR when it does not exist.`;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      data: { type: "string" },
      hosts: { type: "string" },
      "vms-per-host": { type: "string" },
      speed: { type: "string" },
      "base-port": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  const dataDir = values.data ? resolve(values.data) : defaultDataDir();
  if (values.help || !command) return console.log(USAGE);
  switch (command) {
    case "serve":
      return serve({
        dataDir,
        hosts: optionalInt(values.hosts, "--hosts"),
        vmsPerHost: optionalInt(values["vms-per-host"], "--vms-per-host") ?? 4,
        speed: values.speed === undefined ? 1 : positiveNumber(values.speed, "--speed"),
        basePort: optionalInt(values["base-port"], "--base-port"),
      });
    case "fault": {
      const [name, ...args] = rest;
      if (!name) throw new Error(`usage: lab fault <name> [args...]; faults: ${Object.keys(FAULTS).join(", ")}`);
      const result = (await LabControlClient.fromDataDir(dataDir).fault(name, args)) as { active: { fault: string; target: string }[] };
      console.log(`${name} ${args.join(" ")}: done; active faults: ${result.active.map((f) => `${f.fault} ${f.target}`).join(", ") || "none"}`);
      return;
    }
    case "status":
      return console.log(formatStatus(await LabControlClient.fromDataDir(dataDir).status()));
    case "faults":
      for (const [name, f] of Object.entries(FAULTS)) console.log(`  ${`${name} ${f.usage}`.padEnd(34)} ${f.describe}`);
      return;
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

function optionalInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} wants a non-negative integer, got "${v}"`);
  return n;
}

function positiveNumber(v: string, flag: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${flag} wants a positive number, got "${v}"`);
  return n;
}

// `pnpm lab faults | head` closes our stdout early; that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`lab: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
