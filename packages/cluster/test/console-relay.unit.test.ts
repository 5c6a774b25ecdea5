import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { NimbusError } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import { ConsoleRelay, type ConsoleRelayHandlers, type RelayedViewer } from "../src/console-relay.js";
import { InternalRpc } from "../src/internal-http.js";

const SECRET = "c".repeat(40);
const alice: RelayedViewer = { userId: "u-alice", name: "Alice", role: "tenant", tenant: "acme" };

/** A peer holding the consoles in `held` ("user/instance"), recording every call it gets. */
function peer(held: Set<string>, refuse?: NimbusError) {
  const calls: string[] = [];
  const handlers: ConsoleRelayHandlers = {
    async input(v, instance, data) {
      calls.push(`input ${v.userId}/${instance} ${data}`);
      if (refuse) throw refuse;
      if (!held.has(`${v.userId}/${instance}`)) throw new NimbusError("NOT_FOUND", `no open console for instance ${instance}`);
    },
    async close(v, instance) {
      calls.push(`close ${v.userId}/${instance}`);
      return held.delete(`${v.userId}/${instance}`);
    },
  };
  return { calls, handlers };
}

describe("console relay between replicas", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  });

  /** Replicas r1..rN on loopback, each with its relay; `down` ids are listed alive but do not listen. */
  async function replicas(handlers: Record<string, ConsoleRelayHandlers>, down: string[] = []) {
    const peers: { id: string; internalUrl: string }[] = [];
    const relays: Record<string, ConsoleRelay> = {};
    for (const id of Object.keys(handlers)) {
      const rpc = new InternalRpc({ secret: SECRET });
      relays[id] = new ConsoleRelay({ rpc, replicaId: id, peers: () => peers, handlers: handlers[id]!, timeoutMs: 2_000 });
      const server = createServer((req, res) => void rpc.handle(req, res));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      if (down.includes(id)) await new Promise((r) => server.close(r));
      else servers.push(server);
      peers.push({ id, internalUrl: url });
    }
    return relays;
  }

  it("sends keystrokes to the one peer holding the console, once, and to it first next time; never to itself", async () => {
    const [p1, p2, p3] = [peer(new Set(["u-alice/web1"])), peer(new Set()), peer(new Set(["u-alice/web1"]))];
    const r = await replicas({ r1: p1.handlers, r2: p2.handlers, r3: p3.handlers });
    // r2 holds nothing: r1 (listed first) takes it, r3 (a second tab's console there) is not sent the same keystrokes.
    expect(await r.r2!.input(alice, "web1", "ls\r")).toBe(true);
    expect([p1.calls, p2.calls, p3.calls]).toEqual([["input u-alice/web1 ls\r"], [], []]);
    // Another user's console of the same instance is not theirs: nobody takes it.
    expect(await r.r2!.input({ ...alice, userId: "u-bob" }, "web1", "x")).toBe(false);
    expect(p3.calls).toEqual(["input u-bob/web1 x"]);
  });

  it("goes to the last holder first, skips a peer that does not answer, and passes a holder's refusal on without trying others", async () => {
    const held = new Set(["u-alice/web1"]);
    const p2 = peer(held);
    const limited = peer(new Set(["u-alice/web1"]), new NimbusError("RATE_LIMITED", "too many keystrokes at once; slow down"));
    const r = await replicas({ r0: peer(new Set()).handlers, gone: peer(new Set()).handlers, r2: p2.handlers, r3: limited.handlers }, ["gone"]);
    expect(await r.r0!.input(alice, "web1", "a")).toBe(true);
    expect(await r.r0!.input(alice, "web1", "b")).toBe(true);
    expect(p2.calls).toEqual(["input u-alice/web1 a", "input u-alice/web1 b"]);
    // The holder closed it: r3 (rate-limited) answers next, and its refusal reaches the caller.
    held.clear();
    await expect(r.r0!.input(alice, "web1", "c")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(limited.calls).toEqual(["input u-alice/web1 c"]);
  });

  it("closes every peer's console of the user's instance and counts them", async () => {
    const [p1, p2] = [peer(new Set(["u-alice/web1"])), peer(new Set(["u-alice/web1", "u-bob/web1"]))];
    const r = await replicas({ r0: peer(new Set()).handlers, r1: p1.handlers, r2: p2.handlers });
    expect(await r.r0!.close(alice, "web1")).toBe(2);
    expect(await r.r0!.input({ ...alice, userId: "u-bob" }, "web1", "still here")).toBe(true);
    expect(await r.r0!.input(alice, "web1", "x")).toBe(false);
  });

  it("the receiving side refuses a call without the secret and a made-up viewer or oversized keystrokes", async () => {
    const p1 = peer(new Set(["u-alice/web1"]));
    await replicas({ r1: p1.handlers });
    const url = `http://127.0.0.1:${(servers[0]!.address() as AddressInfo).port}/internal/cluster/console.input`;
    const post = (body: unknown, auth = `Bearer ${SECRET}`) => fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: auth }, body: JSON.stringify(body) });
    expect((await post({ viewer: alice, instance: "web1", data: "x" }, "Bearer nope")).status).toBe(401);
    expect((await post({ viewer: { ...alice, role: "root" }, instance: "web1", data: "x" })).status).toBe(400);
    expect((await post({ viewer: { userId: "u-alice" }, instance: "web1", data: "x" })).status).toBe(400);
    expect((await post({ viewer: alice, instance: "web1", data: "x".repeat(4097) })).status).toBe(400);
    expect(p1.calls).toEqual([]);
    expect(await (await post({ viewer: alice, instance: "web1", data: "x" })).json()).toEqual({ ok: true, result: { held: true } });
  });
});
