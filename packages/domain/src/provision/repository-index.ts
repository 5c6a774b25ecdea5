import { NimbusError } from "../errors.js";
import type { ImageEntry } from "./image.js";

/**
 * The `index` of a datastore's virt-builder template repository, written from the catalog
 * (virt-builder-repository did not work offline; the fields are the ones the guest-image notes
 * verified by hand). virt-builder checks only sha512 checksums; an image imported with a sha256
 * one was verified when it was imported and is listed without.
 */
export interface IndexedImage {
  image: Pick<ImageEntry, "name" | "os" | "file" | "format" | "virtualSizeBytes" | "checksum">;
  /** Size of the file as stored when it is compressed (.xz). */
  compressedSizeBytes?: number;
  /** The partition virt-resize grows to the instance's disk size, e.g. /dev/sda1. */
  expand?: string;
}

const field = (key: string, value: string | number) => {
  const v = String(value);
  // One field per line: a value with a line break would add fields of its own.
  if (/[\r\n]/.test(v)) throw new NimbusError("BAD_INPUT", `repository index field ${key} holds a line break`);
  return `${key}=${v}`;
};

export function virtBuilderIndex(images: readonly IndexedImage[]): string {
  const sections = [...images]
    .sort((a, b) => a.image.name.localeCompare(b.image.name))
    .map(({ image, compressedSizeBytes, expand }) => {
      if (expand !== undefined && !/^\/dev\/[sv]d[a-z][0-9]{1,2}$/.test(expand)) throw new NimbusError("BAD_INPUT", `expand ${expand.slice(0, 40)} is not a partition such as /dev/sda1`);
      return [
        `[${image.name}]`,
        field("name", image.name),
        field("osinfo", image.os),
        field("arch", "x86_64"),
        field("file", image.file),
        ...(image.checksum.algorithm === "sha512" ? [field("checksum[sha512]", image.checksum.value)] : []),
        field("format", image.format),
        field("size", image.virtualSizeBytes),
        ...(compressedSizeBytes !== undefined ? [field("compressed_size", compressedSizeBytes)] : []),
        ...(expand ? [field("expand", expand)] : []),
      ].join("\n");
    });
  return sections.length ? `${sections.join("\n\n")}\n` : "";
}
