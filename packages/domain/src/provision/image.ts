import { z } from "zod";

/**
 * The image catalog: base images on a datastore that new instances are built from. A datastore
 * keeps its images in one virt-builder template repository (`IMAGE_REPOSITORY_DIR/index` under
 * where a hypervisor mounts it), so `virt-builder --source file:///…/index NAME` builds from any
 * of them, offline, on every hypervisor that mounts the datastore.
 */
export const IMAGE_REPOSITORY_DIR = ".nimbus-images";
/**
 * Beside the index: the catalog (a JSON array of ImageEntry) with what the index has no field
 * for (where an image came from, when). The storage server reports it in its inventory.
 */
export const IMAGE_CATALOG_FILE = "catalog.json";

/** A template name in the repository index and on the command line: never starts with '-'. */
export const ImageName = z
  .string({ error: "an image name is text" })
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, { error: "image names are 1-63 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit" });
export type ImageName = z.infer<typeof ImageName>;

/** A libosinfo short id (`virt-install --osinfo`, `osinfo-query os`), e.g. debian11. */
export const OsinfoId = z
  .string({ error: "an OS id is text" })
  .regex(/^[a-z][a-z0-9.-]{0,31}$/, { error: "an OS id is a libosinfo short id such as debian11" });

/** An export path as hypervisors mount it, e.g. /instance: plain names, no '..'. */
export const DatastorePath = z
  .string({ error: "a datastore is an export path such as /instance" })
  .max(512, { error: "a datastore path is at most 512 characters" })
  .regex(/^\/(?:[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)?$/, { error: "a datastore is an export path such as /instance" })
  .refine((p) => !p.split("/").includes(".."), { error: "a datastore path has no '..'" });

export const Checksum = z
  .object({
    algorithm: z.enum(["sha256", "sha512"], { error: "checksums are sha256 or sha512" }),
    value: z.string().regex(/^[0-9a-f]+$/, { error: "a checksum is lower-case hex" }),
  })
  .refine((c) => c.value.length === (c.algorithm === "sha256" ? 64 : 128), { error: "a sha256 checksum has 64 hex digits, a sha512 one 128", path: ["value"] });
export type Checksum = z.infer<typeof Checksum>;

/** An absolute file path on a host, of plain names: it becomes a tool argument. */
export const HostFilePath = z
  .string()
  .max(1024, { error: "a file path is at most 1024 characters" })
  .regex(/^\/(?:[A-Za-z0-9_.+-]+\/)*[A-Za-z0-9_.+-]+$/, { error: "a file on the host is an absolute path of plain names" })
  .refine((p) => !p.split("/").includes(".."), { error: "a file path has no '..'" });

const DownloadUrl = z
  .string()
  .max(2048, { error: "a URL is at most 2048 characters" })
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === "https:" || u.protocol === "http:") && !u.username && !u.password;
    } catch {
      return false;
    }
  }, { error: "an image URL is http:// or https://, without a user name or password in it" });

const FileSource = z.object({ kind: z.literal("file"), path: HostFilePath });
const UrlSource = z.object({ kind: z.literal("url"), url: DownloadUrl });

/** Where an image came from: built by Nimbus from Debian's packages, imported from a file on the host, or downloaded. */
export const ImageSource = z.discriminatedUnion("kind", [z.object({ kind: z.literal("built"), recipe: ImageName }), FileSource, UrlSource]);
export type ImageSource = z.infer<typeof ImageSource>;

const TIB = 1024 ** 4;
export const BYTES_PER_GIB = 1024 ** 3;

export const ImageEntry = z.object({
  name: ImageName,
  os: OsinfoId,
  /** Format of the template as stored (virt-builder converts to the instance's qcow2). */
  format: z.enum(["qcow2", "raw"], { error: "image formats are qcow2 or raw" }),
  /** Size of the disk the template describes; an instance's disk is at least this large. */
  virtualSizeBytes: z.number().int().positive({ error: "an image's virtual size is positive" }).max(64 * TIB, { error: "an image is at most 64 TiB" }),
  checksum: Checksum,
  source: ImageSource,
  datastore: DatastorePath,
  /** File name inside the datastore's image repository. */
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/, { error: "an image file name is plain letters, digits, '.', '_', '+' and '-'" }),
  createdAt: z.iso.datetime({ error: "createdAt is an ISO date and time" }),
});
export type ImageEntry = z.infer<typeof ImageEntry>;

/** Where a hypervisor finds a datastore's repository index, given where it mounts the datastore. */
export const imageRepositoryIndex = (mountTarget: string) => `${mountTarget.replace(/\/+$/, "")}/${IMAGE_REPOSITORY_DIR}/index`;

/** Smallest disk an instance of this image can have, in GiB. */
export const minimumDiskGiB = (image: Pick<ImageEntry, "virtualSizeBytes">) => Math.ceil(image.virtualSizeBytes / BYTES_PER_GIB);

/** virt-builder can grow a template's disk, never shrink it. */
export function diskSizeProblem(diskGiB: number, image: Pick<ImageEntry, "name" | "virtualSizeBytes">): string | null {
  const min = minimumDiskGiB(image);
  return diskGiB < min ? `image ${image.name} needs a disk of at least ${min} GiB (${diskGiB} GiB asked)` : null;
}

/** An image may be deleted only when no instance's disk was built from it and is still defined; callers pass those instances. */
export function imageDeleteProblem(image: Pick<ImageEntry, "name">, usedBy: readonly string[]): string | null {
  if (!usedBy.length) return null;
  const shown = usedBy.slice(0, 5).join(", ");
  return `image ${image.name} is used by ${usedBy.length === 1 ? "instance" : `${usedBy.length} instances:`} ${shown}${usedBy.length > 5 ? ` and ${usedBy.length - 5} more` : ""}`;
}

/**
 * An admin's import: a file on the storage host or a URL the host (never the server) fetches,
 * verified against the checksum given, stored as `<export>/.nimbus-images/<name>.<format>`.
 */
export const ImageImportRequest = z.object({
  datastore: DatastorePath,
  name: ImageName,
  os: OsinfoId,
  source: z.discriminatedUnion("kind", [FileSource, UrlSource]),
  checksum: Checksum,
});
export type ImageImportRequest = z.infer<typeof ImageImportRequest>;

export const ImageDeleteRequest = z.object({ datastore: DatastorePath, name: ImageName });
export type ImageDeleteRequest = z.infer<typeof ImageDeleteRequest>;

/** The file an image is stored as in its repository. */
export const imageFileName = (name: string, format: ImageEntry["format"]) => `${name}.${format}`;
