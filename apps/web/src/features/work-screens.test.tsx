import { describe, expect, it } from "vitest";
import { capacity, diskMoving, evacuated, evacuating, failedDiskMove, maintenancePlan, moveRecords } from "@/fixtures/moves";
import { renderHtml, renderText } from "@/fixtures/render";
import { NOW } from "@/fixtures/hosts";
import type { VmSwarmRole } from "@/lib/api-types";
import { SwarmNodeNotice } from "./instances/swarm-node-notice";
import { MaintenancePlanView } from "./maintenance/maintenance-plan-view";
import { MovesTable } from "./moves/moves-table";
import { OperationProgress } from "./operations/operation-progress";
import { PreflightList } from "./preflight/preflight-list";
import { StorageSuggestions } from "./storage/storage-suggestions";
import { MountGroups, mountGroups } from "./storage/mount-groups";

/** The screens of moving things (evacuations, disk moves, history), drawn from fixtures. */
describe("maintenance dry run", () => {
  const text = renderText(<MaintenancePlanView plan={maintenancePlan} />);
  it("says which VM goes where and why, with the headroom policy", () => {
    expect(text).toContain(`${maintenancePlan.moves.length} VMs move to kvm2`);
    expect(text).toContain("acme-db");
    expect(text).toMatch(/Why kvm2: every check passes; \d+ MiB left on kvm2 after it/);
    expect(text).toContain("Headroom policy: 512 MiB of RAM stay free on every destination");
  });
  it("shows what cannot move with the failing check", () => {
    expect(text).toContain("1 VM cannot move and stay on kvm1");
    expect(text).toContain("kvm2: VLAN 20 is not carried by any trunk of ovsbr0 on kvm2");
    expect(renderHtml(<MaintenancePlanView plan={maintenancePlan} />)).toContain('data-complete="false"');
  });
  it("names the swarm worker drained first and the manager that is not", () => {
    expect(text).toContain("Worker worker1 is drained before its VM moves");
    expect(text).toContain("then set back to active once it runs elsewhere");
    expect(text).toContain("Manager manager moves live and is never drained");
    expect(text).toContain("initech-legacy (shutoff) stays defined on kvm1");
  });
  it("says an empty host goes into maintenance at once", () => {
    const empty = { ...maintenancePlan, moves: [], blocked: [], drains: [], managers: [], staying: [], complete: true };
    expect(renderText(<MaintenancePlanView plan={empty} />)).toContain("No VM runs on kvm1: it goes into maintenance at once.");
  });
});

describe("evacuation progress", () => {
  it("lists every VM with its state, its migration's percent and why one is blocked", () => {
    const html = renderHtml(<OperationProgress op={evacuating} onCancel={() => undefined} cancelLabel="Abort" />);
    const text = renderText(<OperationProgress op={evacuating} onCancel={() => undefined} cancelLabel="Abort" />);
    expect(text).toContain("Evacuating… 1 of 4 moved, 1 blocked");
    expect(html).toMatch(/data-testid="maintenance-item-worker1" data-state="migrating"/);
    expect(text).toContain("40 %");
    expect(html).toMatch(/data-testid="maintenance-item-globex-app" data-state="blocked"/);
    expect(text).toContain("VLAN 20 is not carried");
    expect(text).toContain("Swarm node worker1 drained");
    expect(text).toContain("Abort");
  });
  it("keeps the per-VM list under the outcome once it ended", () => {
    const text = renderText(<OperationProgress op={evacuated} />);
    expect(text).toContain("Done: kvm1 is empty: 4 VMs moved in 2 min 0 s; it stays in maintenance until you exit it");
    expect(text).toContain("Moved");
  });
});

describe("disk move progress", () => {
  it("shows the phase, the copy and the bandwidth limit", () => {
    const text = renderText(<OperationProgress op={diskMoving} />);
    expect(text).toContain("Moving disk… copying 40 %");
    expect(text).toContain("/instance → /instance2");
    expect(text).toContain("live block copy");
    expect(text).toContain("2.8 GiB of 7.0 GiB");
    expect(text).toContain("limit 100 MiB/s");
  });
  it("says where the disk stays when the move failed", () => {
    expect(renderText(<OperationProgress op={failedDiskMove} />)).toContain("Failed: vda of acme-db stays on /instance: block copy of acme-db vda to /instance2 failed");
  });
});

describe("storage suggestions", () => {
  it("says which disk to move where to get back under the threshold", () => {
    const text = renderText(<StorageSuggestions capacity={capacity} moveButton={() => <button>Move…</button>} />);
    expect(text).toContain("/instance is 84 % full Warning");
    expect(text).toContain("Move this disk to get under 80 %: /instance would then be 79 % full.");
    expect(text).toContain("up to 100 GiB");
    expect(text).toContain("/instance/acme-db.qcow2 → /instance2 (then 21 % full)");
    expect(text).toContain("Move…");
  });
  it("says why nothing helps a datastore full of other files", () => {
    expect(renderText(<StorageSuggestions capacity={capacity} />)).toContain("No move helps: no VM disk lives on /backup: its space is used by other files.");
  });
  it("says when nothing needs to move", () => {
    expect(renderText(<StorageSuggestions capacity={{ ...capacity, suggestions: [] }} />)).toContain("Every datastore is under 80 %: nothing needs to move.");
  });
});

describe("moves history", () => {
  it("shows who moved what from where to where, the options, downtime and result", () => {
    const text = renderText(<MovesTable moves={moveRecords} now={NOW} sorting={[]} onSortingChange={() => undefined} />);
    expect(text).toContain("kvm1 → kvm2");
    expect(text).toContain("/instance → /instance2");
    expect(text).toContain("max downtime 300 ms · auto-converge");
    expect(text).toContain("vda · live copy · limit 100 MiB/s");
    expect(text).toContain("42 ms");
    expect(text).toContain("kvm2 stopped answering during the copy");
  });
});

describe("migrate dialog, swarm node", () => {
  const worker: VmSwarmRole = {
    node: "worker1",
    nodeId: "n1",
    role: "worker",
    availability: "active",
    status: "ready",
    tasks: [
      { id: "t1", serviceName: "web", slot: 2, state: "running" },
      { id: "t2", serviceName: "monitoring", slot: null, state: "running" },
    ],
    drain: { procedure: "swarm.setAvailability", input: { node: "worker1", availability: "drain" } },
  };
  it("names the tasks the VM runs and offers to drain first", () => {
    const text = renderText(<SwarmNodeNotice vm="worker1" swarm={worker} drainButton={<button>Drain first</button>} />);
    expect(text).toContain("worker1 is a swarm worker");
    expect(text).toContain("Runs 2 tasks: web.2, monitoring");
    expect(text).toContain("draining first moves them to other nodes");
    expect(text).toContain("Drain first");
  });
  it("says a drained node has no task left", () => {
    const text = renderText(<SwarmNodeNotice vm="worker1" swarm={{ ...worker, availability: "drain", tasks: [], drain: null }} />);
    expect(text).toContain("Drained: no task runs on it any more");
  });
});

describe("preflight list", () => {
  it("tells the checks the agents ran at start apart from the inventory's", () => {
    const text = renderText(
      <PreflightList
        checks={[
          { id: "agent-memory", label: "Memory on kvm2 (now)", result: "fail", reason: "needs 4096 MiB; kvm2 has 1024 MiB free after 512 MiB headroom" },
          { id: "storage", label: "Shared storage", result: "pass", reason: "disks on /instance" },
        ]}
      />,
    );
    expect(text).toMatch(/^Re-checked on the hosts just now ✕Memory on kvm2 \(now\)failneeds 4096 MiB.*From the inventory ✓Shared storage/);
  });
});

describe("storage mounts", () => {
  const mounts = Array.from({ length: 2_000 }, (_, i) => ({ host: `hv${i + 1}`, source: "10.0.0.100:/instance", target: "/instance" }));
  mounts.push({ host: "kvm1", source: "10.0.0.100:/instance2", target: "/instance2" });
  it("groups thousands of mounts into one row per export and mount point, hosts in natural order", () => {
    const groups = mountGroups(mounts);
    expect(groups.map((g) => [g.target, g.hosts.length])).toEqual([
      ["/instance", 2_000],
      ["/instance2", 1],
    ]);
    expect(groups[0]!.hosts.slice(0, 3)).toEqual(["hv1", "hv2", "hv3"]);
  });
  it("names a few hosts and counts the rest", () => {
    const text = renderText(<MountGroups mounts={mounts} />);
    expect(text).toContain("hv1, hv2, hv3, hv4, hv5, hv6, hv7, hv8 and 1,992 more");
    expect(text).not.toContain("hv9,");
  });
});
