import { JobRegistry } from "@nimbus/agent";
import type { ImageEntry } from "@nimbus/domain";
import type { Scenario, ScenarioTenant } from "../scenario/schema.js";
import { Clock } from "./clock.js";
import { HostEvents, type Topic } from "./events.js";
import { nameHash, randomBootId, stableDockerId, stableMac, stableUuid, swarmJoinTokens } from "./ids.js";
import type { HypervisorState, LabHost, NfsClusterState, SwarmState, VmState } from "./model.js";
import { NfsSim } from "./nfs.js";
import { SwarmSim } from "./swarm.js";
import { TIMINGS } from "./timings.js";

export interface WorldOptions {
  /** Time factor: 10 runs every story ten times faster. Default 1. */
  speed?: number;
  /** Migration bandwidth when the request sets no limit, bytes/s at speed 1. */
  migrationBandwidthBytesPerSec?: number;
  /** Move CPU usage every few seconds so the UI looks alive (default true). */
  jitter?: boolean;
}

/**
 * The one simulated datacenter every lab host answers from. It holds the state and the
 * change notifications; the rules that change it in time live beside it (power, migration,
 * swarm, nfs, faults) and go through `changed()` so only the affected host's drivers hear.
 */
export class World {
  readonly clock: Clock;
  readonly events = new HostEvents();
  readonly tenants: readonly ScenarioTenant[];
  readonly hosts = new Map<string, LabHost>();
  readonly hypervisors = new Map<string, HypervisorState>();
  readonly vms = new Map<string, VmState>();
  readonly nfs: NfsClusterState;
  /** The one swarm; null without one (a scenario without, or torn down: swarm-lifecycle.ts). */
  swarm: SwarmState | null;
  /** The swarm manager's rules (scale, availability, rescheduling); null without a swarm. */
  swarmSim: SwarmSim | null;
  readonly nfsSim: NfsSim;
  readonly migrationBandwidthBytesPerSec: number;
  /** Image catalog per datastore path (the repository's catalog.json). */
  readonly images = new Map<string, ImageEntry[]>();
  /** Volumes created or left behind by instances, by path: their bytes on the datastore. */
  readonly volumes = new Map<string, number>();
  /**
   * VNIs of tenants that reached hosts through creates (scenario tenants are on every hypervisor):
   * the hosts in each mesh, and each host's point-to-point ports by the host they reach (a
   * create adds the new host's; the peers' ports back come from net.ensureTunnel); `flow`: hosts
   * that joined first, with one flow-based port (remote_ip=flow) as a real host gets.
   */
  readonly tunnels = new Map<number, { vlan: number; hosts: Set<string>; trunked: Set<string>; ports: Map<string, Set<string>>; flow: Set<string> }>();
  /** failImageBuild: virt-builder fails for these images. */
  readonly failingImageBuilds = new Set<string>();
  /** Imports of these image names fail their checksum. */
  readonly failingImageImports = new Set<string>();
  private readonly jobs = new Map<string, JobRegistry>();
  private readonly stoppers: (() => void)[] = [];

  constructor(
    readonly scenario: Scenario,
    options: WorldOptions = {},
  ) {
    this.clock = new Clock(options.speed ?? 1);
    this.migrationBandwidthBytesPerSec = options.migrationBandwidthBytesPerSec ?? TIMINGS.migrationBandwidthBytesPerSec;
    this.tenants = scenario.tenants;
    const now = Date.now();
    const host = (name: string, kind: LabHost["kind"], address: string): LabHost => ({
      name,
      kind,
      address,
      powered: true,
      linkCut: false,
      bootId: randomBootId(),
      bootedAt: now - uptimeSeed(name),
      cpuUsagePct: 5 + (nameHash(name) % 20),
    });

    for (const spec of scenario.hypervisors) {
      this.hosts.set(spec.name, host(spec.name, "hypervisor", spec.underlayIp));
      const { uplink, linuxBridge, ovsBridge } = spec.network;
      this.hypervisors.set(spec.name, {
        name: spec.name,
        spec,
        hardware: spec.hardware,
        libvirtdUp: true,
        mtus: new Map([
          [uplink.name, uplink.mtu],
          [linuxBridge.name, linuxBridge.mtu],
          [ovsBridge.name, ovsBridge.mtu],
          [ovsBridge.trunkPort, linuxBridge.mtu],
        ]),
        trunkVlans: new Set(ovsBridge.vlans),
        brokenVnis: new Set(),
        nextVnet: 0,
        domains: new Map(),
        mounts: spec.mounts.map((m) => ({ ...m })),
      });
    }
    for (const spec of scenario.vms) {
      const hv = this.hypervisors.get(spec.host)!;
      const vm: VmState = {
        spec,
        uuid: stableUuid(spec.name),
        macs: spec.nics.map((_, i) => stableMac(`${spec.name}/${i}`)),
        host: spec.host,
        state: spec.state,
        devices: spec.nics.map(() => null),
        migrating: false,
        diskPath: `${spec.diskDir}/${spec.name}.qcow2`,
        diskJob: false,
        guestReady: spec.state === "running",
        pending: null,
      };
      if (vm.state === "running") this.plugNics(vm, hv);
      hv.domains.set(spec.name, vm);
      this.vms.set(spec.name, vm);
    }
    for (const s of scenario.storage.servers) this.hosts.set(s.name, host(s.name, "storage", s.address));
    const at = new Date(now).toISOString();
    this.nfs = {
      vip: scenario.storage.vip,
      master: [...scenario.storage.servers].sort((a, b) => b.priority - a.priority)[0]!.name,
      servers: scenario.storage.servers.map((s) => ({ ...s, nfsRunning: true, check: { up: true, streak: 0, since: at } })),
      datastores: scenario.storage.exports.map((e) => ({ ...e, initialUsedBytes: e.usedBytes, broken: false })),
    };

    const sw = scenario.swarm;
    this.swarm = sw
      ? {
          clusterId: stableDockerId(`cluster:${scenario.name}`),
          engineVersion: sw.engineVersion,
          tokens: swarmJoinTokens(),
          nodes: new Map(
            sw.nodes.map((n) => {
              const vm = this.vms.get(n.vm)!;
              const address = vm.spec.nics.find((nic) => nic.ip)!.ip!;
              this.hosts.set(n.vm, host(n.vm, "swarm-vm", address));
              return [n.vm, { id: stableDockerId(`node:${n.vm}`), hostname: n.vm, role: n.role, availability: "active", engineUp: true, silentSince: null, status: "ready", address }];
            }),
          ),
          services: new Map(
            sw.services.map((s) => [s.name, { id: stableDockerId(`service:${s.name}`), spec: s, desired: s.replicas, updatedAt: at, healthFault: false, nextStepAt: 0 }]),
          ),
          tasks: [],
        }
      : null;

    for (const ds of this.nfs.datastores) this.images.set(ds.path, [labImage(ds.path, at)]);

    this.swarmSim = this.swarm ? new SwarmSim(this) : null;
    this.nfsSim = new NfsSim(this);
    if (options.jitter ?? true) for (const name of this.hosts.keys()) this.stoppers.push(this.startJitter(name));
  }

  /** Registers a periodic rule (swarm scheduler, keepalived) so `stop()` ends it. */
  addTicker(stop: () => void): void {
    this.stoppers.push(stop);
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  host(name: string): LabHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`${name} is not a host of this lab`);
    return h;
  }

  /** Is the machine on (and, for a VM, booted)? */
  isPoweredOn(name: string): boolean {
    const h = this.host(name);
    if (h.kind !== "swarm-vm") return h.powered;
    // A swarm VM that is not there (torn down, not built again yet) answers nothing.
    const vm = this.vms.get(name);
    return !!vm && vm.state === "running" && vm.guestReady && this.host(vm.host).powered;
  }

  /** Should its SSH endpoint answer? */
  isReachable(name: string): boolean {
    return this.isPoweredOn(name) && !this.host(name).linkCut;
  }

  hypervisor(name: string): HypervisorState {
    const hv = this.hypervisors.get(name);
    if (!hv) throw new Error(`${name} is not a hypervisor of this lab`);
    return hv;
  }

  tenant(slug: string | null): ScenarioTenant | undefined {
    return slug === null ? undefined : this.tenants.find((t) => t.slug === slug);
  }

  changed(host: string, ...topics: Topic[]): void {
    this.events.emit(host, ...topics);
  }

  watch(host: string, topic: Topic, listener: () => void): () => void {
    return this.events.on(host, topic, listener);
  }

  /** Jobs of the agent on this host; a reboot starts a fresh agent with none. */
  jobsOf(host: string): JobRegistry {
    let jobs = this.jobs.get(host);
    if (!jobs) this.jobs.set(host, (jobs = new JobRegistry()));
    return jobs;
  }

  bootId(host: string): string {
    return this.host(host).bootId;
  }

  /** A machine (re)booted: new boot id, its agent's jobs are gone. */
  rebooted(host: string): void {
    const h = this.host(host);
    h.bootId = randomBootId();
    h.bootedAt = Date.now();
    this.jobs.delete(host);
  }

  /** Gives a starting domain's NICs their tap devices, as libvirt does (vnet0, vnet1, ...). */
  plugNics(vm: VmState, hv: HypervisorState): void {
    vm.devices = vm.spec.nics.map(() => `vnet${hv.nextVnet++}`);
  }

  unplugNics(vm: VmState): void {
    vm.devices = vm.spec.nics.map(() => null);
  }

  /** The lab host a VM is, if it is one (swarm VMs have their own endpoint). */
  isLabHost(name: string): boolean {
    return this.hosts.has(name);
  }

  stop(): void {
    for (const s of this.stoppers.splice(0)) s();
    this.clock.stop();
  }

  private startJitter(name: string): () => void {
    const h = this.hosts.get(name)!;
    // A random phase spreads 2,000 hosts' updates over the interval instead of one burst.
    return this.clock.every(
      TIMINGS.nodeJitterMs,
      () => {
        if (!this.isPoweredOn(name)) return;
        const drift = (Math.random() - 0.5) * 8;
        h.cpuUsagePct = Math.round(Math.min(95, Math.max(1, h.cpuUsagePct + drift)) * 10) / 10;
        this.changed(name, "node");
      },
      Math.random() * TIMINGS.nodeJitterMs,
    );
  }
}

/** The base image every lab datastore's repository holds: Debian 12 built by Nimbus from Debian's packages. */
function labImage(datastore: string, createdAt: string): ImageEntry {
  return {
    name: "debian-12",
    os: "debian12",
    format: "raw",
    virtualSizeBytes: 2 * 1024 ** 3,
    checksum: { algorithm: "sha512", value: "5".repeat(128) },
    source: { kind: "built", recipe: "debian-12" },
    datastore,
    file: "debian-12.raw.xz",
    createdAt,
  };
}

/** Hosts were not all booted at the same moment: 3-40 days of uptime. */
const uptimeSeed = (name: string) => (3 + (nameHash(name) % 37)) * 86_400_000;
