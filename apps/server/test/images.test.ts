import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, until, viewers, type Backend } from "./backend.js";

/** The image catalog through the whole server: the storage server imports and deletes, the server refuses deleting an image in use. */
let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
}, 180_000);
afterAll(() => backend?.stop());

const admin = () => backend.as(viewers.admin);
const codeOf = async (p: Promise<unknown>) => p.then(() => "OK", (e: unknown) => (e instanceof TRPCError ? `${e.code}: ${e.message}` : String(e)));
const settledOp = (id: string) => until(() => admin().operations.get({ id }), (o) => o.state !== "running" && o.state !== "pending", `operation ${id} to settle`, 60_000);
const listed = async (datastore: string) => (await admin().images.list()).find((d) => d.datastore === datastore)?.images.map((i) => i.name) ?? [];
const importRequest = (name: string) => ({
  datastore: "/instance",
  name,
  os: "debian12",
  source: { kind: "file" as const, path: "/srv/images/bookworm.qcow2" },
  checksum: { algorithm: "sha512" as const, value: "b".repeat(128) },
});

describe("images", () => {
  it("an admin imports an image into a datastore (an image-import operation: fetch with its bytes, verify, publish), sees it listed, cannot import the name twice, and deletes it", async () => {
    const { operationId } = await admin().images.import(importRequest("bookworm"));
    const op = await settledOp(operationId);
    expect(op.error).toBeNull();
    expect(op).toMatchObject({ kind: "image-import", state: "succeeded", target: { type: "image", name: "bookworm" }, tenant: null });
    expect(op.steps.map((s) => [s.id, s.state])).toEqual([["fetch", "succeeded"], ["verify", "succeeded"], ["publish", "succeeded"]]);
    expect(op.progress).toMatchObject({ kind: "image-import", image: { name: "bookworm", datastore: "/instance", format: "qcow2", source: { kind: "file" } } });
    const p = op.progress as { bytesDone: number; bytesTotal: number | null };
    expect(p.bytesDone).toBeGreaterThan(0);
    expect(p.bytesDone).toBe(p.bytesTotal);
    await until(() => listed("/instance"), (names) => names.includes("bookworm"), "bookworm in the catalog");
    expect(await codeOf(admin().images.import(importRequest("bookworm")))).toMatch(/^CONFLICT: image bookworm already exists on \/instance/);
    expect((await admin().images.usage()).find((u) => u.name === "bookworm")).toEqual({ name: "bookworm", usedBy: [] });
    await admin().images.delete({ datastore: "/instance", name: "bookworm" });
    await until(() => listed("/instance"), (names) => !names.includes("bookworm"), "bookworm gone from the catalog");
  });

  it("an import whose checksum does not match (fail-image-import) fails at Verify with the storage server's words and lists nothing", async () => {
    await admin().lab.inject({ name: "fail-image-import", args: ["damaged"] });
    try {
      const { operationId } = await admin().images.import(importRequest("damaged"));
      const op = await settledOp(operationId);
      expect(op.state).toBe("failed");
      expect(op.error).toMatch(/^Verify failed: .*sha512 checksum does not match/);
      expect(op.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "pending"]);
      expect(await listed("/instance")).not.toContain("damaged");
    } finally {
      await admin().lab.inject({ name: "restore-image-import", args: ["damaged"] });
    }
  });

  it("an import cancelled while it downloads ends cancelled and lists nothing", async () => {
    // A download (slower than a copy on the storage server) gives the cancel time to land mid-fetch.
    const { operationId } = await admin().images.import({ ...importRequest("slow-one"), source: { kind: "url", url: "https://images.example.org/slow-one.qcow2" } });
    await until(() => admin().operations.get({ id: operationId }), (o) => o.steps.some((s) => s.id === "fetch" && s.state === "running"), "the fetch to run");
    await admin().operations.cancel({ id: operationId });
    const op = await settledOp(operationId);
    expect(op.state).toBe("cancelled");
    expect(await listed("/instance")).not.toContain("slow-one");
  });

  it("deleting an image an instance was built from is refused, naming the instance", async () => {
    const { operationId } = await admin().instances.create({ name: "acme-img1", image: "debian-12", vcpus: 1, memoryMiB: 512, diskGiB: 4, tenant: "acme", network: { vlan: 10, vni: 5001 } });
    const op = await until(() => admin().operations.get({ id: operationId }), (o) => o.state !== "running" && o.state !== "pending", "the create to settle", 60_000);
    expect(op.state).toBe("succeeded");
    await until(() => admin().images.usage(), (u) => !!u.find((i) => i.name === "debian-12")?.usedBy.includes("acme-img1"), "acme-img1 using debian-12");
    const datastore = (await admin().images.list()).find((d) => d.images.some((i) => i.name === "debian-12"))!.datastore;
    expect(await codeOf(admin().images.delete({ datastore, name: "debian-12" }))).toMatch(/^CONFLICT: image debian-12 is used by instance acme-img1/);
    expect(await listed(datastore)).toContain("debian-12");
  });

  describe("images.build: the offline base image as an operation on the storage server", () => {
    const settled = (id: string) => until(() => admin().operations.get({ id }), (o) => o.state !== "running" && o.state !== "pending", `image build ${id} to settle`, 90_000);
    const datastore = "/instance";

    it("an admin builds debian-12-docker: an image-build operation with its steps and the build's lines, then the image is listed as built", async () => {
      const { operationId } = await admin().images.build({ datastore, recipe: "debian-12-docker" });
      const op = await settled(operationId);
      expect(op.error).toBeNull();
      expect(op).toMatchObject({ kind: "image-build", state: "succeeded", target: { type: "image", name: "debian-12-docker" }, tenant: null });
      expect(op.steps.map((s) => [s.id, s.state])).toEqual([["check", "succeeded"], ["build", "succeeded"], ["publish", "succeeded"]]);
      expect(op.steps[1]!.log.join("\n")).toContain("mmdebstrap");
      await until(() => admin().images.list(), (c) => !!c.find((d) => d.datastore === datastore)?.images.some((i) => i.name === "debian-12-docker" && i.source.kind === "built"), "the built image in the catalog");
      // Built once: a second build of the same recipe into the same datastore is refused with the reason.
      expect(await codeOf(admin().images.build({ datastore, recipe: "debian-12-docker" }))).toMatch(/^CONFLICT: image debian-12-docker already exists on \/instance: delete it first/);
      await admin().images.delete({ datastore, name: "debian-12-docker" });
      await until(() => listed(datastore), (names) => !names.includes("debian-12-docker"), "debian-12-docker deleted");
    });

    it("a failing build (fail-image-build) fails at 'Build the image' with the tool's words and lists nothing", async () => {
      await admin().lab.inject({ name: "fail-image-build", args: ["debian-12-docker"] });
      try {
        const { operationId } = await admin().images.build({ datastore, recipe: "debian-12-docker" });
        const op = await settled(operationId);
        expect(op.state).toBe("failed");
        expect(op.error).toMatch(/^Build the image failed: mmdebstrap exited with 1/);
        expect(op.steps.map((s) => s.state)).toEqual(["succeeded", "failed", "pending"]);
        expect(await listed(datastore)).not.toContain("debian-12-docker");
      } finally {
        await admin().lab.inject({ name: "restore-image-build", args: ["debian-12-docker"] });
      }
    });

    it("a build cancelled while it builds ends cancelled, and a second build of the recipe is refused while one runs", async () => {
      const { operationId } = await admin().images.build({ datastore, recipe: "debian-12-docker" });
      await until(() => admin().operations.get({ id: operationId }), (o) => o.steps.some((s) => s.id === "build" && s.state === "running"), "the build step to run");
      expect(await codeOf(admin().images.build({ datastore, recipe: "debian-12-docker" }))).toMatch(/^(CONFLICT|PRECONDITION_FAILED)/);
      await admin().operations.cancel({ id: operationId });
      const op = await settled(operationId);
      expect(op.state).toBe("cancelled");
      expect(await listed(datastore)).not.toContain("debian-12-docker");
    });

    it("bad input and other roles are refused: an unknown recipe, a datastore nobody exports, an operator, a tenant", async () => {
      expect(await codeOf(admin().images.build({ datastore, recipe: "windows-11" as "debian-12-docker" }))).toMatch(/^BAD_REQUEST/);
      expect(await codeOf(admin().images.build({ datastore: "/nowhere", recipe: "debian-12-docker" }))).toMatch(/^NOT_FOUND: datastore \/nowhere/);
      expect(await codeOf(backend.as(viewers.operator).images.build({ datastore, recipe: "debian-12-docker" }))).toMatch(/^FORBIDDEN/);
      expect(await codeOf(backend.as(viewers.acme).images.build({ datastore, recipe: "debian-12-docker" }))).toMatch(/^FORBIDDEN/);
    });
  });
});
