import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NimbusError } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { InternalRpc } from "../src/internal-http.js";

const SECRET = "s".repeat(40);

describe("internal calls between replicas", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  async function serve(rpc: InternalRpc): Promise<string> {
    const server = createServer((req, res) => void rpc.handle(req, res));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function rpcWithMethods(opts: { maxBodyBytes?: number } = {}) {
    const rpc = new InternalRpc({ secret: SECRET, ...opts });
    rpc.register("echo", z.object({ n: z.number().int() }), async (input) => ({ twice: input.n * 2 }));
    rpc.register("fails", z.object({}), async () => {
      throw new NimbusError("CONFLICT", "already running", { host: "kvm1" });
    });
    rpc.register("crashes", z.object({}), async () => {
      throw new Error("secret internals");
    });
    rpc.register("slow", z.object({}), () => new Promise(() => undefined));
    return rpc;
  }

  it("answers a call with the secret, and rethrows the peer's NimbusError as one", async () => {
    const rpc = rpcWithMethods();
    const url = await serve(rpc);
    await expect(rpc.call(url, "echo", { n: 21 })).resolves.toEqual({ twice: 42 });
    const err = await rpc.call(url, "fails", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NimbusError);
    expect(err).toMatchObject({ code: "CONFLICT", message: "already running", details: { host: "kvm1" } });
    // An unexpected failure says nothing of the peer's internals.
    await expect(rpc.call(url, "crashes", {})).rejects.toMatchObject({ code: "INTERNAL", message: "internal error on the peer replica" });
  });

  it("refuses without the secret, with another one, with a session cookie only", async () => {
    const url = await serve(rpcWithMethods());
    const post = (headers: Record<string, string>) => fetch(`${url}/internal/cluster/echo`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: '{"n":1}' });
    expect((await post({})).status).toBe(401);
    expect((await post({ cookie: "better-auth.session_token=abc" })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${"t".repeat(40)}` })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${SECRET.slice(0, -1)}` })).status).toBe(401);
    expect((await post({ authorization: SECRET })).status).toBe(401);
    expect((await post({ authorization: `Bearer ${SECRET}` })).status).toBe(200);
  });

  it("404 for an unknown method, 405 for GET, 400 for bad JSON or input, 413 for an oversized body", async () => {
    const url = await serve(rpcWithMethods({ maxBodyBytes: 1024 }));
    const auth = { authorization: `Bearer ${SECRET}`, "content-type": "application/json" };
    expect((await fetch(`${url}/internal/cluster/nope`, { method: "POST", headers: auth, body: "{}" })).status).toBe(404);
    expect((await fetch(`${url}/internal/cluster/echo`, { headers: auth })).status).toBe(405);
    expect((await fetch(`${url}/internal/cluster/echo`, { method: "POST", headers: auth, body: "{nope" })).status).toBe(400);
    expect((await fetch(`${url}/internal/cluster/echo`, { method: "POST", headers: auth, body: '{"n":"1"}' })).status).toBe(400);
    expect((await fetch(`${url}/internal/cluster/echo`, { method: "POST", headers: auth, body: JSON.stringify({ n: 1, pad: "x".repeat(5000) }) })).status).toBe(413);
    // Streamed without a length: still cut at the bound.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"n":1,"pad":"${"x".repeat(4000)}"}`));
        c.close();
      },
    });
    const res = await fetch(`${url}/internal/cluster/echo`, { method: "POST", headers: auth, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
  });

  it("a peer that does not answer in time is TIMEOUT; one that is not there is HOST_UNREACHABLE (peer)", async () => {
    const rpc = rpcWithMethods();
    const url = await serve(rpc);
    await expect(rpc.call(url, "slow", {}, { timeoutMs: 200 })).rejects.toMatchObject({ code: "TIMEOUT" });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(rpc.call(`http://127.0.0.1:${port}`, "echo", { n: 1 })).rejects.toMatchObject({ code: "HOST_UNREACHABLE", details: { peer: true } });
  });

  it("a short secret or a bad method name is refused at start", () => {
    expect(() => new InternalRpc({ secret: "short" })).toThrow(/32/);
    const rpc = new InternalRpc({ secret: SECRET });
    expect(() => rpc.register("../x", z.object({}), async () => null)).toThrow();
    rpc.register("a", z.object({}), async () => null);
    expect(() => rpc.register("a", z.object({}), async () => null)).toThrow(/twice/);
  });
});
