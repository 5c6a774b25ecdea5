import { z } from "zod";
import {
  ImageBuildRequest,
  ImageDeleteRequest,
  ImageImportRequest,
  ImageName,
  NimbusError,
  OperationStarted,
  imageBuildProblem,
  imageCatalog,
  imageDeleteProblem,
  imageUsers,
  type HostRecord,
} from "@nimbus/domain";
import type { ApiDeps } from "../deps.js";
import { notFound, staffProcedure } from "../trpc.js";


/** The storage server that answers for a datastore: the one exporting it, the VIP holder first. */
function storageServerFor(hosts: readonly HostRecord[], datastore: string): HostRecord {
  const servers = hosts
    .filter((h) => h.inventory.storage?.nfs?.exports.some((e) => e.path === datastore))
    .sort((a, b) => Number(!!b.inventory.storage!.nfs!.vip?.heldHere) - Number(!!a.inventory.storage!.nfs!.vip?.heldHere));
  const server = servers[0];
  if (!server) throw notFound(`datastore ${datastore}`);
  return server;
}

function deleteImage(deps: ApiDeps, req: ImageDeleteRequest) {
  const hosts = deps.fleet.hosts();
  const image = imageCatalog(hosts)
    .find((d) => d.datastore === req.datastore)
    ?.images.find((i) => i.name === req.name);
  if (!image) throw notFound(`image ${req.name} on ${req.datastore}`);
  const problem = imageDeleteProblem(image, imageUsers(hosts, image.name));
  if (problem) throw new NimbusError("CONFLICT", problem);
  return storageServerFor(hosts, req.datastore);
}

/** Admins import and delete images; the storage server holding the datastore does the work (it fetches, never the Nimbus server). */
export const imageAdminProcedures = {
  /** Instances built from each image (by name), for the catalog's "used by" and its Delete button. */
  usage: staffProcedure("read:fleet")
    .output(z.array(z.object({ name: ImageName, usedBy: z.array(z.string()) })))
    .query(({ ctx }) => {
      const hosts = ctx.deps.fleet.hosts();
      const names = [...new Set(imageCatalog(hosts).flatMap((d) => d.images.map((i) => i.name)))].sort();
      return names.map((name) => ({ name, usedBy: imageUsers(hosts, name) }));
    }),

  /** An image-import operation on the storage server: it fetches or copies (bytes reported), verifies, publishes; admins may cancel it. */
  import: staffProcedure("images:manage")
    .input(ImageImportRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => {
      const hosts = ctx.deps.fleet.hosts();
      const server = storageServerFor(hosts, input.datastore);
      if (imageCatalog(hosts).some((d) => d.datastore === input.datastore && d.images.some((i) => i.name === input.name)))
        throw new NimbusError("CONFLICT", `image ${input.name} already exists on ${input.datastore}`);
      const op = await ctx.deps.operations.startImageImport(server.name, input, ctx.viewer.name);
      return { operationId: op.id };
    }),

  /**
   * Builds Nimbus's offline base image into a datastore's repository: an image-build operation on
   * the storage server exporting it (VIP holder first), with steps and the build's log lines.
   */
  build: staffProcedure("images:manage")
    .input(ImageBuildRequest)
    .output(OperationStarted)
    .mutation(async ({ ctx, input }) => {
      const hosts = ctx.deps.fleet.hosts();
      const server = storageServerFor(hosts, input.datastore);
      const problem = imageBuildProblem(input, imageCatalog(hosts).find((d) => d.datastore === input.datastore)?.images ?? []);
      if (problem) throw new NimbusError("CONFLICT", problem);
      const op = await ctx.deps.operations.startImageBuild(server.name, input, ctx.viewer.name);
      return { operationId: op.id };
    }),

  /** Refused while any instance's disk was built from the image (imageDeleteProblem says which). */
  delete: staffProcedure("images:manage")
    .input(ImageDeleteRequest)
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      const server = deleteImage(ctx.deps, input);
      await ctx.deps.fleet.request(server.name, "storage.imageDelete", input);
      return { ok: true as const };
    }),
};
