import {
  NimbusError,
  emptyInventory,
  type Domain,
  type HostRecord,
  type Job,
  type MethodName,
  type MethodParams,
  type MethodResult,
  type SwarmService,
} from "@nimbus/domain";
import type { FleetEvent, FleetView, HostConfig } from "../../src/contract.js";
import { fakeDomain, fakeNode } from "../fixtures/fake-world.js";

type Handler = (host: string, params: any) => unknown;

/** A FleetView without SSH: host records set by the test, requests answered by handlers. */
export class FakeFleet implements FleetView {
  readonly records = new Map<string, HostRecord>();
  readonly sent: { host: string; method: MethodName; params: unknown }[] = [];
  readonly handlers = new Map<MethodName, Handler>();
  readonly migrationUris = new Map<string, string>();
  private readonly listeners = new Set<(e: FleetEvent) => void>();

  hosts() {
    return [...this.records.values()];
  }
  host(name: string) {
    return this.records.get(name);
  }
  hostConfig(name: string): HostConfig | undefined {
    const h = this.records.get(name);
    return h && { name, address: h.address, port: 22, user: "nimbus", migrationUri: this.migrationUris.get(name) };
  }
  async request<M extends MethodName>(host: string, method: M, params: MethodParams<M>): Promise<MethodResult<M>> {
    this.sent.push({ host, method, params });
    if (this.records.get(host)?.connection.state !== "online") throw new NimbusError("HOST_UNREACHABLE", `${host} is unreachable`, { host });
    const handler = this.handlers.get(method);
    if (!handler) throw new Error(`no handler for ${method}`);
    return (await handler(host, params)) as MethodResult<M>;
  }
  async acceptHostKey() {}
  setMaintenance(host: string, on: boolean) {
    const record = this.records.get(host);
    if (record) this.put({ ...record, maintenance: on }, ["maintenance"]);
  }
  subscribe(listener: (e: FleetEvent) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  put(record: HostRecord, changed: Extract<FleetEvent, { type: "host" }>["changed"] = ["connection"]) {
    this.records.set(record.name, record);
    this.emit({ type: "host", host: record, changed });
  }
  job(host: string, job: Job) {
    this.emit({ type: "job", host, job });
  }
  emit(e: FleetEvent) {
    for (const l of this.listeners) l(e);
  }
}

export function hypervisor(name: string, domains: Domain[] = [], opts: { online?: boolean; address?: string } = {}): HostRecord {
  return {
    name,
    address: opts.address ?? `10.0.0.${name.replace(/\D/g, "") || 9}`,
    port: 22,
    maintenance: false,
    connection: {
      state: opts.online === false ? "unreachable" : "online",
      since: "2025-01-01T00:00:00.000Z",
      lastSeen: null,
      message: null,
      agentVersion: "0.1.0",
      capabilities: ["virt", "net", "storage"],
      pinnedKey: "SHA256:x",
      offeredKey: null,
      nextRetryAt: null,
    },
    inventory: {
      ...emptyInventory(),
      node: fakeNode(name),
      virt: { hypervisor: "QEMU", domains },
      net: { interfaces: [], bridges: [{ name: "br0", type: "linux", mtu: 1500, ports: [] }] },
      storage: { nfs: null, mounts: [{ source: "vip:/instance", target: "/instance", fstype: "nfs4" }] },
    },
  };
}

export function manager(name: string, services: SwarmService[]): HostRecord {
  const h = hypervisor(name);
  return {
    ...h,
    inventory: {
      ...h.inventory,
      virt: null,
      swarm: {
        nodeId: `n-${name}`,
        role: "manager",
        clusterId: "c",
        nodes: [{ id: `n-${name}`, hostname: name, role: "manager", availability: "active", status: "ready", leader: true, engineVersion: null, address: null }],
        services,
        tasks: [],
      },
    },
  };
}

export function service(name: string, desired: number, running = desired, tenant: string | null = null): SwarmService {
  return { id: `s-${name}`, name, mode: "replicated", replicasDesired: desired, replicasRunning: running, image: "img", ports: [], tenant, stack: null, updatedAt: null };
}

export const vm = fakeDomain;

export function job(id: string, state: Job["state"], extra: Partial<Job> = {}): Job {
  return { id, kind: "migrate", state, progress: null, error: null, startedAt: "2025-01-01T00:00:00.000Z", finishedAt: state === "running" ? null : "2025-01-01T00:01:00.000Z", ...extra };
}
