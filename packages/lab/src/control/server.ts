import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { writeFileSync } from "node:fs";
import { LabFaultError, type LabFaults } from "../faults.js";
import { FAULTS, FaultUsageError, applyFault } from "./fault-table.js";

export interface ControlServer {
  url: string;
  tokenPath: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/**
 * The lab's fault-injection endpoint: HTTP on 127.0.0.1 (random port), every request carries
 * `Authorization: Bearer <token>`; the token is written, readable by the owner only, to
 * `tokenPath`. Routes: GET /status, GET /faults, POST /faults/<name> {"args": [...]}.
 */
export async function startControlServer(opts: { faults: LabFaults; status: () => unknown; tokenPath: string }): Promise<ControlServer> {
  const token = randomBytes(32).toString("hex");
  writeFileSync(opts.tokenPath, token + "\n", { mode: 0o600 });
  const expected = Buffer.from(`Bearer ${token}`);

  const server = createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return send(res, 401, { error: "missing or wrong bearer token" });
    handle(req, res, opts).catch((err: unknown) => {
      const known = err instanceof LabFaultError || err instanceof FaultUsageError;
      send(res, known ? 400 : 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    tokenPath: opts.tokenPath,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: { faults: LabFaults; status: () => unknown }): Promise<void> {
  const path = new URL(req.url ?? "/", "http://lab").pathname;
  if (req.method === "GET" && path === "/status") return send(res, 200, opts.status());
  if (req.method === "GET" && path === "/faults")
    return send(res, 200, Object.entries(FAULTS).map(([name, f]) => ({ name, usage: f.usage, describe: f.describe })));
  const m = /^\/faults\/([a-z-]+)$/.exec(path);
  if (req.method === "POST" && m) {
    const body = await readJson(req);
    const args = body && typeof body === "object" && Array.isArray((body as { args?: unknown }).args) ? (body as { args: unknown[] }).args : [];
    await applyFault(opts.faults, m[1]!, args);
    return send(res, 200, { ok: true, active: opts.faults.active() });
  }
  send(res, 404, { error: `no route ${req.method} ${path}` });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new FaultUsageError("request body too large");
    chunks.push(chunk as Buffer);
  }
  if (!size) return null;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new FaultUsageError("request body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
