"use client";
import type { HealthCheck } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { Button } from "@/components/ui/button";
import { notify } from "@/lib/notify";
import { useCan } from "@/lib/session";
import { Checkbox, Select } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { Toolbar, countLabel } from "@/components/ui/toolbar";
import { useTRPC } from "@/lib/trpc";
import { useUrlParam } from "@/lib/url-state";
import { CATEGORIES, HealthList, HealthSummary } from "./health-view";
import { useAction } from "@/lib/use-action";

export function HealthPage() {
  const trpc = useTRPC();
  const health = useQuery(trpc.health.list.queryOptions());
  const [category, setCategory] = useUrlParam("category");
  const [problems, setProblems] = useUrlParam("problems");
  const mayAck = useCan("alerts:ack");
  // The pushed health event carries the ack to every open page, this one included.
  const ack = useAction(trpc.health.acknowledge.mutationOptions({ onError: (e) => notify.error(e, "Acknowledge") }));
  const checks = health.data;
  const shown = checks?.filter((c) => (!category || c.category === category) && (!problems || c.state !== "ok"));
  return (
    <>
      <PageHeader title="Health" description="Every check, worst first: what is broken, since when, and what it affects." />
      {health.isPending ? (
        <PanelsSkeleton count={2} />
      ) : health.error ? (
        <ErrorState error={health.error} onRetry={() => void health.refetch()} />
      ) : (
        <div className="flex flex-col gap-4">
          <HealthSummary checks={checks!} />
          <Toolbar count={countLabel(shown?.length, checks?.length, "checks")}>
            <Select aria-label="Category" value={category} onChange={(e) => setCategory(e.target.value)}>
              <option value="">All categories</option>
              {CATEGORIES.map((c: HealthCheck["category"]) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </Select>
            <Checkbox label="Problems only" checked={!!problems} onChange={(e) => setProblems(e.target.checked ? "1" : "")} />
          </Toolbar>
          <HealthList
            checks={shown ?? []}
            action={
              mayAck
                ? (c) =>
                    c.state === "crit" || c.state === "warn" ? (
                      <Button size="sm" busy={ack.isPending && ack.variables?.id === c.id} onClick={() => ack.mutate({ id: c.id })} data-testid={`ack-${c.id}`}>
                        Acknowledge
                      </Button>
                    ) : null
                : undefined
            }
          />
        </div>
      )}
    </>
  );
}
