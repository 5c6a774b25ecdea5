import { IMAGE_BUILD_TIMEOUT_MS, imageBuildSteps, type ImageBuildRequest, type Operation } from "@nimbus/domain";

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
