"use client";
import type { MetricObjectKind } from "@nimbus/domain";
import { Select } from "@/components/ui/field";
import { useUrlParam } from "@/lib/url-state";
import { MetricsPanel } from "./metrics-panel";

/**
 * Charts for one of several objects of a page (the Storage page's datastores, the Swarm page's
 * services): a picker, kept in the URL, and the picked object's charts.
 */
export function ObjectCharts({ kind, names, title, param }: { kind: MetricObjectKind; names: readonly string[]; title: string; param: string }) {
  const [picked, setPicked] = useUrlParam(param);
  const name = picked && names.includes(picked) ? picked : names[0];
  if (!name) return null;
  return (
    <div className="flex flex-col gap-2">
      {names.length > 1 && (
        <label className="flex items-center gap-2 self-start text-[12.5px] text-muted">
          {title} of
          <Select aria-label={`${title}: which ${kind}`} value={name} onChange={(e) => setPicked(e.target.value)} data-testid={`charts-pick-${kind}`}>
            {names.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </Select>
        </label>
      )}
      <MetricsPanel key={name} kind={kind} name={name} title={`${title}: ${name}`} />
    </div>
  );
}
