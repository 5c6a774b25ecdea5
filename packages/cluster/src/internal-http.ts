import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { NimbusError, isNimbusError, type NimbusErrorCode } from "@nimbus/domain";
import { pino, type Logger } from "pino";
import type { z } from "zod";

/**
 * Replica-to-replica calls: `POST /internal/cluster/<name>` on the server's own listener, with
 * `Authorization: Bearer NIMBUS_CLUSTER_SECRET` (compared in constant time), a JSON body of at most
 * maxBodyBytes, validated by the method's zod schema. Never reachable with a user session: the
 * secret is the only credential, and the route answers 404 when the server is not a replica.
 *
 * Answers: 200 {ok: true, result} or 200 {ok: false, error: {code, message, details}} (a
 * NimbusError thrown by the handler, rethrown as one by the caller); 400 bad input; 401; 404
 * unknown method; 405; 413.
 */
export const INTERNAL_PREFIX = "/internal/cluster/";

type Method = { schema: z.ZodType; handler: (input: unknown) => Promise<unknown> };

export interface InternalRpcOptions {
  secret: string;
  maxBodyBytes?: number;
  /** Default timeout of calls made with `call`. */
  timeoutMs?: number;
  logger?: Logger;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export class InternalRpc {
  private readonly methods = new Map<string, Method>();
  private readonly secretDigest: Buffer;
  private readonly logger: Logger;
  readonly maxBodyBytes: number;

  constructor(private readonly opts: InternalRpcOptions) {
    if (opts.secret.length < 32) throw new Error("NIMBUS_CLUSTER_SECRET must be at least 32 characters");
    this.secretDigest = digest(opts.secret);
    this.maxBodyBytes = opts.maxBodyBytes ?? 4 * 1024 * 1024;
    this.logger = opts.logger ?? pino({ level: "silent" });
  }

  /** Adds a method; its input is parsed with `schema` before `handler` sees it. */
  register<S extends z.ZodType>(name: string, schema: S, handler: (input: z.infer<S>) => Promise<unknown>): void {
    if (!/^[a-z][a-zA-Z0-9.-]{0,63}$/.test(name)) throw new Error(`bad internal method name ${name}`);
    if (this.methods.has(name)) throw new Error(`internal method ${name} registered twice`);
    this.methods.set(name, { schema, handler: handler as (input: unknown) => Promise<unknown> });
  }

  /** True when the bearer token is the cluster secret. */
  authorized(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? "");
    if (!m) return false;
    return timingSafeEqual(digest(m[1]!), this.secretDigest);
  }

  /** The HTTP side, for requests under INTERNAL_PREFIX. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = (req.url ?? "").slice(INTERNAL_PREFIX.length).split("?")[0]!;
    if (!this.authorized(req.headers.authorization)) return reply(res, 401, { error: "unauthorized" });
    if (req.method !== "POST") return reply(res, 405, { error: "POST only" });
    const method = this.methods.get(name);
    if (!method) return reply(res, 404, { error: "no such internal method" });
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > this.maxBodyBytes) {
      res.setHeader("Connection", "close");
      return reply(res, 413, { error: "body too large" });
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, this.maxBodyBytes)).toString("utf8"));
    } catch (e) {
      if ((e as Error).message === "too large") {
        res.setHeader("Connection", "close");
        return reply(res, 413, { error: "body too large" });
      }
      return reply(res, 400, { error: "body is not JSON" });
    }
    const parsed = method.schema.safeParse(body);
    if (!parsed.success) return reply(res, 400, { error: "invalid input", issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".")}: ${i.message}`) });
    try {
      const result = await method.handler(parsed.data);
      reply(res, 200, { ok: true, result: result ?? null });
    } catch (err) {
      if (isNimbusError(err)) return reply(res, 200, { ok: false, error: { code: err.code, message: err.message, details: err.details ?? null } });
      this.logger.error({ err, method: name }, "internal call failed");
      reply(res, 200, { ok: false, error: { code: "INTERNAL", message: "internal error on the peer replica", details: null } });
    }
  }

  /**
   * Calls `name` on the replica at `baseUrl`. A NimbusError from the peer is rethrown as one; a
   * peer that does not answer in time or at all is HOST_UNREACHABLE (naming the peer replica, which
   * only staff ever see) so callers can tell "the peer is gone" from "the host refused".
   */
  async call<T>(baseUrl: string, name: string, input: unknown, opts: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? 35_000;
    let res: Response;
    try {
      res = await fetch(new URL(INTERNAL_PREFIX + name, baseUrl), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${this.opts.secret}` },
        body: JSON.stringify(input),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === "TimeoutError";
      throw new NimbusError(timedOut ? "TIMEOUT" : "HOST_UNREACHABLE", `peer replica did not answer ${name}${timedOut ? ` within ${timeoutMs} ms` : `: ${(e as Error).message}`}`, { peer: true });
    }
    const text = await res.text();
    type Reply = { ok?: boolean; result?: unknown; error?: unknown };
    let body: Reply | null;
    try {
      body = JSON.parse(text) as Reply;
    } catch {
      body = null;
    }
    if (res.status !== 200 || !body || typeof body.ok !== "boolean") {
      throw new NimbusError("INTERNAL", `peer replica refused ${name}: HTTP ${res.status} ${text.slice(0, 200)}`, { peer: true, status: res.status });
    }
    if (body.ok) return body.result as T;
    const err = (body.error ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> | null };
    throw new NimbusError((err.code ?? "INTERNAL") as NimbusErrorCode, String(err.message ?? "peer replica failed"), err.details ?? undefined);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Cache-Control", "no-store");
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      if (size > limit) return;
      size += c.length;
      if (size > limit) {
        // Answered (413) while the rest is read and dropped; the connection closes after.
        chunks.length = 0;
        reject(new Error("too large"));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
