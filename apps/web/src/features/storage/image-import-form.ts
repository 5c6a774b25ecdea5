import { ImageImportRequest } from "@nimbus/domain";

export interface ImageImportValues {
  name: string;
  os: string;
  datastore: string;
  /** A path on the storage server or an http(s) URL it reaches. */
  source: string;
  algorithm: "sha256" | "sha512";
  checksum: string;
}

/** The dialog's values as the server's request, or the first problem per field (the server's own schema says it). */
export function parseImageImport(v: ImageImportValues): { request: ImageImportRequest | null; errors: Partial<Record<keyof ImageImportValues, string>> } {
  const source = v.source.trim();
  const parsed = ImageImportRequest.safeParse({
    name: v.name.trim(),
    os: v.os.trim(),
    datastore: v.datastore,
    source: /^https?:\/\//i.test(source) ? { kind: "url", url: source } : { kind: "file", path: source },
    checksum: { algorithm: v.algorithm, value: v.checksum.trim().toLowerCase() },
  });
  if (parsed.success) return { request: parsed.data, errors: {} };
  const errors: Partial<Record<keyof ImageImportValues, string>> = {};
  for (const issue of parsed.error.issues) {
    const field = ({ name: "name", os: "os", datastore: "datastore", source: "source", checksum: "checksum" } as const)[String(issue.path[0]) as "name"];
    if (field) errors[field] ??= issue.message;
  }
  return { request: null, errors };
}
