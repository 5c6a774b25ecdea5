import { describe, expect, it } from "vitest";
import {
  datastoreCapacity,
  datastoreOfPath,
  disksOnDatastores,
  storageMovePreflight,
  suggestStorageMoves,
  type DatastoreCapacity,
  type DiskOnDatastore,
  type HostRecord,
} from "../../src/index.js";
import { hypervisor, vm } from "../fixtures.js";

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;
const mounts = [
  { source: "10.10.0.100:/instance", target: "/instance", fstype: "nfs4" },
  { source: "10.10.0.100:/instance2", target: "/instance2", fstype: "nfs4" },
];

function nfs(datastores: { path: string; totalBytes: number; usedBytes: number }[]): HostRecord {
  const h = hypervisor("nfs1");
  return {
    ...h,
    connection: { ...h.connection, capabilities: ["net", "storage"] },
    inventory: {
      ...h.inventory,
      virt: null,
      storage: { mounts: [], nfs: { serverRunning: true, exports: datastores.map((d) => ({ path: d.path, clients: [] })), datastores, vip: { address: "10.10.0.100", heldHere: true }, keepalivedState: "master" } },
    },
  };
}
const disk = (name: string, gib: number, path = `/instance/${name}.qcow2`) => vm({ name, disks: [{ target: "vda", path, pool: null, capacityBytes: gib * GiB }] });
const withMounts = (h: HostRecord, m = mounts) => ((h.inventory.storage = { nfs: null, mounts: m }), h);

describe("datastores", () => {
  it("finds the datastore of a path by the deepest mount, never a sibling prefix", () => {
    expect(datastoreOfPath("/instance2/a.qcow2", mounts)).toEqual({ datastore: "/instance2", mountTarget: "/instance2" });
    expect(datastoreOfPath("/instance/a.qcow2", mounts)).toEqual({ datastore: "/instance", mountTarget: "/instance" });
    expect(datastoreOfPath("/var/lib/libvirt/images/a.qcow2", mounts)).toBeNull();
    expect(datastoreOfPath("/mnt/ds1/a.qcow2", [{ source: "vip:/export/ds1", target: "/mnt/ds1", fstype: "nfs" }])).toEqual({ datastore: "/export/ds1", mountTarget: "/mnt/ds1" });
  });

  it("reports capacity with levels and which hypervisors mount each datastore", () => {
    const hosts = [withMounts(hypervisor("kvm1", [disk("a", 10)])), withMounts(hypervisor("kvm2"), [mounts[0]!]), nfs([{ path: "/instance", totalBytes: 100 * GiB, usedBytes: 85 * GiB }, { path: "/instance2", totalBytes: 100 * GiB, usedBytes: 10 * GiB }])];
    expect(datastoreCapacity(hosts).map(({ path, usedPct, level, mountedOn, disks, freeBytes }) => ({ path, usedPct, level, mountedOn, disks, freeBytes }))).toEqual([
      { path: "/instance", usedPct: 85, level: "warn", mountedOn: ["kvm1", "kvm2"], disks: 1, freeBytes: 15 * GiB },
      { path: "/instance2", usedPct: 10, level: "ok", mountedOn: ["kvm1"], disks: 0, freeBytes: 90 * GiB },
    ]);
  });

  it("lists each disk once, preferring the running definition over a stale copy", () => {
    const stale = withMounts(hypervisor("kvm2", [{ ...disk("a", 10), state: "shutoff" }]));
    const live = withMounts(hypervisor("kvm1", [disk("a", 10)]));
    expect(disksOnDatastores([stale, live])).toEqual([expect.objectContaining({ instance: "a", host: "kvm1", running: true, datastore: "/instance", sizeBytes: 10 * GiB })]);
  });
});

const ds = (path: string, usedPct: number, totalBytes = TiB, mountedOn = ["kvm1", "kvm2"], disks = 1): DatastoreCapacity => ({
  path, totalBytes, usedBytes: (totalBytes * usedPct) / 100, freeBytes: (totalBytes * (100 - usedPct)) / 100, usedPct, level: usedPct >= 90 ? "crit" : usedPct >= 80 ? "warn" : "ok", mountedOn, disks,
});
const onDs = (instance: string, gib: number, datastore = "/instance", host = "kvm1"): DiskOnDatastore => ({
  instance, tenant: null, host, running: true, disk: "vda", path: `${datastore}/${instance}.qcow2`, sizeBytes: gib * GiB, datastore,
});

describe("storage move suggestions", () => {
  it("suggests nothing while every datastore is under the threshold", () => {
    expect(suggestStorageMoves({ datastores: [ds("/instance", 79), ds("/instance2", 10)], disks: [onDs("a", 100)] })).toEqual([]);
  });

  it("picks the smallest single disk that brings the datastore under 80 %", () => {
    // 85 % of 1 TiB: ~51.2 GiB must go.
    const [s] = suggestStorageMoves({ datastores: [ds("/instance", 85), ds("/instance2", 10)], disks: [onDs("huge", 300), onDs("fit", 60), onDs("tiny", 5)] });
    expect(s!.moves.map((m) => [m.instance, m.to])).toEqual([["fit", "/instance2"]]);
    expect(s!.enough).toBe(true);
    expect(s!.usedPctAfter).toBeCloseTo(85 - (60 * 100) / 1024, 5);
  });

  it("moves the biggest disks first when no single one is enough", () => {
    const [s] = suggestStorageMoves({ datastores: [ds("/instance", 95), ds("/instance2", 0)], disks: [onDs("a", 40), onDs("b", 100), onDs("c", 80)] });
    // 15 % of 1 TiB = 153.6 GiB: b (100) then the smallest that covers the rest, c (80).
    expect(s!.moves.map((m) => m.instance)).toEqual(["b", "c"]);
    expect(s!.enough).toBe(true);
  });

  it("never pushes the destination over the threshold, and uses only datastores the VM's host mounts", () => {
    const [s] = suggestStorageMoves({
      datastores: [ds("/instance", 85), ds("/near-full", 79), ds("/elsewhere", 0, TiB, ["kvm9"])],
      disks: [onDs("a", 60)],
    });
    expect(s!.moves).toEqual([]);
    expect(s!.enough).toBe(false);
    expect(s!.shortfall).toBe("no other datastore has room for the remaining disks without crossing the threshold itself");
  });

  it("spreads disks to the emptiest destination after each move", () => {
    const [s] = suggestStorageMoves({ datastores: [ds("/instance", 99), ds("/b", 30), ds("/c", 31)], disks: [onDs("x", 100), onDs("y", 100)] });
    expect(s!.moves.map((m) => [m.instance, m.to])).toEqual([["x", "/b"], ["y", "/c"]]);
  });

  it("leaves disks of busy VMs alone and says when VM disks are not what fills the datastore", () => {
    const [busy] = suggestStorageMoves({ datastores: [ds("/instance", 85), ds("/instance2", 0)], disks: [onDs("a", 60)], busyInstances: new Set(["a"]) });
    expect(busy!.moves).toEqual([]);
    expect(busy!.shortfall).toBe("moving every VM disk off /instance is not enough: other files use the rest");
    const [none] = suggestStorageMoves({ datastores: [ds("/instance", 85, TiB, ["kvm1"], 0), ds("/instance2", 0)], disks: [] });
    expect(none!.shortfall).toBe("no VM disk lives on /instance: its space is used by other files");
  });
});

describe("storage move preflight", () => {
  const kvm1 = () => withMounts(hypervisor("kvm1", [disk("web1", 20)]));
  const capacities = [ds("/instance", 85), ds("/instance2", 10)];
  const run = (over: { host?: HostRecord; datastore?: string; diskName?: string; busy?: string[]; caps?: DatastoreCapacity[]; hosts?: HostRecord[] } = {}) => {
    const host = over.host ?? kvm1();
    return storageMovePreflight({
      domain: host.inventory.virt!.domains[0]!,
      host,
      hosts: over.hosts ?? [host, withMounts(hypervisor("kvm2"))],
      disk: over.diskName ?? "vda",
      datastore: over.datastore ?? "/instance2",
      capacities: over.caps ?? capacities,
      busyInstances: new Set(over.busy ?? []),
    });
  };
  const check = (plan: ReturnType<typeof run>, id: string) => plan.checks.find((c) => c.id === id);

  it("plans a live copy to the destination's mount, every check passing", () => {
    const plan = run();
    expect(plan).toMatchObject({ mode: "live", fromDatastore: "/instance", sourcePath: "/instance/web1.qcow2", destinationPath: "/instance2/web1.qcow2", sizeBytes: 20 * GiB });
    expect(plan.checks.filter((c) => c.result !== "pass")).toEqual([]);
  });

  it("plans an offline copy for a VM that is off", () => {
    const host = withMounts(hypervisor("kvm1", [{ ...disk("web1", 20), state: "shutoff" }]));
    expect(run({ host })).toMatchObject({ mode: "offline" });
    expect(check(run({ host }), "state")?.reason).toBe("web1 is off: offline copy");
  });

  it("fails for a busy VM, a missing disk, the same datastore, an unknown one or one not mounted here", () => {
    expect(check(run({ busy: ["web1"] }), "state")?.result).toBe("fail");
    expect(check(run({ diskName: "vdb" }), "disk")?.reason).toBe("web1 has no disk vdb (has vda)");
    expect(check(run({ datastore: "/instance" }), "datastore")?.reason).toBe("vda already lives on /instance");
    expect(check(run({ datastore: "/nope" }), "datastore")?.reason).toBe("no datastore /nope (datastores: /instance, /instance2)");
    const host = withMounts(hypervisor("kvm1", [disk("web1", 20)]), [mounts[0]!]);
    expect(check(run({ host }), "datastore")?.reason).toBe("/instance2 is not mounted on kvm1");
  });

  it("fails without room on the destination and warns when the move would cross a threshold", () => {
    expect(check(run({ caps: [ds("/instance", 85), ds("/instance2", 99, 100 * GiB)] }), "space")?.reason).toBe("needs 20.0 GiB, /instance2 has 1.0 GiB free");
    expect(check(run({ caps: [ds("/instance", 85), ds("/instance2", 75, 100 * GiB)] }), "space")).toMatchObject({ result: "warn", reason: "/instance2 would be 95.0 % full (critical from 90 %)" });
  });

  it("warns when another hypervisor does not mount the destination (live migration would break)", () => {
    const caps = [ds("/instance", 85), ds("/instance2", 10, TiB, ["kvm1"])];
    expect(check(run({ caps }), "shared")).toMatchObject({ result: "warn", reason: "kvm2 do(es) not mount /instance2: web1 could not live-migrate there afterwards" });
  });

  it("fails when the destination file is already another VM's disk", () => {
    const other = withMounts(hypervisor("kvm2", [disk("web1-twin", 5, "/instance2/web1.qcow2")]));
    expect(check(run({ hosts: [kvm1(), other] }), "file")?.reason).toBe("/instance2/web1.qcow2 is already a disk of a VM");
  });
});
