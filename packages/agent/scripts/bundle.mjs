// Builds the agent into ONE file the server uploads over SFTP: dist/nimbus-agent.cjs (Node 20,
// no runtime dependencies), plus dist/nimbus-agent.json with its version. The version is a
// hash of the bundle, written into the bundle itself, so `nimbus-agent version` on a host says
// exactly which build runs there.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PLACEHOLDER = "__nimbus_agent_version_placeholder__";

export async function bundleAgent(outDir = join(root, "dist")) {
  const result = await build({
    entryPoints: [join(root, "src/cli.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: "none",
    banner: { js: "#!/usr/bin/env node" },
    define: { __NIMBUS_AGENT_VERSION__: JSON.stringify(PLACEHOLDER) },
    write: false,
    logLevel: "warning",
  });
  const text = result.outputFiles[0].text;
  const version = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const code = text.replaceAll(PLACEHOLDER, version);
  const sha256 = createHash("sha256").update(code).digest("hex");
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, "nimbus-agent.cjs");
  writeFileSync(file, code);
  chmodSync(file, 0o755);
  const manifest = { version, sha256, bytes: Buffer.byteLength(code), file: "nimbus-agent.cjs", node: ">=20" };
  writeFileSync(join(outDir, "nimbus-agent.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return { file, ...manifest };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundleAgent(process.argv[2]);
  process.stdout.write(`${out.file} ${out.version} (${out.bytes} bytes)\n`);
}
