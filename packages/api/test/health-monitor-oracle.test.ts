import { describe, expect, it } from "vitest";
import type { HealthCheck, HostRecord, Hysteresis, RawCheck } from "@nimbus/domain";
import { HealthMonitor, type HealthChanges } from "../src/services/health-monitor.js";
import { HealthOracle } from "./health-oracle.js";
import { healthFleet, nfsSection } from "./health-fleet.js";
import { hypervisor, vm } from "../../domain/test/fixtures.js";

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const domainStates = ["running", "crashed", "shutoff", "paused"] as const;
const connectionStates = ["online", "online", "unreachable", "connecting", "auth-failed"] as const;

/**
 * Edits the fleet the ways a real one changes (replaced records) and the ways test fakes do (in
 * place), including what health does not read, hosts leaving and coming back, a VM crashed on
 * two hosts at once (one id from two sources) and extra checks coming and going.
 */
function mutator(rnd: ReturnType<typeof random>, f: ReturnType<typeof healthFleet>, extra: RawCheck[]) {
  const parked: HostRecord[] = [];
  const anyHost = () => f.hosts[rnd.int(f.hosts.length)]!;
  // A parked host is not in the fleet: nothing to edit.
  const replace = (name: string, edit: (h: HostRecord) => HostRecord) => f.index(name) >= 0 && f.replace(name, edit);
  const edits: (() => void)[] = [
    () => {
      const h = anyHost();
      const d = h.inventory.virt?.domains[rnd.int(h.inventory.virt.domains.length)];
      if (d) d.state = rnd.pick(domainStates);
    },
    () => {
      const h = anyHost();
      replace(h.name, (r) => ({ ...r, inventory: { ...r.inventory, virt: { hypervisor: "QEMU", domains: (r.inventory.virt?.domains ?? []).map((d) => ({ ...d, state: rnd.pick(domainStates) })) } } }));
    },
    () => {
      const h = anyHost();
      replace(h.name, (r) => ({ ...r, connection: { ...r.connection, state: rnd.pick(connectionStates), message: rnd.pick([null, "refused", "timeout"]), lastSeen: `2026-01-01T00:0${rnd.int(10)}:00.000Z` } }));
    },
    () => replace(anyHost().name, (r) => ({ ...r, connection: { ...r.connection, lastSeen: new Date(rnd.int(1e12)).toISOString() } })),
    () => {
      const datastore = f.hosts.find((h) => h.inventory.storage?.nfs)?.inventory.storage!.nfs!.datastores[0];
      if (datastore) datastore.usedBytes = rnd.pick([40, 85, 95]);
    },
    () => {
      const held = rnd.int(3);
      replace("nfs1", (r) => ({ ...r, inventory: { ...r.inventory, storage: nfsSection(held !== 1, rnd.pick([40, 95])) } }));
      replace("nfs2", (r) => ({ ...r, inventory: { ...r.inventory, storage: nfsSection(held !== 0) } }));
    },
    () => {
      const nfs = f.hosts.find((h) => h.inventory.storage?.nfs);
      if (nfs) nfs.inventory.storage!.nfs!.serverRunning = !nfs.inventory.storage!.nfs!.serverRunning;
    },
    () => {
      const mounts = anyHost().inventory.storage?.mounts;
      if (mounts?.length) mounts.pop();
      else mounts?.push({ source: "10.10.0.100:/instance", target: "/instance", fstype: "nfs4" });
    },
    () => {
      const swarm = f.hosts.find((h) => h.inventory.swarm)?.inventory.swarm;
      if (!swarm) return;
      const n = rnd.pick(swarm.nodes);
      n.status = rnd.pick(["ready", "ready", "down"] as const);
      n.availability = rnd.pick(["active", "drain"] as const);
      rnd.pick(swarm.services).replicasRunning = rnd.int(3);
    },
    () => {
      if (parked.length && rnd.int(2)) f.hosts.splice(rnd.int(f.hosts.length + 1), 0, parked.pop()!);
      else if (f.hosts.length > 3) parked.push(...f.hosts.splice(rnd.int(f.hosts.length), 1));
    },
    () => {
      // The same VM name crashed on two hosts: two sources report instance:twin.
      for (const name of ["kvm0", "kvm1"]) {
        replace(name, (r) => ({ ...r, inventory: { ...r.inventory, virt: { hypervisor: "QEMU", domains: [vm({ name: "twin", state: rnd.pick(["crashed", "running"] as const) })] } } }));
      }
    },
    () => {
      if (extra.length && rnd.int(2)) extra.splice(rnd.int(extra.length), 1);
      else extra.push({ id: `network:f${rnd.int(4)}`, category: "network", target: "mesh", state: rnd.pick(["ok", "warn", "crit"] as const), message: `finding ${rnd.int(3)}`, affects: [], tenants: [] });
    },
    () => {
      if (!parked.length && !f.hosts.some((h) => h.name === "late")) f.hosts.push(hypervisor("late", [vm({ name: "late-1", state: "crashed" })]));
    },
  ];
  return () => {
    for (let k = rnd.int(4); k > 0; k--) rnd.pick(edits)();
  };
}

function compare(seed: number, hysteresis: Hysteresis | undefined, steps: number) {
  const rnd = random(seed);
  const f = healthFleet(4, 2);
  const extra: RawCheck[] = [];
  const extraChecks = () => extra.map((c) => ({ ...c }));
  const oracle = new HealthOracle(f.fleet.hosts, hysteresis, extraChecks);
  const transitions: HealthCheck[] = [];
  const monitor = new HealthMonitor(f.fleet, { hysteresis, extraChecks, onTransition: (c) => transitions.push(c) });
  const heard: HealthChanges[] = [];
  monitor.subscribe((c) => heard.push(c));
  const mutate = mutator(rnd, f, extra);
  let compared = 0;
  for (let s = 0; s < steps; s++) {
    const now = new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
    mutate();
    oracle.sample(now);
    monitor.sample(now);
    const failing = oracle.checks().filter((c) => c.state !== "ok" && !c.ack);
    if (failing.length && rnd.int(5) === 0) {
      const id = rnd.pick(failing).id;
      expect(monitor.acknowledge(id, "olga", now)).toBe(oracle.acknowledge(id, "olga", now));
    }
    // Only this step's deltas: comparing the whole history every step would be quadratic.
    expect({ step: s, heard: heard.slice(compared) }).toEqual({ step: s, heard: oracle.heard.slice(compared) });
    compared = oracle.heard.length;
  }
  expect(heard).toHaveLength(oracle.heard.length);
  expect(transitions).toEqual(oracle.transitions);
  expect(monitor.checks()).toEqual(oracle.checks());
  return heard.length;
}

describe("HealthMonitor against a whole-fleet evaluation at every sample", () => {
  for (const [name, hysteresis] of [["default thresholds", undefined], ["rise 1 / fall 1", { rise: 1, fall: 1 }], ["rise 3 / fall 2", { rise: 3, fall: 2 }]] as const) {
    it(`reports the same changes, transitions and checks over random fleet edits (${name})`, () => {
      for (const seed of [1, 2, 3, 4, 5]) expect(compare(seed, hysteresis, 300)).toBeGreaterThan(50);
    }, 60_000); // 1,500 random steps, each checked against the oracle: seconds on a loaded CI machine
  }
});
