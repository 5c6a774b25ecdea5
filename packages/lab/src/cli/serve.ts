import { ensureClientKey, writeFleetConfig } from "../fleet-file.js";
import { startLab } from "../lab.js";
import { generateScenario } from "../scenario/generate.js";
import { defaultScenario } from "../scenario/load.js";

export interface ServeArgs {
  dataDir: string;
  hosts?: number;
  vmsPerHost: number;
  speed: number;
  basePort?: number;
}

/** Runs a lab in this process until SIGINT/SIGTERM; writes DIR/fleet.json for the server. */
export async function serve(args: ServeArgs): Promise<void> {
  const started = Date.now();
  const key = ensureClientKey(args.dataDir);
  const scenario = args.hosts === undefined ? defaultScenario() : generateScenario({ hosts: args.hosts, vmsPerHost: args.vmsPerHost });
  const lab = await startLab({
    scenario,
    dataDir: args.dataDir,
    clientPublicKeys: [key.publicKey],
    speed: args.speed,
    bind: args.basePort === undefined ? undefined : { basePort: args.basePort },
  });
  const fleetPath = writeFleetConfig(lab, key.privateKeyPath);
  const rssMiB = Math.round(process.memoryUsage().rss / 1024 / 1024);
  console.error(`lab "${scenario.name}": ${lab.hosts.length} hosts listening after ${Date.now() - started} ms (RSS ${rssMiB} MiB), control ${lab.controlUrl}`);
  console.log(fleetPath);
  await new Promise<void>((resolve) => {
    const shutdown = () => resolve();
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
  await lab.stop();
}
