import { lstat, mkdir, readFile, readdir, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "../errors.js";
import type { RootfsChange } from "./image-build-recipe.js";
import type { Tool } from "./tool.js";

/** Where `guestPath` is on the host, under the new root (guest paths are absolute, plain). */
export const inRoot = (root: string, guestPath: string) => join(root, guestPath);

/** Writes the recipe's files and unit links into the bootstrapped root. */
export async function applyRootfsChanges(root: string, changes: readonly RootfsChange[]): Promise<void> {
  for (const c of changes) {
    switch (c.kind) {
      case "file": {
        const path = inRoot(root, c.path);
        await mkdir(dirname(path), { recursive: true });
        // A link left by a package would send the write outside the file it names.
        await unlink(path).catch(() => undefined);
        await writeFile(path, c.content, { mode: c.mode ?? 0o644 });
        break;
      }
      case "symlink": {
        // A unit missing from the root means the package list changed: an image that would boot
        // without it is not the image the recipe describes.
        if (!(await lstat(inRoot(root, c.target)).then(() => true, () => false))) {
          throw new AgentError(AgentErrorCode.internal, `the new root has no ${c.target} to link ${c.path} to`);
        }
        const path = inRoot(root, c.path);
        await mkdir(dirname(path), { recursive: true });
        await rm(path, { force: true });
        await symlink(c.target, path);
        break;
      }
      case "remove-glob": {
        const dir = inRoot(root, c.dir);
        for (const name of await readdir(dir).catch(() => [])) if (c.pattern.test(name)) await unlink(join(dir, name));
        break;
      }
    }
  }
}

/** Mount points at or under `dir`, deepest first, from /proc/self/mountinfo (field 5, octal escapes undone). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, "");
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === base || p.startsWith(`${base}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Removes a build's work directory. A bootstrap that was killed can leave /proc, /sys or /dev
 * mounted inside the new root, and a recursive delete would walk into the host's own: those
 * are unmounted first, and the directory is left alone if any stays mounted.
 */
export async function removeWorkDir(dir: string, umount: Tool): Promise<void> {
  const mounted = async () => mountsUnder(await readFile("/proc/self/mountinfo", "utf8"), dir);
  for (const m of await mounted()) await umount.run(["--lazy", "--", m], { timeoutMs: 60_000 }).catch(() => undefined);
  const left = await mounted();
  if (left.length) throw new AgentError(AgentErrorCode.conflict, `${dir} was left in place: ${left[0]}${left.length > 1 ? ` and ${left.length - 1} more` : ""} is still mounted inside it`);
  await rm(dir, { recursive: true, force: true });
}
