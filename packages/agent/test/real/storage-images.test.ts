import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentErrorCode, type ImageImportRequest } from "@nimbus/domain";
import type { AgentError } from "../../src/errors.js";
import { AgentConfig } from "../../src/real/config.js";
import { RealStorageDriver } from "../../src/real/storage.js";
import { RealImageRepository } from "../../src/real/storage-images.js";
import { Tool } from "../../src/real/tool.js";

const qemuImg = new Tool("qemu-img", { path: "qemu-img", args: [], env: {} });
const sha512 = (path: string) => createHash("sha512").update(readFileSync(path)).digest("hex");
const reject = async (p: Promise<unknown>) => (await p.then(() => null, (e: unknown) => e)) as AgentError;

let dir: string;
let server: Server | null = null;
let repo: RealImageRepository;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "nimbus-images-"));
  repo = new RealImageRepository(qemuImg, async (ds) => (ds === "/instance" ? join(dir, "export") : null));
});
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = null;
  rmSync(dir, { recursive: true, force: true });
});

/** A loopback HTTP server serving one file at /image (anything else 404). */
async function serve(file: string): Promise<string> {
  server = createServer((req, res) => {
    if (req.url !== "/image") return res.writeHead(404).end("not found");
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function qcow2(name: string): Promise<string> {
  const path = join(dir, name);
  await qemuImg.run(["create", "-q", "-f", "qcow2", path, "64M"]);
  return path;
}

function rawFile(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.alloc(1024 * 1024, 7));
  return path;
}

const request = (name: string, source: ImageImportRequest["source"], value: string): ImageImportRequest => ({
  datastore: "/instance",
  name,
  os: "debian12",
  source,
  checksum: { algorithm: "sha512", value },
});
const repository = () => join(dir, "export", ".nimbus-images");
const catalog = () => JSON.parse(readFileSync(join(repository(), "catalog.json"), "utf8")) as { name: string }[];
const index = () => readFileSync(join(repository(), "index"), "utf8");

describe("real image repository", () => {
  it("imports a qcow2 from a file on the host: checksum verified, format from qemu-img, catalog and virt-builder index written", async () => {
    const src = await qcow2("src.qcow2");
    const entry = await repo.import(request("deb-file", { kind: "file", path: src }, sha512(src)));
    expect(entry).toMatchObject({ name: "deb-file", format: "qcow2", file: "deb-file.qcow2", virtualSizeBytes: 64 * 1024 ** 2, datastore: "/instance", source: { kind: "file", path: src } });
    expect(readFileSync(join(repository(), "deb-file.qcow2"))).toEqual(readFileSync(src));
    expect(catalog().map((i) => i.name)).toEqual(["deb-file"]);
    expect(index()).toContain(`[deb-file]\nname=deb-file\nosinfo=debian12\narch=x86_64\nfile=deb-file.qcow2\nchecksum[sha512]=${sha512(src)}\nformat=qcow2\nsize=${64 * 1024 ** 2}`);
  });

  it("downloads a raw image from a URL the host reaches (a loopback server), then deletes it: file gone, catalog and index rewritten", async () => {
    const src = rawFile("src.raw");
    const url = `${await serve(src)}/image`;
    await repo.import(request("deb-url", { kind: "url", url }, sha512(src)));
    const kept = await qcow2("kept.qcow2");
    await repo.import(request("kept", { kind: "file", path: kept }, sha512(kept)));
    expect(readdirSync(repository()).sort()).toEqual(["catalog.json", "deb-url.raw", "index", "kept.qcow2"]);
    expect(index()).toContain("[deb-url]");
    await repo.delete({ datastore: "/instance", name: "deb-url" });
    expect(readdirSync(repository()).sort()).toEqual(["catalog.json", "index", "kept.qcow2"]);
    expect(catalog().map((i) => i.name)).toEqual(["kept"]);
    expect(index()).not.toContain("deb-url");
  });

  it("a checksum that does not match fails the import and leaves nothing in the repository", async () => {
    const src = await qcow2("src.qcow2");
    const e = await reject(repo.import(request("bad", { kind: "file", path: src }, "0".repeat(128))));
    expect(e.code).toBe(AgentErrorCode.toolFailed);
    expect(e.message).toMatch(/^sha512 of the image is [0-9a-f]{16}…, not the 0{16}… given$/);
    expect(readdirSync(repository())).toEqual([]);
  });

  it("a URL answering 404 and a missing file fail with what went wrong; nothing is left behind", async () => {
    const base = await serve(rawFile("src.raw"));
    const e = await reject(repo.import(request("gone", { kind: "url", url: `${base}/nothing` }, "0".repeat(128))));
    expect(e.code).toBe(AgentErrorCode.toolFailed);
    expect(e.message).toBe(`fetching ${base}/nothing: HTTP 404`);
    expect((await reject(repo.import(request("gone", { kind: "file", path: "/nonexistent/x.qcow2" }, "0".repeat(128))))).code).toBe(AgentErrorCode.notFound);
    expect(readdirSync(repository())).toEqual([]);
  });

  it("a taken name is a conflict; an image or datastore it does not have is notFound", async () => {
    const src = await qcow2("src.qcow2");
    await repo.import(request("one", { kind: "file", path: src }, sha512(src)));
    expect((await reject(repo.import(request("one", { kind: "file", path: src }, sha512(src))))).code).toBe(AgentErrorCode.conflict);
    expect((await reject(repo.import({ ...request("two", { kind: "file", path: src }, sha512(src)), datastore: "/etc" }))).code).toBe(AgentErrorCode.notFound);
    expect((await reject(repo.delete({ datastore: "/instance", name: "nope" }))).code).toBe(AgentErrorCode.notFound);
  });

  it("the storage driver writes only into a configured export's directory", async () => {
    const cfg = AgentConfig.parse({ storage: { exports: [{ path: "/instance", localPath: join(dir, "ds") }] } });
    const stub = new Tool("nimbus-no-such-tool", { path: "nimbus-no-such-tool", args: [], env: {} });
    const driver = new RealStorageDriver({ showmount: stub, rpcinfo: stub, df: stub, ip: stub }, cfg.storage, "/proc", true, qemuImg);
    const src = await qcow2("src.qcow2");
    expect((await reject(driver.imageRepository!.import({ ...request("x", { kind: "file", path: src }, sha512(src)), datastore: "/tmp" }))).code).toBe(AgentErrorCode.notFound);
    await driver.imageRepository!.import(request("x", { kind: "file", path: src }, sha512(src)));
    expect(existsSync(join(dir, "ds", ".nimbus-images", "x.qcow2"))).toBe(true);
  });
});
