import { IMAGE_BUILD_TIMEOUT_MS, IMAGE_IMPORT_TIMEOUT_MS, imageBuildSteps, imageImportSteps, type ImageBuildRequest, type ImageImportRequest, type Operation } from "@nimbus/domain";

type NewOperation = Pick<Operation, "kind" | "target" | "host" | "tenant" | "requestedBy" | "summary" | "params"> & Pick<Operation, "steps">;

/** What an image build records: the storage server that builds it, the recipe and the datastore. */
export function imageBuildFields(server: string, req: ImageBuildRequest, requestedBy: string): NewOperation {
  return {
    kind: "image-build",
    target: { type: "image", name: req.recipe },
    host: server,
    tenant: null,
    requestedBy,
    summary: `Build image ${req.recipe} into ${req.datastore} on ${server}`,
    params: { recipe: req.recipe, datastore: req.datastore, timeoutMs: IMAGE_BUILD_TIMEOUT_MS },
    steps: imageBuildSteps(req),
  };
}

/** What an import records: where from (the file or URL the storage server fetches), never the server's own fetch. */
export function imageImportFields(server: string, req: ImageImportRequest, requestedBy: string): NewOperation {
  return {
    kind: "image-import",
    target: { type: "image", name: req.name },
    host: server,
    tenant: null,
    requestedBy,
    summary: `Import image ${req.name} into ${req.datastore} on ${server}`,
    params: { name: req.name, datastore: req.datastore, source: req.source.kind === "file" ? req.source.path : req.source.url, timeoutMs: IMAGE_IMPORT_TIMEOUT_MS },
    steps: imageImportSteps(req),
  };
}
