import { buildTopology, findings as findingsOf, type Finding, type RawCheck, type Topology } from "@nimbus/domain";
import type { FleetView } from "@nimbus/fleet";
import type { TenantService } from "../deps.js";

/**
 * A mass connect (a server start, a fleet coming back after an outage): at least this share of the
 * hosts connecting at once. Every build meanwhile would be stale at once and take CPU from the
 * handshakes (~0.25 s at 2,000 hosts), so builds wait until it ends, or at most MASS_CONNECT_HOLD_MS
 * after the last one. One host stuck connecting (a black-holed link) slows nothing.
 */
const MASS_CONNECT_SHARE = 0.1;
/**
 * A mass connect lasts until fewer than this share are still connecting: its last tenth comes in
 * within a second or two, and a build then would be stale at once too (each replica builds its
 * own: one build at the end of a fleet's start, not one per step of its tail).
 */
const MASS_CONNECT_END_SHARE = 0.01;
const MASS_CONNECT_HOLD_MS = 10_000;
/** How often a held build looks again whether the mass connect has ended. */
const MASS_CONNECT_RECHECK_MS = 250;

export interface TopologySnapshot {
  version: number;
  topology: Topology;
  findings: Finding[];
}

/**
 * The network topology and its findings, rebuilt from the in-memory inventory only when a host's
 * network, VMs or connection changed, and at most once per `minIntervalMs` (building it is linear
 * but not free at fleet size). Listeners hear of each new version.
 */
export class TopologyService {
  private snapshot: TopologySnapshot;
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private lastBuild = 0;
  private lastBuildMs = 0;
  private readonly listeners = new Set<(s: TopologySnapshot) => void>();
  /** A mass connect was seen and has not ended yet (see MASS_CONNECT_END_SHARE). */
  private connectingMany = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly fleet: FleetView,
    private readonly tenants: TenantService,
    private readonly minIntervalMs = 500,
  ) {
    this.snapshot = this.build(0);
  }

  start() {
    this.unsubscribe = this.fleet.subscribe((e) => {
      if (e.type === "host" && e.changed.some((c) => c === "net" || c === "virt" || c === "connection")) this.markDirty();
    });
  }

  stop() {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  current(): TopologySnapshot {
    return this.snapshot;
  }

  subscribe(l: (s: TopologySnapshot) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** Tenants changed (a VNI assigned): rebuild too. */
  markDirty() {
    this.dirty = true;
    if (this.timer) return;
    // A build that takes long (2,000 hosts) spaces the next one out, so rebuilding never takes
    // more than about a tenth of the server's time while hosts keep changing.
    const interval = Math.max(this.minIntervalMs, this.lastBuildMs * 10);
    this.rebuildIn(Math.max(0, this.lastBuild + interval - Date.now()));
  }

  private rebuildIn(wait: number) {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.dirty) return;
      if (Date.now() - this.lastBuild < MASS_CONNECT_HOLD_MS && this.massConnect()) return this.rebuildIn(MASS_CONNECT_RECHECK_MS);
      this.dirty = false;
      const next = this.build(this.snapshot.version + 1);
      this.snapshot = next;
      for (const l of this.listeners) l(next);
    }, wait);
    this.timer.unref();
  }

  private massConnect(): boolean {
    const hosts = this.fleet.hosts();
    let connecting = 0;
    for (const h of hosts) if (h.connection.state === "connecting") connecting++;
    if (connecting >= hosts.length * MASS_CONNECT_SHARE) this.connectingMany = connecting > 0;
    else if (connecting < hosts.length * MASS_CONNECT_END_SHARE) this.connectingMany = false;
    return this.connectingMany;
  }

  private build(version: number): TopologySnapshot {
    this.lastBuild = Date.now();
    const topology = buildTopology(this.fleet.hosts(), [...this.tenants.directory().values()]);
    const snapshot = { version, topology, findings: findingsOf(topology) };
    this.lastBuildMs = Date.now() - this.lastBuild;
    return snapshot;
  }
}

/** Findings as health checks, so the on-call page shows a broken tunnel next to a down host. */
export function findingChecks(findings: readonly Finding[]): RawCheck[] {
  return findings
    .filter((f) => f.severity !== "info")
    .map((f) => ({
      id: `network:${f.id}`,
      category: "network" as const,
      target: targetOf(f),
      state: f.severity === "crit" ? ("crit" as const) : ("warn" as const),
      message: f.message,
      affects: [...(f.objects.vms ?? []), ...(f.objects.hosts ?? [])],
      tenants: f.objects.tenants ?? [],
    }));
}

function targetOf(f: Finding): string {
  if (f.objects.vni !== undefined) return `VNI ${f.objects.vni}`;
  if (f.objects.vlan !== undefined) return `VLAN ${f.objects.vlan}`;
  return f.objects.hosts?.join(", ") ?? f.kind;
}
