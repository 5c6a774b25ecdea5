import type { Domain } from "../inventory.js";
import type { HostRecord } from "../fleet.js";
import { DEFAULT_POLICY, preflight, rankDestinations, rankingReason, type CheckResult, type PreflightCheck, type PreflightPolicy } from "../preflight.js";
import { swarmRoleOfVm, type VmSwarmRole } from "./swarm-node.js";

/**
 * The dry run of "enter maintenance": where each running VM of a host goes, and why; what cannot
 * move, with the failing check; which swarm workers get drained. Pure, so the dialog shows exactly
 * what the execution will do, and tests pin the placement rules.
 */
export interface PlannedMove {
  instance: string;
  tenant: string | null;
  memoryMiB: number;
  destination: string;
  verdict: Exclude<CheckResult, "fail">;
  /** Why this destination, in words. */
  reason: string;
  checks: PreflightCheck[];
  swarm: VmSwarmRole | null;
}

export interface BlockedMove {
  instance: string;
  tenant: string | null;
  memoryMiB: number;
  /** The failing checks of the closest destination, in words. */
  reason: string;
  /** Every destination considered, with what failed there. */
  candidates: { host: string; failing: PreflightCheck[] }[];
  swarm: VmSwarmRole | null;
}

export interface PlannedDrain {
  node: string;
  vm: string;
  role: "worker";
  tasks: number;
  services: string[];
  /** Set back to this once the VM runs elsewhere; null when the VM cannot move (it stays drained). */
  restoreTo: "active" | "pause" | null;
}

export interface EvacuationPlan {
  host: string;
  policy: PreflightPolicy;
  moves: PlannedMove[];
  blocked: BlockedMove[];
  drains: PlannedDrain[];
  /** VMs defined here but not running: they stay defined on the host. */
  staying: { instance: string; state: string }[];
  /** Swarm managers on the host: moved live, never drained (they keep the cluster running). */
  managers: string[];
  /** Every running VM has a destination. */
  complete: boolean;
}

export interface EvacuationInput {
  host: string;
  hosts: readonly HostRecord[];
  tenantVni: (tenant: string) => number | null;
  /** VMs that already have an operation running elsewhere: they cannot be planned. */
  busyInstances?: ReadonlySet<string>;
  policy?: PreflightPolicy;
}

const isHypervisor = (h: HostRecord) => !!h.inventory.virt || h.connection.capabilities.includes("virt");

/**
 * Largest VMs first (they are the hardest to fit), each to the best destination by the preflight
 * ranking, counting the VMs already planned onto a destination as if they ran there.
 */
export function planEvacuation(input: EvacuationInput): EvacuationPlan {
  const policy = input.policy ?? DEFAULT_POLICY;
  const source = input.hosts.find((h) => h.name === input.host);
  if (!source) throw new Error(`host ${input.host} is not part of the fleet`);
  const domains = source.inventory.virt?.domains ?? [];
  const running = domains.filter((d) => d.state === "running" || d.state === "paused");
  // Copies of the candidate hosts whose domain lists grow as VMs are planned onto them.
  const virtual = new Map(input.hosts.filter((h) => h.name !== source.name && isHypervisor(h)).map((h) => [h.name, withDomains(h, [])]));
  const order = [...running].sort((a, b) => b.memoryMiB - a.memoryMiB || a.name.localeCompare(b.name));

  const moves: PlannedMove[] = [];
  const blocked: BlockedMove[] = [];
  for (const domain of order) {
    const tenantVni = domain.tenant ? input.tenantVni(domain.tenant) : null;
    const ranked = rankDestinations(
      [...virtual.values()].map((destination) => ({
        host: destination,
        checks: preflight({ domain, source, destination, tenantVni, busyInstances: input.busyInstances ?? new Set(), policy }),
      })),
    );
    const swarm = swarmRoleOfVm(domain, input.hosts);
    const best = ranked[0];
    if (!best || best.verdict === "fail") {
      const candidates = ranked.map((r) => ({ host: r.host, failing: r.checks.filter((c) => c.result === "fail") }));
      blocked.push({ instance: domain.name, tenant: domain.tenant, memoryMiB: domain.memoryMiB, reason: blockedReason(candidates), candidates, swarm });
      continue;
    }
    const dest = virtual.get(best.host)!;
    moves.push({
      instance: domain.name,
      tenant: domain.tenant,
      memoryMiB: domain.memoryMiB,
      destination: best.host,
      verdict: best.verdict,
      reason: rankingReason(best, domain.memoryMiB, ranked.length),
      checks: best.checks,
      swarm,
    });
    virtual.set(best.host, withDomains(dest, [{ ...domain, state: "running" }]));
  }

  const inPlanOrder = (name: string) => order.findIndex((d) => d.name === name);
  moves.sort((a, b) => inPlanOrder(a.instance) - inPlanOrder(b.instance));
  const roles = [...moves.map((m) => ({ vm: m.instance, swarm: m.swarm, moving: true })), ...blocked.map((b) => ({ vm: b.instance, swarm: b.swarm, moving: false }))];
  return {
    host: source.name,
    policy,
    moves,
    blocked,
    drains: roles.flatMap(({ vm, swarm, moving }): PlannedDrain[] =>
      swarm?.role === "worker"
        ? [{ node: swarm.node, vm, role: "worker", tasks: swarm.tasks.length, services: [...new Set(swarm.tasks.map((t) => t.serviceName))].sort(), restoreTo: moving && swarm.availability !== "drain" ? swarm.availability : null }]
        : [],
    ),
    staying: domains.filter((d) => !running.includes(d)).map((d) => ({ instance: d.name, state: d.state })),
    managers: roles.filter((r) => r.swarm?.role === "manager").map((r) => r.vm),
    complete: blocked.length === 0,
  };
}

function withDomains(h: HostRecord, extra: Domain[]): HostRecord {
  const virt = h.inventory.virt ?? { hypervisor: "", domains: [] };
  return { ...h, inventory: { ...h.inventory, virt: { ...virt, domains: [...virt.domains, ...extra] } } };
}

function blockedReason(candidates: { host: string; failing: PreflightCheck[] }[]): string {
  if (!candidates.length) return "no other hypervisor in the fleet";
  const closest = [...candidates].sort((a, b) => a.failing.length - b.failing.length)[0]!;
  return `${closest.host}: ${closest.failing.map((c) => c.reason).join("; ")}`;
}
