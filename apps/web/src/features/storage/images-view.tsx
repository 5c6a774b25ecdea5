import { imageDeleteProblem, type DatastoreImages, type ImageEntry, type ImageSource } from "@nimbus/domain";
import type { ReactNode } from "react";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { EmptyState } from "@/components/ui/states";
import { formatBytes, formatRelative } from "@/lib/format";

export const sourceText = (s: ImageSource) => (s.kind === "built" ? `built (${s.recipe})` : s.kind === "file" ? `file ${s.path}` : s.url);

/** Why an image cannot be deleted now (the server's own rule), or null. */
export const deleteBlocker = (image: Pick<ImageEntry, "name">, usedBy: readonly string[]) => imageDeleteProblem(image, usedBy);

/**
 * The image catalog per datastore: what each image is, where it came from, how many instances
 * were built from it. `actions` draws an image's buttons (admins only; none for the rest).
 */
export function ImagesView({
  catalog,
  usedBy,
  now,
  actions,
}: {
  catalog: readonly DatastoreImages[];
  usedBy: ReadonlyMap<string, readonly string[]>;
  now: number;
  actions?: (image: ImageEntry, usedBy: readonly string[]) => ReactNode;
}) {
  if (!catalog.some((d) => d.images.length))
    return <EmptyState title="No images yet">Each datastore keeps its base images in .nimbus-images; import one from a file or URL the storage server reaches.</EmptyState>;
  const head = ["Name", "Datastore", "OS", "Format", "Size", "Checksum", "Source", "Created", "Used by", ...(actions ? [""] : [])];
  return (
    <PlainTable head={head} testId="images" phoneHidden={[1, 3, 5, 6, 7]}>
      {catalog.flatMap((d) =>
        d.images.map((image) => {
          const users = usedBy.get(image.name) ?? [];
          return (
            <tr key={`${d.datastore}/${image.name}`} data-testid={`image-${image.name}`}>
              <td className={`${plainCell} font-mono font-medium`}>{image.name}</td>
              <td className={`${plainCell} ${phoneHiddenCell} font-mono`}>{d.datastore}</td>
              <td className={plainCell}>{image.os}</td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>{image.format}</td>
              <td className={`${plainCell} tabular-nums`}>{formatBytes(image.virtualSizeBytes)}</td>
              <td className={`${plainCell} ${phoneHiddenCell} font-mono`} title={`${image.checksum.algorithm}:${image.checksum.value}`}>
                {image.checksum.algorithm}:{image.checksum.value.slice(0, 12)}…
              </td>
              <td className={`${plainCell} ${phoneHiddenCell} max-w-56 truncate`} title={sourceText(image.source)}>
                {sourceText(image.source)}
              </td>
              <td className={`${plainCell} ${phoneHiddenCell}`}>{formatRelative(image.createdAt, now)}</td>
              <td className={plainCell} title={users.join(", ") || undefined} data-testid={`image-used-${image.name}`}>
                {users.length === 0 ? "no instance" : users.length === 1 ? "1 instance" : `${users.length} instances`}
              </td>
              {actions && <td className={`${plainCell} text-right`}>{actions(image, users)}</td>}
            </tr>
          );
        }),
      )}
    </PlainTable>
  );
}
