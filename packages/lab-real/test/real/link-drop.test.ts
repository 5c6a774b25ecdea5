import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinal, type Operation } from "@nimbus/domain";
import { MemoryOperationStore, OperationManager, type Fleet } from "@nimbus/fleet";
import { holderPid } from "../../src/holder.js";
import type { RealLab } from "../../src/lab.js";
import { waitFor } from "../../src/wait.js";
import { domainState, ensureVmOn, openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";

/**
 * The SSH link between the server and a hypervisor drops while a live migration copies memory:
 * the sshd session serving the server is killed on the node. The agent's job must go on, and
 * the server must find it again after reconnecting and settle the operation from the job, not
 * from an inventory that still shows the VM on the source.
 */
describe("real lab: the server's SSH link drops mid-migration", () => {
  const hosts = ["kvm1", "kvm2"];
  let lab: RealLab;
  let fleet: Fleet;
  let ops: OperationManager;

  beforeAll(async () => {
    lab = await openLab();
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    const vni = new Map(lab.fleetConfig.tenants.map((t) => [t.slug, t.vni]));
    ops = new OperationManager(fleet, new MemoryOperationStore(), { tenantVni: (t) => vni.get(t) ?? null, persistIntervalMs: 50 });
    await ops.start();
  });
  afterAll(async () => {
    await ops?.stop();
    fleet?.stop();
  });

  it("the sshd session on kvm1 is killed while the VM copies: the operation still ends succeeded, the VM on kvm2", async () => {
    const vm = "acme-web1";
    try {
      await ensureVmOn(lab, vm, "kvm1", "kvm2");
      await waitForHost(fleet, "kvm1", `${vm} running in its inventory`, (h) => h.inventory.virt?.domains.some((d) => d.name === vm && d.state === "running") === true);
      const states: string[] = [];
      fleet.subscribe((e) => void (e.type === "host" && e.host.name === "kvm1" && e.changed.includes("connection") && states.push(e.host.connection.state)));

      // 1 MiB/s: about 16 s of copying (README), time enough to cut the link in the middle.
      const op = await ops.startMigration({ instance: vm, destination: "kvm2", options: { bandwidthMiBps: 1 } }, "link-drop-test");
      await waitFor("the migration to copy memory", async () => {
        const p = (await ops.get(op.id))?.progress;
        return p?.kind === "migrate" && p.phase === "copying" && p.memoryProcessedBytes > 0 ? p : null;
      }, { timeoutMs: 60_000 });

      const killed = await killSshSessions(lab, "kvm1", "nimbus");
      expect(killed.length).toBeGreaterThan(0);
      await waitFor("kvm1 lost and back online", () => (states.includes("unreachable") && fleet.host("kvm1")?.connection.state === "online" ? true : null), { timeoutMs: 60_000 });
      // Reattached: the job is still running on kvm1, so the operation is too.
      expect(await domainState(lab, "kvm1", vm)).toBe("running");

      const final = await waitFor(`operation ${op.id} to end`, async () => {
        const o = await ops.get(op.id);
        return o && isFinal(o.state) ? o : null;
      }, { timeoutMs: 120_000 });
      expect(summary(final)).toEqual({ state: "succeeded", error: null, summary: `Migrate ${vm} from kvm1 to kvm2` });
      expect(await domainState(lab, "kvm2", vm)).toBe("running");
      expect(await domainState(lab, "kvm1", vm)).toBeNull();
    } finally {
      await ensureVmOn(lab, vm, "kvm1", "kvm2");
    }
  });
});

const summary = (op: Operation) => ({ state: op.state, error: op.error, summary: op.summary });

/**
 * SIGKILLs the sshd processes serving `user` inside `node` (its network namespace, found through
 * the node's holder: the lab shares one pid namespace, so other nodes' sessions are left alone).
 * Returns the pids killed.
 */
async function killSshSessions(lab: RealLab, node: string, user: string): Promise<number[]> {
  const netns = readlinkSync(`/proc/${await holderPid(lab.layout, node)}/ns/net`);
  const title = new RegExp(`^sshd(-session)?: ${user}[@ ]`);
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== netns) continue;
      if (!title.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"))) continue;
      process.kill(pid, "SIGKILL");
      pids.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
