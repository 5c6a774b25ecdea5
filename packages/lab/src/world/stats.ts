import type { DatastoreCounters, DomainCounters, InterfaceCounters, StatsCounters } from "@nimbus/domain";
import type { StatsDriver } from "@nimbus/agent";
import { nameHash } from "./ids.js";
import type { VmState } from "./model.js";
import type { World } from "./world.js";

/**
 * Simulated counters (`stats.counters`) that move the way a real host's do: each running VM has
 * a load of its own that drifts slowly (a sine with a period and phase from its name), its CPU
 * time, vif and disk bytes grow by it; a hypervisor's uplink carries its VMs' traffic and their
 * disk I/O (the datastore is NFS), and a migration's copy on the source; the storage server
 * holding the VIP carries every VM's disk I/O. Counters integrate rates over wall time (rates
 * are per real second whatever the lab's speed). A VM's counters start at 0 when it starts or
 * arrives on another host (a new qemu process), a host's when it boots: the server must handle
 * those resets as it does on real hosts.
 */

const USER_HZ = 100;
const KiB = 1024;
const MiB = 1024 * KiB;

interface VmCounters {
  /** Host and tap devices: a start plugs new vnetN devices, so a stop and start between two readings is seen too. */
  run: string;
  at: number;
  cpuTimeNs: number;
  netRxBytes: number;
  netTxBytes: number;
  diskReadBytes: number;
  diskWriteBytes: number;
}
interface HostCounters {
  bootId: string;
  at: number;
  busy: number;
  total: number;
  ifaces: Map<string, { rx: number; tx: number }>;
  /** Storage servers: bytes read and written on each export's device. */
  stores: Map<string, { read: number; write: number }>;
}
interface LabStats {
  vms: Map<string, VmCounters>;
  hosts: Map<string, HostCounters>;
}

const state = new WeakMap<World, LabStats>();
const of = (world: World): LabStats => {
  let s = state.get(world);
  if (!s) state.set(world, (s = { vms: new Map(), hosts: new Map() }));
  return s;
};

/** 0..1 slow wave of one VM: period 4-20 minutes, its own phase. */
const wave = (seed: number, now: number, shift = 0) => {
  const period = (4 + (seed % 17)) * 60_000;
  return 0.5 + 0.5 * Math.sin((2 * Math.PI * (now + (seed % 997) * 1_000)) / period + shift);
};

/** A running VM's rates now: CPU (share of its vCPUs), bytes per second in and out, read and written. */
export function vmRates(vm: VmState, now: number) {
  const seed = nameHash(vm.spec.name);
  const base = 0.04 + (seed % 35) / 100;
  const cpu = Math.min(0.97, base + 0.25 * wave(seed, now) + (vm.migrating ? 0.1 : 0));
  const net = (8 + (seed % 120)) * KiB;
  const disk = (16 + (seed % 400)) * KiB;
  return {
    cpu,
    rx: net * (0.3 + wave(seed, now, 1)),
    tx: net * 0.6 * (0.3 + wave(seed, now, 2)),
    read: disk * (0.2 + wave(seed, now, 3)),
    write: disk * 0.5 * (0.2 + wave(seed, now, 4)),
  };
}

const running = (vm: VmState) => vm.state === "running";

function advanceVm(s: LabStats, vm: VmState, now: number): VmCounters {
  let c = s.vms.get(vm.spec.name);
  const run = `${vm.host}|${vm.devices.join(",")}`;
  // A VM seen on another host, started again, or not running at the last reading, is a new qemu process.
  if (!c || c.run !== run) {
    c = { run, at: now, cpuTimeNs: 0, netRxBytes: 0, netTxBytes: 0, diskReadBytes: 0, diskWriteBytes: 0 };
    s.vms.set(vm.spec.name, c);
    return c;
  }
  const dt = Math.max(0, now - c.at) / 1000;
  const r = vmRates(vm, now);
  c.at = now;
  c.cpuTimeNs += Math.round(r.cpu * vm.spec.vcpus * dt * 1e9);
  c.netRxBytes += Math.round(r.rx * dt);
  c.netTxBytes += Math.round(r.tx * dt);
  c.diskReadBytes += Math.round(r.read * dt);
  c.diskWriteBytes += Math.round(r.write * dt);
  return c;
}

/** One host's counters now; advances the VMs it runs. */
export function labCounters(world: World, name: string, now = Date.now()): StatsCounters {
  const s = of(world);
  const h = world.host(name);
  let hc = s.hosts.get(name);
  const bootId = world.bootId(name);
  if (!hc || hc.bootId !== bootId) {
    // Jiffies count from boot: a rebooted host starts over (uptime's worth, as a real one would).
    const up = Math.max(1, (now - h.bootedAt) / 1000) * USER_HZ * cpuCount(world, name);
    hc = { bootId, at: now, busy: Math.round((up * h.cpuUsagePct) / 100), total: Math.round(up), ifaces: new Map(), stores: new Map() };
    s.hosts.set(name, hc);
  }
  const dt = Math.max(0, now - hc.at) / 1000;
  hc.at = now;
  const jiffies = dt * USER_HZ * cpuCount(world, name);
  hc.total += Math.round(jiffies);
  hc.busy += Math.round((jiffies * h.cpuUsagePct) / 100);

  const domains: DomainCounters[] = [];
  let rx = 6 * KiB;
  let tx = 4 * KiB;
  const uplinks: { name: string; master: string | null }[] = [];
  const bridges: string[] = [];
  const datastores: DatastoreCounters[] = [];
  if (h.kind === "hypervisor") {
    const hv = world.hypervisor(name);
    uplinks.push({ name: hv.spec.network.uplink.name, master: hv.spec.network.linuxBridge.name });
    bridges.push(hv.spec.network.linuxBridge.name);
    for (const vm of hv.domains.values()) {
      if (!running(vm)) {
        s.vms.delete(vm.spec.name);
        continue;
      }
      const c = advanceVm(s, vm, now);
      domains.push({ name: vm.spec.name, cpuTimeNs: c.cpuTimeNs, netRxBytes: c.netRxBytes, netTxBytes: c.netTxBytes, diskReadBytes: c.diskReadBytes, diskWriteBytes: c.diskWriteBytes, memoryRssKiB: Math.round(vm.spec.memoryMiB * 1024 * (0.35 + 0.3 * wave(nameHash(vm.spec.name), now, 5))) });
      const r = vmRates(vm, now);
      // Guest traffic and NFS disk I/O both cross the uplink; a migration's copy leaves through it.
      rx += r.rx + r.read;
      tx += r.tx + r.write + (vm.migrating ? world.migrationBandwidthBytesPerSec / 4 : 0);
    }
  } else {
    uplinks.push({ name: "eth0", master: null });
    if (h.kind === "storage") {
      const holder = world.nfs.master === name;
      for (const ds of world.nfs.datastores) {
        // The VIP holder serves every VM's disk I/O on its datastores; the backup's disks idle.
        let read = 2 * KiB;
        let write = 4 * KiB;
        if (holder)
          for (const vm of world.vms.values()) {
            if (!running(vm) || !vm.diskPath.startsWith(`${ds.path}/`)) continue;
            const r = vmRates(vm, now);
            read += r.read;
            write += r.write;
          }
        rx += holder ? write : 0;
        tx += holder ? read : 0;
        let c = hc.stores.get(ds.path);
        if (!c) hc.stores.set(ds.path, (c = { read: Math.round(read * 3600), write: Math.round(write * 3600) }));
        c.read += Math.round(read * dt);
        c.write += Math.round(write * dt);
        datastores.push({ path: ds.path, readBytes: c.read, writeBytes: c.write });
      }
    }
    if (h.kind === "swarm-vm") {
      const tasks = world.swarm?.tasks.filter((t) => t.node === name && t.state === "running").length ?? 0;
      rx += tasks * 40 * KiB;
      tx += tasks * 90 * KiB;
    }
  }
  const interfaces: InterfaceCounters[] = [];
  const add = (ifname: string, kind: InterfaceCounters["kind"], master: string | null, rate: { rx: number; tx: number }) => {
    let c = hc.ifaces.get(ifname);
    if (!c) hc.ifaces.set(ifname, (c = { rx: Math.round(rate.rx * 3600), tx: Math.round(rate.tx * 3600) }));
    c.rx += Math.round(rate.rx * dt);
    c.tx += Math.round(rate.tx * dt);
    interfaces.push({ name: ifname, kind, master, rxBytes: c.rx, txBytes: c.tx });
  };
  for (const u of uplinks) add(u.name, "physical", u.master, { rx, tx });
  // The host's own traffic goes through its bridge (SSH, NFS mounts): a part of the uplink's.
  for (const b of bridges) add(b, "bridge", null, { rx: Math.min(rx, 0.5 * MiB), tx: Math.min(tx, 0.5 * MiB) });
  return { cpu: { busy: hc.busy, total: hc.total }, interfaces, domains, datastores };
}

function cpuCount(world: World, name: string): number {
  const h = world.host(name);
  if (h.kind === "hypervisor") return world.hypervisor(name).hardware.cpuCount;
  if (h.kind === "storage") return world.nfs.servers.find((x) => x.name === name)?.hardware.cpuCount ?? 1;
  return world.vms.get(name)?.spec.vcpus ?? 1;
}

export const labStats = (world: World, host: string): StatsDriver => ({ read: async () => labCounters(world, host) });
