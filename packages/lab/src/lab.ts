import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startControlServer } from "./control/server.js";
import { eventLoopWindow } from "./loop-delay.js";
import { CONTROL_FILE } from "./control/client.js";
import { lockDataDir } from "./data-dir.js";
import { LabFaults } from "./faults.js";
import { defaultScenario } from "./scenario/load.js";
import type { Scenario } from "./scenario/schema.js";
import { planEndpoints, readSavedEndpoints, saveEndpoints, type BindOptions } from "./ssh/bind.js";
import { parseAuthorizedKeys } from "./ssh/client-auth.js";
import { HostEndpoint } from "./ssh/endpoint.js";
import { HostKeyStore } from "./ssh/host-keys.js";
import { World, type WorldOptions } from "./world/world.js";
import { consoleRegistryOf } from "./world/console.js";

export const LAB_AGENT_VERSION = "0.1.0-lab";
export const LAB_SSH_USER = "nimbus";

export interface StartLabOptions {
  /** Default: scenarios/default.json. */
  scenario?: Scenario;
  /** Host keys, ports, the control token and lock live here. */
  dataDir: string;
  /** OpenSSH public key lines of the clients allowed in (the server's key). */
  clientPublicKeys: readonly (string | Buffer)[];
  speed?: number;
  bind?: BindOptions;
  user?: string;
  world?: Omit<WorldOptions, "speed">;
}

/** Structurally the fleet's `HostConfig`: how the server reaches one lab host. */
export interface LabHostConfig {
  name: string;
  address: string;
  port: number;
  user: string;
}

export interface Lab {
  hosts: LabHostConfig[];
  tenants: { slug: string; name: string; vni: number }[];
  world: World;
  faults: LabFaults;
  controlUrl: string;
  tokenPath: string;
  dataDir: string;
  /** "SHA256:..." of the key a host offers now. */
  hostKeyFingerprint(host: string): string;
  /** Connections open to a host's SSH endpoint now, seen from the host's side. */
  sshConnections(host: string): number;
  /** Serial-console sessions the host's agent holds open now (whoever opened them). */
  consoleSessions(host: string): number;
  stop(): Promise<void>;
}

const START_BATCH = 256;

/** Starts the world and one SSH endpoint per lab host, plus the fault control endpoint. */
export async function startLab(opts: StartLabOptions): Promise<Lab> {
  const dataDir = resolve(opts.dataDir);
  const unlock = lockDataDir(dataDir);
  const world = new World(opts.scenario ?? defaultScenario(), { ...opts.world, speed: opts.speed ?? 1 });
  const endpoints: HostEndpoint[] = [];
  try {
    const user = opts.user ?? LAB_SSH_USER;
    const authorizedKeys = parseAuthorizedKeys(opts.clientPublicKeys);
    if (!authorizedKeys.length) throw new Error("startLab needs at least one client public key");
    const keys = HostKeyStore.open(join(dataDir, "host-keys.json"), world.hostNames());
    const endpointsPath = join(dataDir, "endpoints.json");
    const { sharedPort, endpoints: plan } = planEndpoints(world.hostNames(), opts.bind ?? {}, readSavedEndpoints(endpointsPath));
    const make = (p: { host: string; address: string; port: number }) =>
      new HostEndpoint({ ...p, world, hostKey: keys.privateKey(p.host), authorizedKeys, user, agentVersion: LAB_AGENT_VERSION });
    // Ports given by the caller must be honoured; remembered ones may give way to free ones.
    const flexible = opts.bind?.basePort === undefined;
    let rest = plan;
    if (sharedPort) {
      // One port for all addresses: the first host picks it, the others follow.
      const first = make(plan[0]!);
      endpoints.push(first);
      await first.start(flexible);
      rest = plan.slice(1).map((p) => ({ ...p, port: first.port }));
    }
    for (let i = 0; i < rest.length; i += START_BATCH) {
      const batch = rest.slice(i, i + START_BATCH).map(make);
      endpoints.push(...batch);
      await Promise.all(batch.map((e) => e.start(flexible && !sharedPort)));
    }
    saveEndpoints(endpointsPath, endpoints.map((e) => ({ host: e.host, address: e.address, port: e.port })));
    const byHost = new Map(endpoints.map((e) => [e.host, e]));

    const faults = new LabFaults(world, {
      rotate: async (host) => {
        keys.rotate(host);
        await byHost.get(host)!.setHostKey(keys.privateKey(host));
      },
      restore: async (host) => {
        keys.restore(host);
        await byHost.get(host)!.setHostKey(keys.privateKey(host));
      },
    });
    const hosts = endpoints.map((e) => ({ name: e.host, address: e.address, port: e.port, user }));
    const status = () => ({
      scenario: world.scenario.name,
      speed: world.clock.speed,
      hosts: hosts.map((h) => ({
        ...h,
        kind: world.host(h.name).kind,
        reachable: world.isReachable(h.name),
        poweredOn: world.isPoweredOn(h.name),
        hostKey: keys.fingerprint(h.name),
      })),
      nfs: { vip: world.nfs.vip, heldBy: world.nfs.master },
      faults: faults.active(),
      // The lab's own stalls, so a benchmark can tell a slow simulator from a slow server.
      eventLoopDelayMs: loop.lastWindow(),
    });
    const loop = eventLoopWindow();
    const control = await startControlServer({ faults, status, tokenPath: join(dataDir, "control.token") });
    const controlPath = join(dataDir, CONTROL_FILE);
    writeFileSync(controlPath, JSON.stringify({ url: control.url, tokenPath: control.tokenPath, pid: process.pid }));

    let stopping: Promise<void> | null = null;
    return {
      hosts,
      tenants: world.tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni })),
      world,
      faults,
      controlUrl: control.url,
      tokenPath: control.tokenPath,
      dataDir,
      hostKeyFingerprint: (host) => keys.fingerprint(host),
      sshConnections: (host) => byHost.get(host)?.connections ?? 0,
      consoleSessions: (host) => consoleRegistryOf(world, host).size,
      stop: () =>
        (stopping ??= (async () => {
          rmSync(controlPath, { force: true });
          await control.close();
          rmSync(control.tokenPath, { force: true });
          await Promise.all(endpoints.map((e) => e.stop()));
          world.stop();
          unlock();
        })()),
    };
  } catch (err) {
    await Promise.all(endpoints.map((e) => e.stop()));
    world.stop();
    unlock();
    throw err;
  }
}
