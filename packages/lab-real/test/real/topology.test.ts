import { buildTopology, findings, type Finding, type TenantInfo } from "@nimbus/domain";
import type { Fleet } from "@nimbus/fleet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LabError } from "../../src/errors.js";
import type { NodeExec } from "../../src/exec.js";
import type { RealLab } from "../../src/lab.js";
import { BR0_PREFIX, FULL_SIZE_PING_PAYLOAD, accessPrefix, hypervisors, mgmtAddress, nodeByName, tenantBySlug } from "../../src/topology.js";
import { waitFor } from "../../src/wait.js";
import { ensureVmOn, openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";

/**
 * The product's network rules on the lab's own inventory, built exactly as the server builds it
 * (`buildTopology(fleet.hosts(), tenants)`, tenants from the lab's fleet config). The healthy
 * lab must give no finding at all; a broken tunnel must give its finding through the inventory
 * the agents push, and lose it again once repaired.
 */

const PUSH_TIMEOUT_MS = 10_000;

const summary = (fs: readonly Finding[]) => (fs.length ? fs.map((f) => `${f.id}: ${f.message}`).join("; ") : "none");

describe("real lab: network findings from the pushed inventory", () => {
  let lab: RealLab;
  let fleet: Fleet;
  let tenants: TenantInfo[];
  let kvm1: NodeExec;
  const kvm2Octet = nodeByName("kvm2").octet;
  const current = () => findings(buildTopology(fleet.hosts(), tenants));

  /**
   * Resolves once `done` holds for the findings, judged again on every host change the fleet
   * pushes: the test never asks a host for anything, it only waits for the agents.
   */
  function pushedFindings(what: string, done: (fs: Finding[]) => boolean): Promise<{ findings: Finding[]; ms: number }> {
    const t0 = Date.now();
    return new Promise((resolve, reject) => {
      let last: Finding[] = [];
      let off = () => {};
      const timer = setTimeout(() => {
        off();
        reject(new LabError(`no pushed inventory gave ${what} within ${PUSH_TIMEOUT_MS} ms; findings now: ${summary(last)}`));
      }, PUSH_TIMEOUT_MS);
      const judge = () => {
        last = current();
        if (!done(last)) return false;
        clearTimeout(timer);
        off();
        resolve({ findings: last, ms: Date.now() - t0 });
        return true;
      };
      if (!judge()) off = fleet.subscribe((e) => void (e.type === "host" && judge()));
    });
  }

  /** One ping from kvm1 to kvm2's address on a segment, Don't Fragment. */
  const pingKvm2 = async (prefix: string, payload = 56) =>
    (await kvm1("ping", ["-c", "1", "-W", "1", "-M", "do", "-s", String(payload), `${prefix}.${kvm2Octet}`], { check: false })).code === 0;

  beforeAll(async () => {
    lab = await openLab();
    kvm1 = await lab.exec("kvm1");
    tenants = lab.fleetConfig.tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni }));
    // The mesh rule counts a tenant's hypervisors by where its VMs run: start from the lab's placement.
    await ensureVmOn(lab, "acme-web1", "kvm1", "kvm2");
    const names = lab.fleetConfig.hosts.map((h) => h.name);
    fleet = await startFleet(lab);
    await waitOnline(fleet, names);
    const hv = new Set(hypervisors().map((n) => n.name));
    await Promise.all(
      names.map((n) => waitForHost(fleet, n, "net (and virt on hypervisors) known", (h) => h.inventory.net !== null && (!hv.has(n) || h.inventory.virt !== null))),
    );
  });
  afterAll(() => fleet?.stop());

  it("the healthy lab has no findings at all", () => {
    expect(summary(current())).toBe("none");
  });

  it("full-size packets cross every tenant VXLAN and br0's VXLAN unfragmented (what no MTU finding vouches for)", async () => {
    for (const t of tenants) expect(await pingKvm2(accessPrefix(tenantBySlug(t.slug).vlan), FULL_SIZE_PING_PAYLOAD), `VNI ${t.vni}`).toBe(true);
    expect(await pingKvm2(BR0_PREFIX, FULL_SIZE_PING_PAYLOAD), "br0").toBe(true);
  });

  it("a tenant tunnel on kvm1 aimed at the wrong host: exactly its VNI's mesh finding is pushed, and the repair clears it", async () => {
    const acme = tenants.find((t) => t.slug === "acme")!;
    const port = `vx${acme.vni}`;
    const acmeToKvm2 = () => pingKvm2(accessPrefix(tenantBySlug(acme.slug).vlan));
    const remote = JSON.parse((await kvm1("ovs-vsctl", ["get", "Interface", port, "options:remote_ip"])).stdout) as string;
    expect(await acmeToKvm2()).toBe(true);
    // A host of the fleet that is not in acme's mesh (a remote copied from the wrong line).
    // OVS tunnel ports cannot be set admin-down and always report link_state up, and deleting the
    // port would add vni-missing (acme has a VM on kvm1): a wrong remote is what breaks one direction only.
    await kvm1("ovs-vsctl", ["set", "Interface", port, `options:remote_ip=${mgmtAddress(nodeByName("nfs1"))}`]);
    try {
      const broken = await pushedFindings(`the mesh finding of VNI ${acme.vni}`, (fs) => fs.some((f) => f.kind === "mesh-incomplete"));
      console.log(`mesh finding pushed ${broken.ms} ms after the break`);
      expect(broken.findings).toEqual([
        {
          id: `mesh-incomplete:${acme.vni}`,
          kind: "mesh-incomplete",
          severity: "crit",
          message: `VXLAN mesh of VNI ${acme.vni} (acme) is incomplete: no working tunnel kvm1 → kvm2`,
          objects: { vni: acme.vni, tenants: ["acme"], hosts: ["kvm1", "kvm2"] },
        },
      ]);
      await waitFor("acme's traffic from kvm1 to kvm2 to stop", async () => !(await acmeToKvm2()), { timeoutMs: 10_000 });
    } finally {
      await kvm1("ovs-vsctl", ["set", "Interface", port, `options:remote_ip=${remote}`]);
    }
    const repaired = await pushedFindings("no findings after the repair", (fs) => !fs.some((f) => f.kind === "mesh-incomplete"));
    expect(summary(repaired.findings)).toBe("none");
    console.log(`finding cleared ${repaired.ms} ms after the repair`);
    await waitFor("acme's traffic from kvm1 to kvm2 to flow again", acmeToKvm2, { timeoutMs: 10_000 });
  });
});
