import { isAbsolute } from "node:path";
import { BaseImageRecipe, DEFAULT_BASE_IMAGE, debianSources } from "./image-build-recipe.js";
import { buildBaseImage } from "./image-build.js";
import { stderrLog } from "./log.js";

/** Built images live here unless --cache says otherwise: outside any checkout, kept between builds. */
export const DEFAULT_IMAGE_CACHE = "/var/cache/nimbus-images";

export const IMAGE_USAGE = `  nimbus-agent image build --out DIR [--cache DIR] [--mirror URL] [--rebuild]
                                               build the Debian base image from Debian's packages (cached in
                                               ${DEFAULT_IMAGE_CACHE} unless --cache) and publish it in DIR as a
                                               virt-builder repository (DIR/index lists only this image)`;

export interface ImageCommandArgs {
  out?: string;
  cache?: string;
  mirror?: string;
  rebuild?: boolean;
}

/** `nimbus-agent image build`: the build's progress on stderr, its catalog entry as JSON on stdout. */
export async function imageCommand(sub: string | undefined, args: ImageCommandArgs): Promise<number> {
  if (sub !== "build") {
    process.stderr.write(`nimbus-agent image: unknown subcommand ${sub ?? "(none)"}\nusage:\n${IMAGE_USAGE}\n`);
    return 2;
  }
  if (!args.out || !isAbsolute(args.out) || (args.cache && !isAbsolute(args.cache))) {
    process.stderr.write("nimbus-agent image build: --out DIR is required, and --out and --cache are absolute paths\n");
    return 2;
  }
  const recipe = BaseImageRecipe.safeParse({ ...DEFAULT_BASE_IMAGE, ...(args.mirror ? { sources: debianSources(DEFAULT_BASE_IMAGE.suite, args.mirror) } : {}) });
  if (!recipe.success) {
    process.stderr.write(`nimbus-agent image build: ${recipe.error.issues.map((i) => i.message).join("; ")}\n`);
    return 2;
  }
  const result = await buildBaseImage({ recipe: recipe.data, cacheDir: args.cache ?? DEFAULT_IMAGE_CACHE, outDir: args.out, rebuild: args.rebuild, log: stderrLog });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
