import { agentInstallFor, type HostRecord, type Job } from "@nimbus/domain";
import { Fleet, MemoryKnownHosts, agentInstaller, type FleetEvent } from "@nimbus/fleet";
import { RealLab } from "../../src/lab.js";
import { virsh } from "../../src/libvirt.js";
import { GiveUp, waitFor } from "../../src/wait.js";

/**
 * The real-lab tests reach hosts exactly as the server does: the fleet (ssh2 + host-key
 * pinning + agent protocol) through the lab's loopback forwarders to each node's sshd. The fleet
 * uploads the built agent (packages/agent/dist) over SFTP when a node's copy is missing or of
 * another build, then runs it there: the real drivers against the node's real daemons.
 */

export async function openLab(): Promise<RealLab> {
  // Fails with "the real lab is not up (...): run `pnpm lab:real up` as root first": never a skip.
  return RealLab.open();
}

export async function startFleet(lab: RealLab, only?: string[]): Promise<Fleet> {
  const cfg = lab.fleetConfig;
  const fleet = new Fleet({
    hosts: cfg.hosts
      .filter((h) => !only || only.includes(h.name))
      .map((h) => ({ name: h.name, address: h.address, port: h.port, user: h.user ?? cfg.ssh.user, migrationUri: h.migrationUri, agent: agentInstallFor(cfg, h) })),
    ensureAgent: agentInstaller({ bundleDir: lab.layout.agentDist }),
    privateKey: await lab.privateKey(),
    knownHosts: new MemoryKnownHosts(),
    keepaliveMs: 1000,
    connectTimeoutMs: 5000,
    timing: { backoff: { initialMs: 200, maxMs: 1000, jitter: 0 }, slowRetryMs: 2000, requestTimeoutMs: 60_000 },
  });
  await fleet.start();
  return fleet;
}

export function hostState(fleet: Fleet, name: string): HostRecord {
  const h = fleet.host(name);
  if (!h) throw new Error(`host ${name} is not in the test fleet`);
  return h;
}

/** Resolves with the host's record once `pred` holds for it. */
export const waitForHost = (fleet: Fleet, name: string, what: string, pred: (h: HostRecord) => boolean, timeoutMs = 60_000) =>
  waitFor(`${name}: ${what} (now ${JSON.stringify(fleet.host(name)?.connection)})`, () => {
    const h = hostState(fleet, name);
    return pred(h) ? h : null;
  }, { timeoutMs });

export const waitOnline = (fleet: Fleet, names: string[], timeoutMs = 90_000) =>
  Promise.all(names.map((n) => waitForHost(fleet, n, "online with an inventory", (h) => h.connection.state === "online" && h.inventory.node !== null, timeoutMs)));

/** Collects one job's updates as the fleet delivers them, until it ends. */
export function watchJob(fleet: Fleet, host: string) {
  const updates: Job[] = [];
  let jobId: string | null = null;
  const off = fleet.subscribe((e: FleetEvent) => {
    if (e.type === "job" && e.host === host && (jobId === null || e.job.id === jobId)) updates.push(e.job);
  });
  return {
    updates,
    track(id: string) {
      jobId = id;
    },
    async final(timeoutMs = 100_000): Promise<Job> {
      try {
        return await waitFor(`job ${jobId} on ${host} to end`, () => {
          const done = updates.find((j) => j.id === jobId && j.state !== "running");
          if (done) return done;
          // A dead agent ends no job: say so instead of waiting for the timeout.
          const conn = fleet.host(host)?.connection;
          if (conn && conn.state !== "online") throw new GiveUp(`${host} went ${conn.state} while job ${jobId} ran: ${conn.message}`);
          return null;
        }, { timeoutMs });
      } finally {
        off();
      }
    },
  };
}

/**
 * Asks kvm1's agent to live-migrate `domain` (which must run on kvm1) to kvm2, as the server
 * does, and returns the job's watcher already tracking it.
 */
export async function migrateToKvm2(lab: RealLab, fleet: Fleet, domain: string, tag: string, bandwidthMiBps: number | null = null) {
  await ensureVmOn(lab, domain, "kvm1", "kvm2");
  const job = watchJob(fleet, "kvm1");
  const uri = lab.fleetConfig.hosts.find((h) => h.name === "kvm2")?.migrationUri;
  if (!uri) throw new Error("kvm2 has no migrationUri in the lab's fleet config");
  const { jobId } = await fleet.request("kvm1", "virt.migrate", {
    jobId: newJobId(tag),
    domain,
    destination: { host: "kvm2", uri },
    options: { bandwidthMiBps, maxDowntimeMs: null, autoConverge: false, postCopy: false },
  });
  job.track(jobId);
  return { job, jobId };
}

/** Ground truth from libvirt itself, not from the agent: where the VM runs. */
export async function domainState(lab: RealLab, host: string, domain: string): Promise<string | null> {
  const res = await virsh(await lab.exec(host), ["domstate", domain], 30_000).catch(() => null);
  return res?.code === 0 ? res.stdout.trim() : null;
}

let jobCounter = 0;
export const newJobId = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${jobCounter++}`;

/** Puts a VM back on its home hypervisor with virsh (test cleanup, independent of the agent). */
export async function ensureVmOn(lab: RealLab, domain: string, home: string, other: string): Promise<void> {
  // A migration a crashed agent left behind may still be copying: let it end first.
  await waitFor(`no migration job of ${domain} on ${home} or ${other}`, async () => {
    for (const host of [home, other]) {
      const res = await virsh(await lab.exec(host), ["domjobinfo", domain], 10_000).catch(() => null);
      if (res && !/^Job type:\s+None/m.test(res.stdout)) return false;
    }
    return true;
  }, { timeoutMs: 120_000 });
  if ((await domainState(lab, home, domain)) === "running") return;
  if ((await domainState(lab, other, domain)) !== "running") throw new Error(`${domain} runs neither on ${home} nor on ${other}`);
  const target = lab.fleetConfig.hosts.find((h) => h.name === home)?.migrationUri;
  if (!target) throw new Error(`${home} has no migrationUri`);
  await virsh(await lab.exec(other), ["migrate", "--live", "--persistent", "--undefinesource", "--unsafe", domain, target], 120_000);
}
