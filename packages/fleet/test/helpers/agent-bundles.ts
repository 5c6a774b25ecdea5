import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

/** The agent's own build script (the one `pnpm build` runs), found through the @nimbus/agent dependency. */
const bundleScript = join(dirname(createRequire(import.meta.url).resolve("@nimbus/agent")), "..", "scripts", "bundle.mjs");

export interface BuiltBundle {
  dir: string;
  version: string;
  sha256: string;
  code: Buffer;
}

/** Builds the real agent into `dir`, as `pnpm --filter @nimbus/agent build` does into dist/. */
export async function buildAgentBundle(dir: string): Promise<BuiltBundle> {
  await promisify(execFile)(process.execPath, [bundleScript, dir]);
  return readBundle(dir);
}

/**
 * The same agent as another release: the version baked into the code is replaced, so
 * `nimbus-agent version` and hello report `version`, and the manifest matches the new bytes.
 */
export function bundleVariant(from: BuiltBundle, dir: string, version: string): BuiltBundle {
  const code = Buffer.from(from.code.toString("utf8").replaceAll(from.version, version));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "nimbus-agent.cjs"), code);
  const manifest = { version, sha256: createHash("sha256").update(code).digest("hex"), bytes: code.length, file: "nimbus-agent.cjs", node: ">=20" };
  writeFileSync(join(dir, "nimbus-agent.json"), JSON.stringify(manifest));
  return readBundle(dir);
}

function readBundle(dir: string): BuiltBundle {
  const manifest = JSON.parse(readFileSync(join(dir, "nimbus-agent.json"), "utf8")) as { version: string; sha256: string };
  return { dir, version: manifest.version, sha256: manifest.sha256, code: readFileSync(join(dir, "nimbus-agent.cjs")) };
}
