import { afterEach, describe, expect, it } from "vitest";
import { CreateProgress, buildTopology, findings, type CreateInstanceParams, type DeleteProgress, type HostRecord } from "@nimbus/domain";
import { LabFaults } from "../src/faults.js";
import { createInstance, deleteInstance, labTunnel } from "../src/world/provision.js";
import { netSection } from "../src/world/sections/net.js";
import { nodeFacts } from "../src/world/sections/node.js";
import { storageSection } from "../src/world/sections/storage.js";
import { virtSection } from "../src/world/sections/virt.js";
import type { World } from "../src/world/world.js";
import { jobContext, testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

const params = (name: string, over: Partial<CreateInstanceParams> = {}): CreateInstanceParams => ({
  jobId: `create-${name}`,
  name,
  tenant: "acme",
  image: { name: "debian-12", os: "debian12", repositoryIndex: "/instance/.nimbus-images/index" },
  volumePath: `/instance/${name}.qcow2`,
  vcpus: 1,
  memoryMiB: 512,
  diskGiB: 4,
  nic: { bridge: "br-ovs", bridgeType: "ovs", vlan: 10 },
  wiring: [],
  sshKeys: [],
  firstBoot: ["mount -t nfs 10.10.0.100:/shared /mnt"],
  ...over,
});
const used = (path: string) => world.nfs.datastores.find((d) => d.path === path)!.usedBytes;
const domainOn = (host: string, name: string) => virtSection(world, host).domains.find((d) => d.name === name);
const vniHosts = (vni: number) => ["kvm1", "kvm2"].filter((h) => netSection(world, h).bridges.some((b) => b.ports.some((p) => p.vxlan?.vni === vni)));
/** The topology's findings over the world as the hosts report it. */
const openFindings = () => {
  const hosts: HostRecord[] = world.hostNames().map((name) => ({
    name, address: world.host(name).address, maintenance: false,
    connection: { state: "online", message: null, since: "", capabilities: [], agentVersion: "", bootId: "" },
    inventory: { node: nodeFacts(world, name), virt: world.hypervisors.has(name) ? virtSection(world, name) : null, net: netSection(world, name), swarm: null, storage: storageSection(world, name) },
  }) as unknown as HostRecord);
  const tenants = [...world.tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni })), { slug: "umbrella", name: "Umbrella", vni: 6100 }];
  return findings(buildTopology(hosts, tenants)).map((f) => `${f.id}: ${f.message}`).sort();
};

describe("create in the lab world", () => {
  it("builds the volume over tens of lab seconds, defines, boots and reports an address of the tenant's subnet", async () => {
    world = testWorld();
    const before = used("/instance");
    const ctx = jobContext<CreateProgress>();
    const done = await createInstance(world, "kvm1", params("acme-new"), ctx);
    expect(done.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "skipped", "succeeded", "succeeded", "succeeded"]);
    expect(done.address).toMatch(/^192\.168\.10\.1\d\d$/);
    expect(done.steps[1]!.log).toContain("[  72.1] Installing firstboot command: mount -t nfs 10.10.0.100:/shared /mnt");
    expect(used("/instance")).toBeGreaterThan(before);
    expect(domainOn("kvm1", "acme-new")).toMatchObject({ state: "running", tenant: "acme", nics: [{ vlan: 10, ipAddresses: [done.address] }] });
    expect(ctx.reports.every((r) => CreateProgress.safeParse(r).success)).toBe(true);
    // The build takes most of the time: the build step's span is longer than the rest together.
    const ms = (i: number) => Date.parse(done.steps[i]!.finishedAt!) - Date.parse(done.steps[i]!.startedAt!);
    expect(ms(1)).toBeGreaterThan(ms(3) + ms(4));
  });

  it("no address is reported before the first boot is done", async () => {
    world = testWorld();
    const ctx = jobContext<CreateProgress>();
    const done = createInstance(world, "kvm1", params("acme-boot"), ctx);
    await waitFor(() => ctx.reports.some((r) => r.steps[5]!.state === "running"), "waiting for the address");
    expect(domainOn("kvm1", "acme-boot")!.nics[0]!.ipAddresses).toEqual([]);
    await done;
    expect(domainOn("kvm1", "acme-boot")!.nics[0]!.ipAddresses).toHaveLength(1);
  });

  it("a new tenant's VNI: tunnels between the hosts that carry it appear with its instances and go with the last; no finding opens", async () => {
    world = testWorld();
    const before = openFindings();
    const wiring = (peers: { host: string; address: string }[]) => [{ kind: "vxlan" as const, bridge: "br-ovs", vni: 6100, vlan: 40, peers }];
    const net = { bridge: "br-ovs", bridgeType: "ovs" as const, vlan: 40 };
    await createInstance(world, "kvm1", params("u-1", { tenant: "umbrella", nic: net, wiring: wiring([]) }), jobContext());
    await createInstance(world, "kvm2", params("u-2", { tenant: "umbrella", nic: net, wiring: wiring([{ host: "kvm1", address: "10.10.0.11" }]), volumePath: "/instance/u-2.qcow2" }), jobContext());
    // kvm1 joined first (one flow-based port, as a real host); kvm2 has its port to kvm1; kvm1's port back is the server's net.ensureTunnel.
    const ports = (host: string) => netSection(world, host).bridges.flatMap((b) => b.ports.filter((p) => p.vxlan?.vni === 6100).map((p) => `${p.name}>${p.vxlan!.remote}`));
    expect(ports("kvm1")).toEqual(["vx6100>null"]);
    expect(ports("kvm2")).toEqual([`vx6100-kvm1>${world.host("kvm1").address}`]);
    const back = { bridge: "br-ovs", vni: 6100, vlan: 40, remoteIp: world.host("kvm2").address };
    expect(labTunnel(world, "kvm1", back, true)).toEqual({ port: "vx6100-kvm2", changed: true });
    expect(labTunnel(world, "kvm1", back, true)).toEqual({ port: "vx6100-kvm2", changed: false });
    expect(ports("kvm1")).toEqual(["vx6100>null", `vx6100-kvm2>${world.host("kvm2").address}`]);
    expect(vniHosts(6100)).toEqual(["kvm1", "kvm2"]);
    expect(openFindings()).toEqual(before);
    const remove = (host: string, name: string) =>
      deleteInstance(world, host, {
        jobId: `delete-${name}`, name, kept: [],
        actions: [
          { kind: "destroy-domain", name, description: "" },
          { kind: "undefine-domain", name, description: "" },
          { kind: "release-network", tenant: "umbrella", bridge: "br-ovs", vni: 6100, vlan: 40, description: "" },
          { kind: "remove-volume", path: `/instance/${name}.qcow2`, description: "" },
        ],
      }, jobContext<DeleteProgress>());
    const first = await remove("kvm1", "u-1");
    expect(first.steps.map((s) => s.state)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"]);
    // kvm2's port to kvm1 stays until the server releases it (net.releaseTunnel), idempotently.
    expect(vniHosts(6100)).toEqual(["kvm2"]);
    const toKvm1 = { bridge: "br-ovs", vni: 6100, vlan: 40, remoteIp: world.host("kvm1").address };
    expect(labTunnel(world, "kvm2", toKvm1, false)).toEqual({ port: "vx6100-kvm1", changed: true });
    expect(labTunnel(world, "kvm2", toKvm1, false)).toEqual({ port: "vx6100-kvm1", changed: false });
    // kvm2 still runs u-2: a flow-based port replaces its last one, so it stays in the tenant's network.
    expect(ports("kvm2")).toEqual(["vx6100>null"]);
    expect(openFindings()).toEqual(before);
    await remove("kvm2", "u-2");
    expect(vniHosts(6100)).toEqual([]);
    expect(world.tunnels.has(6100)).toBe(false);
    expect(openFindings()).toEqual(before);
  });

  it("a release is skipped while another instance of the tenant uses the VLAN on that host", async () => {
    world = testWorld();
    const net = { bridge: "br-ovs", bridgeType: "ovs" as const, vlan: 40 };
    const wiring = [{ kind: "vxlan" as const, bridge: "br-ovs", vni: 6100, vlan: 40, peers: [] }];
    await createInstance(world, "kvm1", params("u-1", { tenant: "umbrella", nic: net, wiring }), jobContext());
    await createInstance(world, "kvm1", params("u-2", { tenant: "umbrella", nic: net, wiring }), jobContext());
    const done = await deleteInstance(world, "kvm1", {
      jobId: "d", name: "u-1", kept: [],
      actions: [{ kind: "undefine-domain", name: "u-1", description: "" }, { kind: "release-network", tenant: "umbrella", bridge: "br-ovs", vni: 6100, vlan: 40, description: "" }],
    }, jobContext<DeleteProgress>());
    expect(done.steps.map((s) => s.state)).toEqual(["succeeded", "skipped"]);
    expect(world.tunnels.get(6100)?.hosts.has("kvm1")).toBe(true);
  });

  it("fail-image-build: fails at the build with virt-builder's words and removes the partial volume", async () => {
    world = testWorld();
    new LabFaults(world).failImageBuild("debian-12");
    const before = used("/instance");
    const ctx = jobContext<CreateProgress>();
    await expect(createInstance(world, "kvm1", params("acme-x"), ctx)).rejects.toThrow(/^Build the volume failed: virt-builder: error: .*; undone: removed \/instance\/acme-x\.qcow2$/);
    expect(used("/instance")).toBe(before);
    expect(world.volumes.has("/instance/acme-x.qcow2")).toBe(false);
    expect(ctx.reports.at(-1)!.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "skipped", "pending", "pending", "pending"]);
  });

  it("a start that fails after define undoes the domain, the tunnels it added and the volume", async () => {
    world = testWorld();
    const ctx = jobContext<CreateProgress>();
    const wiring = [{ kind: "vxlan" as const, bridge: "br-ovs", vni: 6100, vlan: 40, peers: [] }];
    const create = createInstance(world, "kvm1", params("u-x", { tenant: "umbrella", nic: { bridge: "br-ovs", bridgeType: "ovs", vlan: 40 }, wiring }), ctx);
    await waitFor(() => ctx.reports.some((r) => r.steps[4]!.state === "running"), "start running");
    new LabFaults(world).stopLibvirtd("kvm1");
    await expect(create).rejects.toThrow(/^Start failed: .*libvirtd is not running.*; undone: undefined u-x, removed VNI 6100 from br-ovs, removed \/instance\/u-x\.qcow2$/);
    expect(world.vms.has("u-x")).toBe(false);
    expect(world.tunnels.has(6100)).toBe(false);
    expect(ctx.reports.at(-1)!.steps.map((s) => s.state)).toEqual(["succeeded", "undone", "undone", "undone", "failed", "pending"]);
  });

  it("the host loses power mid-build: the job dies with it and cleans nothing (the server does, when it returns)", async () => {
    world = testWorld();
    const ctx = jobContext<CreateProgress>();
    const create = createInstance(world, "kvm1", params("acme-y"), ctx);
    await waitFor(() => ctx.reports.some((r) => r.steps[1]!.state === "running" && r.steps[1]!.log.length > 2), "building");
    new LabFaults(world).stopHost("kvm1");
    await expect(create).rejects.toThrow("kvm1 lost power");
    expect(world.volumes.has("/instance/acme-y.qcow2")).toBe(true);
  });
});
