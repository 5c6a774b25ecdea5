import { open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { Checksum, ImageName } from "@nimbus/domain";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError, conflict } from "../errors.js";
import { cacheEntryName, imageCacheKey, type BaseImageRecipe } from "./image-build-recipe.js";

/**
 * The build cache: one directory per recipe (`NAME-KEY16/`) holding the qcow2 template and
 * `build.json`. An entry appears only by renaming a finished build into place, so a directory
 * that exists is a whole image; one whose record or file does not match is rebuilt.
 */

export const BUILD_RECORD = "build.json";

export const CachedImage = z.object({
  key: z.string().regex(/^[0-9a-f]{64}$/),
  name: ImageName,
  os: z.string(),
  suite: z.string(),
  packages: z.array(z.string()),
  recipeVersion: z.number().int(),
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/),
  format: z.literal("qcow2"),
  virtualSizeBytes: z.number().int().positive(),
  fileBytes: z.number().int().positive(),
  checksum: Checksum,
  builtAt: z.iso.datetime(),
  buildSeconds: z.number().nonnegative(),
});
export type CachedImage = z.infer<typeof CachedImage>;

export const cacheEntryDir = (cacheDir: string, recipe: BaseImageRecipe) => join(cacheDir, cacheEntryName(recipe));

/** The cached image for this recipe, or null (none, or not whole: then it is rebuilt). */
export async function readCachedImage(cacheDir: string, recipe: BaseImageRecipe): Promise<{ dir: string; image: CachedImage } | null> {
  const dir = cacheEntryDir(cacheDir, recipe);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, BUILD_RECORD), "utf8"));
  } catch {
    return null;
  }
  const parsed = CachedImage.safeParse(raw);
  if (!parsed.success || parsed.data.key !== imageCacheKey(recipe)) return null;
  const size = await stat(join(dir, parsed.data.file)).then((s) => s.size, () => -1);
  return size === parsed.data.fileBytes ? { dir, image: parsed.data } : null;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * One build per recipe at a time on this host: a lock file holding the builder's pid. A lock
 * left by a process that is gone is taken over.
 */
export async function lockBuild(cacheDir: string, recipe: BaseImageRecipe): Promise<() => Promise<void>> {
  const path = join(cacheDir, `${cacheEntryName(recipe)}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx", 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw new AgentError(AgentErrorCode.internal, `cannot lock the image build at ${path}: ${(e as Error).message}`);
      const pid = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw conflict(`image ${recipe.name} is already being built on this host (process ${pid}, lock ${path})`);
      await rm(path, { force: true });
    }
  }
  throw conflict(`image ${recipe.name}: could not take the build lock ${path}`);
}
