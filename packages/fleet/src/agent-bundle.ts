import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { NimbusError } from "@nimbus/domain";

/** What `pnpm --filter @nimbus/agent build` writes next to the bundle (packages/agent/scripts/bundle.mjs). */
const Manifest = z.object({
  version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  file: z.string().default("nimbus-agent.cjs"),
  node: z.string().optional(),
});

/** The agent as the server uploads it: one file plus what identifies it. */
export interface AgentBundle {
  version: string;
  sha256: string;
  code: Buffer;
  /** The Node.js range the bundle needs, e.g. ">=20". */
  node: string | undefined;
}

const rebuild = "run `pnpm build` (or `pnpm --filter @nimbus/agent build`) on the server";

/**
 * Reads the built agent from `dir` (packages/agent/dist) and checks it against its manifest, so
 * a half-finished build is never uploaded to every host.
 */
export async function loadAgentBundle(dir: string): Promise<AgentBundle> {
  const manifestPath = join(dir, "nimbus-agent.json");
  let raw: string;
  try {
    raw = await readFile(manifestPath, "utf8");
  } catch {
    throw new NimbusError("PRECONDITION_FAILED", `the agent bundle is not built (${manifestPath} is missing): ${rebuild}`, { path: manifestPath });
  }
  const parsed = Manifest.safeParse(safeJson(raw));
  if (!parsed.success) throw new NimbusError("PRECONDITION_FAILED", `the agent bundle manifest ${manifestPath} is not valid: ${rebuild}`, { path: manifestPath });
  const manifest = parsed.data;
  const codePath = join(dir, manifest.file);
  let code: Buffer;
  try {
    code = await readFile(codePath);
  } catch {
    throw new NimbusError("PRECONDITION_FAILED", `the agent bundle is not built (${codePath} is missing): ${rebuild}`, { path: codePath });
  }
  const sha256 = createHash("sha256").update(code).digest("hex");
  if (code.length !== manifest.bytes || sha256 !== manifest.sha256)
    throw new NimbusError("PRECONDITION_FAILED", `the agent bundle ${codePath} does not match its manifest (a build was interrupted?): ${rebuild}`, {
      path: codePath,
    });
  return { version: manifest.version, sha256, code, node: manifest.node };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
