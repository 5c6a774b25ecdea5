import { afterEach, describe, expect, it } from "vitest";
import { AgentErrorCode, type ImageImportRequest } from "@nimbus/domain";
import type { AgentError } from "@nimbus/agent";
import { deleteImage, importImage } from "../src/world/images.js";
import { storageSection } from "../src/world/sections/storage.js";
import type { World } from "../src/world/world.js";
import { testWorld } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;
const server = () => world.nfs.servers[0]!.name;
const imported = (name: string, over: Partial<ImageImportRequest> = {}): ImageImportRequest => ({
  datastore: "/instance",
  name,
  os: "debian12",
  source: { kind: "url", url: "http://mirror.example/images/debian.qcow2" },
  checksum: { algorithm: "sha256", value: "a".repeat(64) },
  ...over,
});
const reported = () => storageSection(world, server()).nfs!.images!.map((i) => `${i.datastore}:${i.name}:${i.file}`);

describe("lab image repository", () => {
  it("imports an image in lab time (format from the source, catalog reported by the storage server) and deletes it", async () => {
    world = testWorld();
    const used = world.nfs.datastores.find((d) => d.path === "/instance")!.usedBytes;
    const entry = await importImage(world, server(), imported("debian-dl"));
    expect(entry).toMatchObject({ name: "debian-dl", format: "qcow2", file: "debian-dl.qcow2", source: { kind: "url" }, checksum: { algorithm: "sha256" } });
    expect(reported()).toContain("/instance:debian-dl:debian-dl.qcow2");
    expect(world.nfs.datastores.find((d) => d.path === "/instance")!.usedBytes).toBeGreaterThan(used);
    deleteImage(world, server(), { datastore: "/instance", name: "debian-dl" });
    expect(reported()).not.toContain("/instance:debian-dl:debian-dl.qcow2");
    expect(world.nfs.datastores.find((d) => d.path === "/instance")!.usedBytes).toBe(used);
  });

  it("a raw file from the host keeps raw", async () => {
    world = testWorld();
    const entry = await importImage(world, server(), imported("local-raw", { source: { kind: "file", path: "/srv/images/local.img" } }));
    expect(entry).toMatchObject({ format: "raw", file: "local-raw.raw", source: { kind: "file", path: "/srv/images/local.img" } });
  });

  it("a name taken on the datastore is a conflict; an unknown datastore or image is notFound", async () => {
    world = testWorld();
    expect((await reject(importImage(world, server(), imported("debian-12")))).code).toBe(AgentErrorCode.conflict);
    expect((await reject(importImage(world, server(), imported("x", { datastore: "/nope" })))).code).toBe(AgentErrorCode.notFound);
    expect(() => deleteImage(world, server(), { datastore: "/instance", name: "nope" })).toThrow(/image nope on \/instance not found/);
  });

  it("a checksum that does not match fails the import and leaves the catalog as it was", async () => {
    world = testWorld();
    world.failingImageImports.add("bad-sum");
    const before = reported();
    const e = await reject(importImage(world, server(), imported("bad-sum")));
    expect(e.code).toBe(AgentErrorCode.toolFailed);
    expect(e.message).toMatch(/sha256 checksum does not match/);
    expect(reported()).toEqual(before);
  });
});
