import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { renderText } from "@/fixtures/render";
import { kvm2, kvm2KeyChanged, kvm3 } from "@/fixtures/hosts";
import { failedMigration, healthChecks, instances, migrating, migrationTargets, overview, scaling, storage } from "@/fixtures/views";
import { ConnectionBanner } from "./hosts/connection-banner";
import { HealthList, HealthSummary, healthHeadline } from "./health/health-view";
import { MigrateForm } from "./instances/migrate-form";
import { OperationProgress, progressPercent } from "./operations/operation-progress";
import { OverviewView } from "./overview/overview-view";
import { StorageView } from "./storage/storage-view";

/** Renderers draw from plain props: each screen piece renders from fixtures, no server. */
const render = renderText;

describe("host connection banner", () => {
  it("shows a changed key with both fingerprints and the accept button it is given", () => {
    const text = render(<ConnectionBanner host={kvm2KeyChanged} acceptKey={<button>Accept new key</button>} />);
    expect(text).toContain("Host key changed — kvm2 is blocked");
    expect(text).toContain(kvm2KeyChanged.connection.pinnedKey!);
    expect(text).toContain(kvm2KeyChanged.connection.offeredKey!);
    expect(text).toContain("Accept new key");
  });
  it("shows an unreachable host's since, last seen and next retry", () => {
    const text = render(<ConnectionBanner host={kvm3} />);
    expect(text).toContain("Unreachable since 14 min ago");
    expect(text).toContain("(last seen 14 min ago)");
    expect(text).toContain("retrying in 20 s");
    expect(text).toContain("ECONNREFUSED");
  });
  it("is absent for an online host", () => {
    expect(render(<ConnectionBanner host={kvm2} />).trim()).toBe("");
  });
});

describe("operation progress", () => {
  it("shows percent, route and the migration figures while copying", () => {
    const text = render(<OperationProgress op={migrating} onCancel={() => undefined} />);
    expect(text).toContain("Migrating… 42 %");
    expect(text).toContain("kvm1 → kvm2");
    expect(text).toContain("Dirty rate");
    expect(text).toContain("Cancel");
  });
  it("offers no Cancel when the viewer may not cancel", () => {
    expect(render(<OperationProgress op={migrating} />)).not.toContain("Cancel");
  });
  it("says where the VM still runs when the migration failed", () => {
    expect(render(<OperationProgress op={failedMigration} />)).toContain("globex-app still running on kvm1: kvm2 stopped answering");
  });
});

describe("scale progress", () => {
  it("measures the distance from the old replica count, also when scaling down", () => {
    const down = { ...scaling, params: { from: 6 }, progress: { kind: "scale" as const, service: "api", desired: 2, running: 4 } };
    expect(progressPercent(down)).toBe(50);
    expect(progressPercent({ ...scaling, params: { from: 2 } })).toBe(0);
  });
});

describe("migrate form", () => {
  it("ranks destinations and explains why a host is blocked", () => {
    const text = render(<MigrateForm instance={instances.find((i) => i.name === "acme-web")!} targets={migrationTargets} onSubmit={() => undefined} />);
    expect(text.indexOf("kvm2")).toBeLessThan(text.indexOf("kvm3"));
    expect(text).toContain("Blocked");
    expect(text).toContain("kvm3 is unreachable");
    expect(text).toContain("Post-copy");
    expect(text).toContain("the VM is lost");
  });
  it("shows the failed preflight checks a refused start returned", () => {
    const text = render(
      <MigrateForm
        instance={instances[0]!}
        targets={migrationTargets}
        onSubmit={() => undefined}
        submitError={{ message: "preflight failed", code: "PRECONDITION_FAILED", nimbusCode: "PRECONDITION_FAILED", checks: [{ id: "vni", label: "Tenant VNI", result: "fail", reason: "VNI 10010 is not present on kvm2" }] }}
      />,
    );
    expect(text).toContain("The migration was not started: preflight failed");
    expect(text).toContain("VNI 10010 is not present on kvm2");
  });
});

describe("health page", () => {
  it("leads with the count of critical and warning checks nobody acknowledged, and the acknowledged apart", () => {
    expect(healthHeadline(healthChecks)).toBe("2 critical · 1 acknowledged");
    expect(render(<HealthSummary checks={healthChecks} />)).toContain("2 critical · 1 acknowledged");
  });
  it("lists the worst first, with since and what each affects", () => {
    const html = renderToStaticMarkup(<HealthList checks={healthChecks} />);
    const states = [...html.matchAll(/<li[^>]*data-state="(\w+)"/g)].map((m) => m[1]);
    expect(states).toEqual(["crit", "crit", "warn", "unknown", "ok", "ok", "ok", "ok"]);
    const text = render(<HealthList checks={healthChecks} />);
    expect(text).toContain("since 14 min ago");
    expect(text).toContain("Affects: kvm3");
    expect(text).toContain("Acknowledged by Olivia On-call");
  });
  it("names a few of the hosts a fleet-wide check affects and counts the rest", () => {
    const vip = { ...healthChecks[0]!, id: "storage:vip", affects: Array.from({ length: 2_000 }, (_, i) => `hv${i + 1}`) };
    const text = render(<HealthList checks={[vip]} />);
    expect(text).toContain("Affects: hv1, hv2, hv3, hv4, hv5, hv6, hv7, hv8 and 1,992 more");
    expect(text).not.toContain("hv2000");
  });
  it("says all is well when nothing fails", () => {
    expect(healthHeadline(healthChecks.filter((c) => c.state === "ok"))).toBe("All 4 checks OK");
  });
});

describe("storage", () => {
  it("names the VIP holder and marks the datastore over 90 % as critical", () => {
    const text = render(<StorageView storage={storage} />);
    expect(text).toContain("10.0.0.100 held by nfs1");
    expect(text).toMatch(/\/backup.*93 %.*Critical/);
  });
  it("warns loudly when no server holds the VIP", () => {
    const text = render(<StorageView storage={{ ...storage, vipHolder: null, servers: storage.servers.map((s) => ({ ...s, holdsVip: false })) }} />);
    expect(text).toContain("held by no server");
  });
});

describe("overview", () => {
  it("shows counts and the problems", () => {
    const text = render(<OverviewView counts={overview} operations={null} />);
    expect(text).toContain(`${overview.hosts.online} / ${overview.hosts.total}`);
    expect(text).toContain("kvm3 agent");
    expect(text).toContain("Problems (4)");
  });
});
