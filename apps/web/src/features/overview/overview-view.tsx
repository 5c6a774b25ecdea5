import type { OverviewCounts } from "@nimbus/domain";
import Link from "next/link";
import type { ReactNode } from "react";
import { Panel, Stat } from "@/components/ui/panel";
import { HealthList } from "@/features/health/health-view";

/** Counts and problems at a glance. `operations` is a slot for the live recent-operations list. */
export function OverviewView({ counts, operations }: { counts: OverviewCounts; operations: ReactNode }) {
  const { hosts, instances, services, health } = counts;
  return (
    <div className="flex flex-col gap-4">
      <div className="grid grid-cols-2 gap-3 lg:grid-cols-5" data-testid="overview-stats">
        <Link href="/hosts" className="rounded-lg focus-visible:outline-2">
          <Stat
            label="Hosts online"
            value={`${hosts.online} / ${hosts.total}`}
            detail={hosts.problem ? `${hosts.problem} with a problem` : "all reachable"}
            tone={hosts.problem ? "crit" : undefined}
          />
        </Link>
        <Link href="/instances" className="rounded-lg">
          <Stat
            label="Instances running"
            value={`${instances.running} / ${instances.total}`}
            detail={instanceDetail(instances)}
          />
        </Link>
        <Link href="/swarm" className="rounded-lg">
          <Stat
            label="Services converged"
            value={`${services.converged} / ${services.total}`}
            detail={services.total - services.converged ? `${services.total - services.converged} converging` : "all at desired replicas"}
            tone={services.total - services.converged ? "warn" : undefined}
          />
        </Link>
        <Link href="/health" className="rounded-lg">
          <Stat
            label="Health"
            value={health.crit || health.warn ? `${health.crit} crit · ${health.warn} warn` : "OK"}
            detail={health.crit || health.warn ? "see problems below" : "no failing checks"}
            tone={health.crit ? "crit" : health.warn ? "warn" : "ok"}
          />
        </Link>
        <Link href="/operations" className="col-span-2 rounded-lg lg:col-span-1">
          <Stat label="Operations running" value={counts.operationsRunning} detail="migrations and scaling" />
        </Link>
      </div>
      <div className="grid grid-cols-1 gap-4 xl:grid-cols-2">
        <Panel
          title={`Problems (${counts.problems.length})`}
          actions={
            <Link href="/health" className="text-[12.5px] text-accent hover:underline">
              All checks →
            </Link>
          }
        >
          {counts.problems.length ? <HealthList checks={counts.problems.slice(0, 8)} /> : <p className="py-6 text-center text-[13px] text-ok">Nothing is failing.</p>}
        </Panel>
        <Panel
          title="Recent operations"
          actions={
            <Link href="/operations" className="text-[12.5px] text-accent hover:underline">
              All operations →
            </Link>
          }
        >
          {operations}
        </Panel>
      </div>
    </div>
  );
}

/** A VM of an unreachable host is neither running nor stopped: it is counted on its own. */
function instanceDetail({ total, running, unknown }: OverviewCounts["instances"]) {
  const stopped = `${total - running - unknown} stopped`;
  return unknown ? `${stopped} · ${unknown} unknown (host unreachable)` : stopped;
}
