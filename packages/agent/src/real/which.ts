import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

/**
 * Where admin tools live on Debian and friends (bridge, showmount, ip on older releases). A
 * non-root SSH session's PATH (sshd's default /usr/local/bin:/usr/bin:/bin) leaves them out, so
 * an agent started over SSH looks there after PATH.
 */
export const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"] as const;

export type IsExecutable = (path: string) => boolean;

export const isExecutableFile: IsExecutable = (path) => {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/**
 * The executable to spawn for a configured tool path: a path with a slash as is; a bare name
 * as is when PATH has it (spawn finds it there); else the first sbin directory that has it;
 * else the bare name, so the spawn fails as "not installed".
 */
export function resolveExecutable(path: string, searchPath: string | undefined, isExecutable: IsExecutable = isExecutableFile): string {
  if (path.includes("/")) return path;
  const onPath = (searchPath ?? "").split(delimiter).filter((dir) => dir.length > 0);
  if (onPath.some((dir) => isExecutable(join(dir, path)))) return path;
  const inSbin = SBIN_DIRS.filter((dir) => !onPath.includes(dir)).find((dir) => isExecutable(join(dir, path)));
  return inSbin ? join(inSbin, path) : path;
}
