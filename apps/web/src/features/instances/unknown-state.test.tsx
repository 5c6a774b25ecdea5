import { instanceCounts, instancesOf, type HostRecord } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { kvm1, kvm2 } from "@/fixtures/hosts";
import { renderHtml, renderText } from "@/fixtures/render";
import { overview } from "@/fixtures/views";
import { OverviewView } from "@/features/overview/overview-view";
import { InstancesTable } from "./instances-table";

/** kvm2 powered off: the server keeps its last report, in which its VMs were running. */
const kvm2Off: HostRecord = { ...kvm2, connection: { ...kvm2.connection, state: "unreachable", message: "connect ECONNREFUSED" } };
const rows = [...instancesOf(kvm1, new Map()), ...instancesOf(kvm2Off, new Map())];
const offName = instancesOf(kvm2Off, new Map())[0]!.name;
const onName = instancesOf(kvm1, new Map()).find((i) => i.state === "running")!.name;

const table = (render: typeof renderText) =>
  render(<InstancesTable instances={rows} sorting={[]} onSortingChange={() => undefined} actions={{ migrate: () => undefined, power: () => undefined }} />);

describe("a VM whose host is unreachable", () => {
  it("is grey 'Unknown — host unreachable' in the list, with its last report on hover", () => {
    const html = table(renderHtml);
    const row = html.slice(html.indexOf(`data-testid="instance-row-${offName}"`));
    const cells = row.slice(0, row.indexOf("</tr>"));
    expect(cells).toContain('data-tone="unknown"');
    expect(cells).toContain("Unknown — host unreachable");
    expect(cells).toContain("Last reported running; the host has not answered since");
    expect(cells).not.toContain(">Running<");
  });

  it("offers no action (nothing could reach it), while a VM of an online host keeps its menu", () => {
    const html = table(renderHtml);
    expect(html).not.toContain(`Actions for ${offName}`);
    expect(html).toContain(`Actions for ${onName}`);
  });

  it("is counted as unknown on the Overview, not as running or stopped", () => {
    const counts = { ...overview, instances: instanceCounts([kvm1, kvm2Off]) };
    const text = renderText(<OverviewView counts={counts} operations={null} />);
    const running = counts.instances.running;
    expect(running).toBe(instancesOf(kvm1, new Map()).filter((i) => i.state === "running").length);
    expect(text).toContain(`${running} / ${counts.instances.total}`);
    expect(text).toContain(`${counts.instances.unknown} unknown (host unreachable)`);
  });
});
