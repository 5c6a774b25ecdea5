import { describe, expect, it } from "vitest";
import { renderHtml, renderText } from "@/fixtures/render";
import { NOW } from "@/fixtures/hosts";
import { created, creating, deleted, failedCreate, images, placement, quotaRows, tenantOptions } from "@/fixtures/provision";
import { doneMigration, failedMigration, instances, migrating, scaling } from "@/fixtures/views";
import { diskMoving, evacuating } from "@/fixtures/moves";
import { operationHeadline, operationOutcome, operationPhases } from "@/lib/operation-text";
import { DeleteInstanceForm, deleteEffects } from "./instances/delete-form";
import { OperationDetail } from "./operations/operation-detail";
import { progressPercent } from "./operations/operation-progress";
import { stepDuration } from "./operations/step-list";
import { CreateInstanceForm } from "./provision/create-form";
import { emptyValues, validate } from "./provision/create-values";
import { PlacementList } from "./provision/placement-view";
import { QuotaUsage } from "./provision/quota-view";

const values = { ...emptyValues("acme", { vlan: 110, vni: 10010 }), name: "acme-web-3", image: "debian-12" };
const form = (over: Partial<Parameters<typeof CreateInstanceForm>[0]> = {}) => (
  <CreateInstanceForm
    values={values}
    onChange={() => undefined}
    errors={{}}
    images={images}
    tenants={null}
    bridges={null}
    hosts={null}
    placement={placement}
    quotaRows={quotaRows}
    quotaRefusal={null}
    submitError={null}
    onSubmit={() => undefined}
    {...over}
  />
);

describe("create form", () => {
  it("shows a tenant its own tenant and network, fixed, with no host or bridge to pick", () => {
    const html = renderHtml(form());
    const text = renderText(form());
    expect(html).toContain('data-testid="fixed-tenant"');
    expect(text).toContain("10010");
    expect(html).not.toContain('data-testid="pin-host"');
    expect(html).not.toContain('id="c-bridge"');
    expect(html).not.toContain('id="c-tenant"');
  });

  it("lets an admin choose the tenant, the bridge and a host to pin", () => {
    const html = renderHtml(form({ tenants: tenantOptions, bridges: ["br-ovs", "br0"], hosts: ["kvm1", "kvm2"] }));
    expect(html).toContain('id="c-tenant"');
    expect(html).toContain("Pin to kvm2");
    expect(html).toContain("br0");
  });

  it("prints each field's problem next to it, in words", () => {
    const { errors } = validate({ ...values, name: "web_1", vcpus: "0" });
    const text = renderText(form({ errors }));
    expect(text).toContain("vCPUs is at least 1");
    expect(text).toContain("an instance name is also the guest's host name");
  });

  it("says where the instance goes and why, ranked, with the blocked host's reason", () => {
    const text = renderText(<PlacementList placement={placement} />);
    expect(text).toContain("Goes to kvm2: every check passes; 11264 MiB left on kvm2");
    expect(text.indexOf("kvm2")).toBeLessThan(text.indexOf("kvm1"));
    expect(text).toContain("kvm3 is unreachable");
    expect(text).toContain("Blocked");
  });

  it("says no host fits, and why, and keeps Create disabled", () => {
    const none = { ...placement, chosen: null, reason: "no hypervisor fits; closest is kvm1: 512 MiB free, 1024 MiB needed" };
    expect(renderText(<PlacementList placement={none} />)).toContain("No host fits. no hypervisor fits; closest is kvm1");
    expect(renderHtml(form({ placement: none }))).toMatch(/<button[^>]*disabled=""[^>]*data-testid="create-submit"/);
  });

  it("shows quota usage with what the request adds, and the refusal when it is over", () => {
    const refusal = "over acme's quota: needs 4 vCPU, 2 of 8 left";
    const text = renderText(<QuotaUsage rows={quotaRows} adding={{ instances: 1, vcpus: 4, memoryMiB: 1024, diskGiB: 10 }} refusal={refusal} />);
    expect(text).toContain("6 +4 of 8");
    expect(text).toContain("of unlimited");
    expect(text).toContain("Over acme's quota: needs 4 vCPU, 2 of 8 left");
    expect(renderHtml(<QuotaUsage rows={quotaRows} adding={{ vcpus: 4 }} />)).toMatch(/data-testid="quota-vcpus" data-over="true"/);
    expect(renderHtml(form({ quotaRefusal: refusal }))).toMatch(/<button[^>]*disabled=""[^>]*data-testid="create-submit"/);
  });
});

describe("operation detail", () => {
  it("shows a create's steps with their state, times and the tool's log lines", () => {
    const text = renderText(<OperationDetail op={creating} now={NOW} />);
    expect(text).toContain("Create acme-web-3 on kvm2");
    expect(text).toContain("Build the volume");
    expect(text).toContain("Resizing (using virt-resize)");
    expect(text).toContain("5 of 6 done");
    expect(text).toContain("Wait for boot");
    expect(text).toContain("Running");
    // Build took 249 - 40 s.
    expect(text).toContain("3 min 29 s");
    // The running step counts up to now.
    expect(text).toContain("36 s");
  });

  it("opens the log of the failed step and says what was cleaned up", () => {
    const html = renderHtml(<OperationDetail op={failedCreate} now={NOW} />);
    expect(html).toMatch(/<details[^>]*open=""[^>]*data-testid="step-log-build-volume"/);
    const text = renderText(<OperationDetail op={failedCreate} now={NOW} />);
    expect(text).toContain("acme-web-3 was not created: Build the volume failed: virt-builder: error");
    expect(text).toContain("No space left on device");
    expect(text).toContain("removed /var/lib/nimbus/instance/acme-web-3.qcow2");
  });

  it("shows a finished create's address", () => {
    const text = renderText(<OperationDetail op={created} now={NOW} />);
    expect(text).toContain("acme-web-3 is running at 10.10.110.23");
    expect(text).toContain("Address 10.10.110.23");
  });

  it("shows a delete's steps and what it kept", () => {
    const text = renderText(<OperationDetail op={deleted} now={NOW} />);
    expect(text).toContain("acme-old deleted in 3 s");
    expect(text).toContain("/var/lib/libvirt/images/acme-old-seed.iso");
  });

  it("shows phases for work without steps: a migration, a disk move", () => {
    const text = renderText(<OperationDetail op={migrating} now={NOW} />);
    expect(text).toContain("Phases");
    expect(operationPhases(migrating)!.map((p) => p.mark)).toEqual(["done", "current", "pending", "pending"]);
    expect(operationPhases(failedMigration)!.map((p) => p.mark)).toEqual(["done", "stopped", "pending", "pending"]);
    expect(operationPhases(doneMigration)!.every((p) => p.mark === "done")).toBe(true);
    expect(operationPhases(diskMoving)).not.toBeNull();
    expect(operationPhases(scaling)).toBeNull();
  });

  it("renders every kind: scale, evacuation, power", () => {
    expect(renderText(<OperationDetail op={scaling} now={NOW} />)).toContain("Scaling 2/4");
    expect(renderText(<OperationDetail op={evacuating} now={NOW} />)).toContain("Evacuation");
    const power = { ...doneMigration, id: "op-p", kind: "power" as const, summary: "Reboot worker2", progress: null, params: { action: "reboot" } };
    const text = renderText(<OperationDetail op={power} now={NOW} />);
    expect(text).toContain("Reboot worker2: done");
    expect(text).toContain("Action reboot");
  });

  it("offers Cancel only when given one and only while running", () => {
    expect(renderText(<OperationDetail op={creating} now={NOW} onCancel={() => undefined} />)).toContain("Cancel");
    expect(renderText(<OperationDetail op={creating} now={NOW} />)).not.toContain("Cancel");
    expect(renderText(<OperationDetail op={created} now={NOW} onCancel={() => undefined} />)).not.toMatch(/\bCancel\b/);
  });

  it("words a create as it runs: the current step and how far", () => {
    expect(operationHeadline(creating)).toBe("Creating… wait for boot (step 6 of 6)");
    expect(progressPercent(creating)).toBeCloseTo((100 * 5.5) / 6);
    expect(operationOutcome({ ...creating, state: "cancelled", progress: { kind: "create", steps: [], address: null, undone: [] } })).toBe(
      "Create of acme-web-3 cancelled; nothing was left behind",
    );
  });

  it("counts a step's duration to now while it runs", () => {
    expect(stepDuration({ startedAt: new Date(NOW - 5000).toISOString(), finishedAt: null }, NOW)).toBe(5000);
    expect(stepDuration({ startedAt: null, finishedAt: null }, NOW)).toBeNull();
  });
});

describe("delete dialog", () => {
  const vm = instances.find((i) => i.tenant === "acme" && i.diskPaths.length)!;
  it("says what goes: the domain, each volume, the tenant's network", () => {
    const effects = deleteEffects(vm, true);
    expect(effects.join("\n")).toContain(`its libvirt domain is undefined on ${vm.host}`);
    expect(effects.join("\n")).toContain(`volume ${vm.diskPaths[0]} is removed`);
    expect(effects.join("\n")).toContain(`VNI ${vm.vni}`);
  });
  it("tells a tenant no paths or host names", () => {
    const text = deleteEffects(vm, false).join("\n");
    expect(text).not.toContain(vm.host);
    expect(text).not.toContain(vm.diskPaths[0]!);
  });
  it("asks for the name and shows the refusal in words", () => {
    const text = renderText(<DeleteInstanceForm instance={vm} showPaths typed="" onTyped={() => undefined} onSubmit={() => undefined} error={{ message: "acme-db has an operation running", code: "CONFLICT", nimbusCode: null, checks: null }} />);
    expect(text).toContain(`Type ${vm.name} to confirm`);
    expect(text).toContain("Not deleted: acme-db has an operation running");
  });
});

describe("steps of an ended operation", () => {
  it("says a step after the failed one did not run, rather than that it waits", () => {
    const text = renderText(<OperationDetail op={failedCreate} now={NOW} />);
    expect(text).toContain("Wire the networkNot run");
    expect(text).not.toContain("Waiting");
  });
});

describe("a failed create's outcome", () => {
  it("names what was undone once, whether or not the server's error already says it", () => {
    const said = { ...failedCreate, error: `${failedCreate.error}; undone: removed /var/lib/nimbus/instance/acme-web-3.qcow2` };
    expect(operationOutcome(said).match(/removed \/var/g)).toHaveLength(1);
    expect(operationOutcome(failedCreate).match(/removed \/var/g)).toHaveLength(1);
  });
});
