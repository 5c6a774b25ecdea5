import { readFileSync } from "node:fs";
import { join, resolve, dirname } from "node:path";
import { FleetConfig, agentInstallFor } from "@nimbus/domain";
import type { HostConfig } from "@nimbus/fleet";
import { ensureClientKey } from "@nimbus/fleet";
import { FAULTS, applyFault, startLab, type Lab } from "@nimbus/lab";
import type { LabControl } from "@nimbus/api";
import type { Logger } from "pino";

export interface HostsSource {
  hosts: HostConfig[];
  privateKey: string;
  tenants: { slug: string; name: string; vni: number }[];
  lab: LabControl | undefined;
  describe: string;
  stop(): Promise<void>;
}

/**
 * Where the hosts come from: a fleet config file (real hosts, the real lab, or a standalone
 * simulator), or, with none, the embedded lab started in this process. Either way the fleet
 * reaches them the same way: SSH to an agent.
 */
export async function hostsSource(opts: { configPath?: string; dataDir: string; labSpeed: number; logger: Logger }): Promise<HostsSource> {
  if (opts.configPath) {
    const path = resolve(opts.configPath);
    let config: FleetConfig;
    try {
      config = FleetConfig.parse(JSON.parse(readFileSync(path, "utf8")));
    } catch (err) {
      throw new Error(`fleet config ${path} is not valid: ${err instanceof Error ? err.message : String(err)}`);
    }
    const keyPath = resolve(dirname(path), config.ssh.privateKeyPath);
    return {
      hosts: config.hosts.map((h) => ({
        name: h.name,
        address: h.address,
        port: h.port,
        user: h.user ?? config.ssh.user,
        migrationUri: h.migrationUri,
        // Hosts from a file get the server's own agent uploaded unless the file says "preinstalled".
        agent: agentInstallFor(config, h),
      })),
      privateKey: readFileSync(keyPath, "utf8"),
      tenants: config.tenants,
      lab: undefined,
      describe: `${config.hosts.length} hosts from ${path}`,
      stop: async () => {},
    };
  }

  const key = ensureClientKey(join(opts.dataDir, "ssh", "id_ed25519"));
  const lab: Lab = await startLab({ dataDir: join(opts.dataDir, "lab"), clientPublicKeys: [key.publicKey], speed: opts.labSpeed });
  opts.logger.info({ hosts: lab.hosts.length, control: lab.controlUrl }, "embedded lab started");
  return {
    hosts: lab.hosts,
    privateKey: key.privateKey,
    tenants: lab.tenants,
    lab: {
      faults: Object.entries(FAULTS).map(([name, f]) => ({ name, args: f.usage ? f.usage.split(" ") : [], description: f.describe })),
      inject: (name, args) => applyFault(lab.faults, name, args),
    },
    describe: `embedded lab: ${lab.hosts.length} simulated hosts on loopback (faults: pnpm lab fault …)`,
    stop: () => lab.stop(),
  };
}
