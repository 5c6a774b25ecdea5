import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateInstanceRequest,
  buildTopology,
  chooseImage,
  createInstanceParams,
  datastoreCapacity,
  findings,
  imageCatalog,
  placeInstance,
  type CreateProgress,
  type Finding,
  type ImageEntry,
  type Operation,
  type TenantInfo,
} from "@nimbus/domain";
import { MemoryOperationStore, OperationManager, type Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { dhcpRange } from "../../src/dhcp.js";
import { EXPORT_PATH, NFS_VIP, accessPrefix, tenantBySlug } from "../../src/topology.js";
import { waitFor } from "../../src/wait.js";
import { BASE_IMAGE, ensureBaseImage } from "./base-image.js";
import { domainState, openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";
import { openAgentConsole } from "./serial-console.js";

/**
 * A created instance boots for real: the offline Debian image (built or reused from the cache,
 * the image test's build) is imported into the storage VIP holder's repository by an
 * image-import operation (the agent's `storage.imageImport` job), then the server's own create path (placement, params,
 * OperationManager.startCreate -> the hypervisor agent's virt.create) builds the volume with
 * virt-builder (TCG, --no-network), defines and starts the domain on acme's VLAN on br-ovs, and
 * waits for the address libvirt sees in kvm1's ARP table (the lab's DHCP on the tenant VLAN).
 * The guest's first-boot command mounts the export through the VIP and writes a file the test
 * finds on the host side; its serial console answers with a login prompt; delete removes the
 * domain and the volume; the network rules find nothing open before or after.
 */

const MINUTE = 60_000;
const TENANT = "acme";
const NAME = "acme-boot1";
const IMAGE = BASE_IMAGE;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO68zLD6gVSVNRqZbgngE9GugrQm2BxhZCpoOzihaBR3 test@nimbus";
const MARK = `${NAME}.first-boot`;
// Written beside and renamed: the host never reads a file the guest is still writing.
const FIRST_BOOT = `mkdir -p /nfs && mount -t nfs ${NFS_VIP}:${EXPORT_PATH} /nfs && echo "$(hostname) mounted ${NFS_VIP}:${EXPORT_PATH}" > /nfs/.${MARK} && mv /nfs/.${MARK} /nfs/${MARK}`;

const summary = (fs: readonly Finding[]) => (fs.length ? fs.map((f) => `${f.id}: ${f.message}`).join("; ") : "none");

describe("real lab: a created instance boots (image, create, address, first-boot NFS mount, console, delete)", () => {
  let lab: RealLab;
  let fleet: Fleet;
  let ops: OperationManager;
  let tenants: TenantInfo[];
  let staging: string;
  const hosts = ["kvm1", "kvm2", "nfs1", "nfs2"];
  const ended = (id: string, timeoutMs: number) =>
    waitFor(`operation ${id} to end`, async () => {
      const op = await ops.get(id);
      return op && op.state !== "running" && op.state !== "pending" ? op : null;
    }, { timeoutMs, intervalMs: 1000 });
  const current = () => findings(buildTopology(fleet.hosts(), tenants));

  beforeAll(async () => {
    lab = await openLab();
    tenants = lab.fleetConfig.tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni }));
    fleet = await startFleet(lab, hosts);
    await waitOnline(fleet, hosts);
    ops = new OperationManager(fleet, new MemoryOperationStore(), {
      tenantVni: (slug) => tenants.find((t) => t.slug === slug)?.vni ?? null,
    });
    await ops.start();
    staging = join(lab.layout.instance, ".nimbus-test-staging");
  }, 3 * MINUTE);

  afterAll(async () => {
    await ops?.stop();
    await fleet?.stop();
    if (lab) {
      await rm(staging, { recursive: true, force: true });
      await rm(join(lab.layout.instance, MARK), { force: true });
      await rm(join(lab.layout.instance, `.${MARK}`), { force: true });
    }
  });

  let image: ImageEntry;

  it("the datastore's repository holds the offline image, imported by the storage server through the agent", async () => {
    image = await ensureBaseImage(lab, fleet, ops, staging, "boot");
  }, 45 * MINUTE);

  let created: Operation;

  it("the server's create path builds the volume, starts the domain on acme's VLAN and reports the guest's DHCP address", async () => {
    expect(summary(current()), "findings before the create").toBe("none");
    const vlan = tenantBySlug(TENANT).vlan;
    // An admin's request, pinned to kvm1 (the tenants' router: libvirt reads its ARP table).
    const request = CreateInstanceRequest.parse({
      name: NAME,
      image: IMAGE,
      vcpus: 1,
      memoryMiB: 1024,
      // The template's own size: virt-builder copies it without a resize.
      diskGiB: Math.ceil(image.virtualSizeBytes / 1024 ** 3),
      tenant: TENANT,
      network: { vlan, vni: tenantBySlug(TENANT).vni },
      sshKeys: [KEY],
      firstBoot: [FIRST_BOOT],
      host: "kvm1",
    });
    const hs = fleet.hosts();
    const datastores = datastoreCapacity(hs);
    const chosenImage = chooseImage(imageCatalog(hs), request.image, datastores);
    expect(chosenImage?.name).toBe(IMAGE);
    const placement = placeInstance({ request, image: chosenImage!, hosts: hs, datastores, pending: ops.pendingCreates() });
    expect(placement.chosen?.host, placement.reason).toBe("kvm1");
    const { jobId: _jobId, ...params } = createInstanceParams("pending", request, chosenImage!, placement.chosen!);
    expect(params.volumePath).toBe(`${EXPORT_PATH}/${NAME}.qcow2`);

    const t0 = Date.now();
    const started = await ops.startCreate("kvm1", params, "real-lab-test");
    created = await ended(started.id, 25 * MINUTE);
    const took = (Date.now() - t0) / 1000;
    const steps = created.steps.map((s) => `${s.id}:${s.state} ${s.startedAt && s.finishedAt ? (Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000 : "-"} s`);
    process.stderr.write(`[boot] create ${took} s: ${steps.join(", ")}\n`);
    expect(created.error, JSON.stringify(created.steps.map((s) => [s.id, s.state, s.log.slice(-5)]))).toBeNull();
    expect(created.state).toBe("succeeded");
    expect(created.steps.map((s) => [s.id, s.state])).toEqual([
      ["check", "succeeded"],
      ["build-volume", "succeeded"],
      // acme's VNI is on kvm1 already: nothing to wire.
      ["wire-network", "skipped"],
      ["define", "succeeded"],
      ["start", "succeeded"],
      ["wait-address", "succeeded"],
    ]);
    const address = (created.progress as CreateProgress | null)?.address ?? null;
    const { first, last } = dhcpRange(vlan);
    expect(address).toMatch(new RegExp(`^${accessPrefix(vlan).replace(/\./g, "\\.")}\\.\\d+$`));
    const octet = Number(address!.split(".")[3]);
    expect(octet).toBeGreaterThanOrEqual(Number(first.split(".")[3]));
    expect(octet).toBeLessThanOrEqual(Number(last.split(".")[3]));
    expect(await domainState(lab, "kvm1", NAME)).toBe("running");
    // The domain is the tenant's, on its VLAN, in the inventory kvm1 pushes.
    const h = await waitForHost(fleet, "kvm1", `${NAME} running in its inventory`, (x) => x.inventory.virt?.domains.some((d) => d.name === NAME && d.state === "running") === true, 30_000);
    const dom = h.inventory.virt!.domains.find((d) => d.name === NAME)!;
    expect(dom.tenant).toBe(TENANT);
    expect(dom.nics[0]).toMatchObject({ bridge: "br-ovs", vlan });
    expect(dom.image).toBe(IMAGE);
    // The guest answers on its address from its router (a TCG guest just past DHCP may miss the first ping under load).
    const kvm1 = await lab.exec("kvm1");
    await waitFor(`${address} to answer a ping from kvm1`, async () => (await kvm1("ping", ["-c", "1", "-W", "2", address!], { check: false })).code === 0 || null, { timeoutMs: 60_000, intervalMs: 500 });
    expect(summary(current()), "findings with the new instance").toBe("none");
  }, 30 * MINUTE);

  it("first boot mounted the export through the VIP and wrote a file the host finds in the export", async () => {
    expect(created?.state).toBe("succeeded");
    const path = join(lab.layout.instance, MARK);
    const text = await waitFor(`${path} written by the guest`, async () => (await readFile(path, "utf8").catch(() => "")) || null, { timeoutMs: 6 * MINUTE, intervalMs: 2000 });
    expect(text.trim()).toBe(`${NAME} mounted ${NFS_VIP}:${EXPORT_PATH}`);
  }, 8 * MINUTE);

  it("its serial console answers with a login prompt, through the agent's console session", async () => {
    expect(created?.state).toBe("succeeded");
    const serial = await openAgentConsole(fleet, "kvm1", NAME);
    try {
      // Enter until the getty prints its prompt (a second session sees output from then on only).
      const prompt = await serial.expect(new RegExp(`${NAME} login: *$`, "m"), "\r", 4 * MINUTE);
      expect(prompt).toContain(`${NAME} login:`);
      // The guest reads what is typed: a user name is answered with the password prompt.
      await serial.expect(/Password: *$/m, "root\r", 60_000, false);
    } finally {
      await serial.close();
    }
  }, 6 * MINUTE);

  it("delete stops and undefines the domain and removes its volume; no finding is left open", async () => {
    expect(created?.state).toBe("succeeded");
    const started = await ops.startDelete(NAME, "real-lab-test");
    const op = await ended(started.id, 5 * MINUTE);
    expect(op.error, JSON.stringify(op.steps.map((s) => [s.id, s.state, s.log.slice(-3)]))).toBeNull();
    expect(op.state).toBe("succeeded");
    expect(await domainState(lab, "kvm1", NAME)).toBeNull();
    await expect(stat(join(lab.layout.instance, `${NAME}.qcow2`))).rejects.toThrow(/ENOENT/);
    await waitForHost(fleet, "kvm1", `${NAME} gone from its inventory`, (x) => x.inventory.virt?.domains.every((d) => d.name !== NAME) === true, 30_000);
    expect(summary(current()), "findings after the delete").toBe("none");
  }, 6 * MINUTE);
});

// Leftovers of an interrupted run would make the check step refuse the create: clear them first.
beforeAll(async () => {
  const lab = await openLab();
  const kvm1 = await lab.exec("kvm1");
  await kvm1("virsh", ["-c", "qemu:///system", "destroy", NAME], { check: false });
  await kvm1("virsh", ["-c", "qemu:///system", "undefine", NAME], { check: false });
  await rm(join(lab.layout.instance, `${NAME}.qcow2`), { force: true });
  await rm(join(lab.layout.instance, MARK), { force: true });
  await rm(join(lab.layout.instance, `.${MARK}`), { force: true });
  await mkdir(lab.layout.instance, { recursive: true });
});
