import type { DatastoreImages, ImageEntry } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { NOW } from "@/fixtures/hosts";
import { renderHtml, renderText } from "@/fixtures/render";
import { parseImageImport } from "./image-import-form";
import { ImagesView, deleteBlocker } from "./images-view";

const GiB = 1024 ** 3;
const image = (over: Partial<ImageEntry>): ImageEntry => ({
  name: "debian-12",
  os: "debian12",
  format: "qcow2",
  virtualSizeBytes: 3 * GiB,
  checksum: { algorithm: "sha512", value: "ab".repeat(64) },
  source: { kind: "built", recipe: "debian-12" },
  datastore: "/instance",
  file: "debian-12.qcow2",
  createdAt: new Date(NOW - 2 * 3_600_000).toISOString(),
  ...over,
});
const catalog: DatastoreImages[] = [
  {
    datastore: "/instance",
    mountedOn: ["kvm1"],
    images: [image({}), image({ name: "alpine", os: "alpinelinux3.19", format: "raw", source: { kind: "url", url: "https://mirror.example/alpine.raw" }, checksum: { algorithm: "sha256", value: "c".repeat(64) } })],
  },
];
const used = new Map([["debian-12", ["acme-web1", "acme-db"]]]);

describe("images panel", () => {
  it("lists each image with OS, format, size, short checksum, source, age and how many instances use it", () => {
    const text = renderText(<ImagesView catalog={catalog} usedBy={used} now={NOW} />);
    expect(text).toMatch(/debian-12 \/instance debian12 qcow2 3(\.0)? GiB sha512:abababababab… built \(debian-12\) 2 h(ours?)? ago 2 instances/);
    expect(text).toContain("https://mirror.example/alpine.raw");
    expect(text).toMatch(/alpine .* no instance/);
  });

  it("draws admin buttons only when given; the in-use reason is the server's", () => {
    expect(renderHtml(<ImagesView catalog={catalog} usedBy={used} now={NOW} />)).not.toContain("<button");
    const html = renderHtml(
      <ImagesView catalog={catalog} usedBy={used} now={NOW} actions={(i, users) => <button disabled={!!deleteBlocker(i, users)}>Delete {i.name}</button>} />,
    );
    expect(html).toContain('<button disabled="">Delete debian-12</button>');
    expect(html).toContain("<button>Delete alpine</button>");
    expect(deleteBlocker({ name: "debian-12" }, ["acme-web1", "acme-db"])).toBe("image debian-12 is used by 2 instances: acme-web1, acme-db");
  });

  it("says so when no datastore has an image", () => {
    expect(renderText(<ImagesView catalog={[{ datastore: "/instance", mountedOn: [], images: [] }]} usedBy={new Map()} now={NOW} />)).toContain("No images yet");
  });

  it("the import form: a URL or a host path, checksum lower-cased; a bad checksum or name is said per field", () => {
    const base = { name: "bookworm", os: "debian12", datastore: "/instance", algorithm: "sha256" as const, checksum: "A".repeat(64) };
    expect(parseImageImport({ ...base, source: "https://mirror.example/x.qcow2" }).request).toMatchObject({ source: { kind: "url" }, checksum: { value: "a".repeat(64) } });
    expect(parseImageImport({ ...base, source: "/srv/images/x.qcow2" }).request).toMatchObject({ source: { kind: "file", path: "/srv/images/x.qcow2" } });
    const bad = parseImageImport({ ...base, name: "-x", source: "/srv/../etc/shadow", checksum: "abc" });
    expect(bad.request).toBeNull();
    expect(Object.keys(bad.errors).sort()).toEqual(["checksum", "name", "source"]);
  });
});
