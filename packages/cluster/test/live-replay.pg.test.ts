import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostRecord, LiveEvent } from "@nimbus/domain";
import { startCluster, type Cluster } from "./harness/cluster.js";
import { ApiClient, TrpcError } from "./harness/client.js";
import { waitFor } from "./harness/wait.js";

/**
 * Two server processes in replica mode: a browser's live channel on r1 is cut; while it is away a
 * VM changes on a host r2 owns and on one r1 owns; it resubscribes on r2 with its last event id and
 * is replayed what it missed (no reset), then gets live events. SSE read over HTTP as a browser's
 * EventSource would (tRPC's httpSubscriptionLink sends the last id as `lastEventId`). And the
 * serial console on the same cluster: opened through r1, typed into and closed through r2.
 */
const enabled = !!process.env.DATABASE_URL;
let cluster: Cluster;
let admin: ApiClient;

beforeAll(async () => {
  if (!enabled) throw new Error("these tests need a PostgreSQL: DATABASE_URL (packages/db/scripts/with-postgres.sh)");
  cluster = await startCluster({ replicas: 2, generated: { hosts: 4, vmsPerHost: 1 } });
  admin = await ApiClient.signIn(cluster.replicas[0]!.url, { email: "admin@nimbus.local", password: cluster.adminPassword }, cluster.replicas[0]!.url);
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
});

type Msg<E = LiveEvent> = { id: string; event: E };

/** One live.events stream (or another SSE subscription: `procedure`, `input`): parsed SSE messages as they arrive. */
function openStream<E = LiveEvent>(base: string, cookie: string, lastEventId?: string, procedure = "live.events", extra: Record<string, unknown> = {}) {
  const abort = new AbortController();
  const got: Msg<E>[] = [];
  const input = encodeURIComponent(JSON.stringify(lastEventId ? { ...extra, lastEventId } : extra));
  const done = (async () => {
    const res = await fetch(`${base}/api/trpc/${procedure}?input=${input}`, { headers: { cookie, accept: "text/event-stream" }, signal: abort.signal });
    if (!res.ok) throw new Error(`${procedure} answered ${res.status}`);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) return;
      buf += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const id = /^id: ?(.*)$/m.exec(block)?.[1];
        const data = /^data: ?(.*)$/m.exec(block)?.[1];
        if (id && data) got.push({ id, event: JSON.parse(data) as E });
      }
    }
  })().then(
    () => null,
    // Ended by close() (or by the server going away when a test failed): said, not thrown unobserved.
    (err: unknown) => (abort.signal.aborted ? null : err),
  );
  return {
    got,
    close: async () => {
      abort.abort();
      const err = await done;
      if (err) throw err;
    },
  };
}

async function owners(): Promise<Map<string, string>> {
  const rows = await cluster.query<{ host: string; owner: string }>(`select host, owner from host_leases where owner is not null and expires_at > now() and host <> '@leader'`);
  return new Map(rows.map((r) => [r.host, r.owner]));
}

/** A hypervisor with a VM (the lab also has storage servers). */
function hasVm(host: string): boolean {
  try {
    return cluster.lab.world.hypervisor(host).domains.size > 0;
  } catch {
    return false;
  }
}
const vmOf = (host: string) => [...cluster.lab.world.hypervisor(host).domains.values()][0]!;
const vmNameOf = (host: string) => [...cluster.lab.world.hypervisor(host).domains.keys()][0]!;
function setVm(host: string, state: "running" | "paused") {
  vmOf(host).state = state;
  cluster.lab.world.changed(host, "virt");
}
const stateIn = (e: LiveEvent, host: string) => (e.type === "host-instances" && e.host === host ? e.instances[0]?.state : undefined);
async function stateOn(replica: string, host: string) {
  const { host: rec } = await admin.query<{ host: HostRecord }>(cluster.replica(replica).url, "hosts.get", { name: host });
  return rec.inventory.virt?.domains[0]?.state;
}

describe("live channel across replicas", () => {
  it("a browser cut off on r1 resumes on r2 with what it missed (no reset, nothing it had), then live events", async () => {
    // A host moving between replicas mid-test is a connection change every replica replays: start
    // once the shares hold for more than a lease round (a rebalance at start would still be moving).
    let last = "";
    await waitFor(
      async () => {
        const map = await owners();
        const now = JSON.stringify([...map].sort());
        const stable = now === last && map.size === cluster.lab.hosts.length;
        last = now;
        return stable;
      },
      { timeoutMs: 30_000, what: "the lease shares to hold for a round", everyMs: 2_500 },
    );
    // Each replica owns part of the fleet (4 hypervisors and the storage servers: a hypervisor each at least).
    const o = await waitFor(
      async () => {
        const map = await owners();
        const r1 = [...map].filter(([, r]) => r === "r1").map(([h]) => h);
        const r2 = [...map].filter(([, r]) => r === "r2").map(([h]) => h);
        return map.size === cluster.lab.hosts.length && r1.some(hasVm) && r2.some(hasVm) ? { r1, r2 } : false;
      },
      { timeoutMs: 30_000, what: "hosts shared out between r1 and r2", everyMs: 50 },
    );
    const [onR1, onR2] = [o.r1.find(hasVm)!, o.r2.find(hasVm)!];
    const r1 = cluster.replica("r1").url;
    const r2 = cluster.replica("r2").url;
    // From running VMs whatever ran before (a retry of this test finds what its first try left).
    for (const h of [onR1, onR2]) if (vmOf(h).state !== "running") setVm(h, "running");
    await waitFor(async () => (await stateOn("r1", onR1)) === "running" && (await stateOn("r2", onR2)) === "running", { timeoutMs: 10_000, what: "both VMs running", everyMs: 20 });

    const first = openStream(r1, admin.cookie);
    await waitFor(() => first.got[0]?.event.type === "reset", { timeoutMs: 10_000, what: "the opening reset on r1", everyMs: 10 });
    setVm(onR1, "paused");
    await waitFor(() => first.got.some((m) => stateIn(m.event, onR1) === "paused"), { timeoutMs: 10_000, what: `${onR1}'s change on r1's stream`, everyMs: 10 });
    await first.close();
    const cursor = first.got.at(-1)!.id;
    expect(cursor).toMatch(/~(.+,)?r1@[0-9a-f]{8}=\d+/);

    // While away: a VM pauses on r2's host, then r1's host's VM runs again; both replicas have both.
    setVm(onR2, "paused");
    await waitFor(async () => (await stateOn("r1", onR2)) === "paused" && (await stateOn("r2", onR2)) === "paused", { timeoutMs: 10_000, what: `${onR2}'s change on both`, everyMs: 20 });
    setVm(onR1, "running");
    await waitFor(async () => (await stateOn("r2", onR1)) === "running", { timeoutMs: 10_000, what: `${onR1}'s change on r2`, everyMs: 20 });

    const second = openStream(r2, admin.cookie, cursor);
    await waitFor(() => second.got.some((m) => stateIn(m.event, onR1) === "running") && second.got.some((m) => stateIn(m.event, onR2) === "paused"), {
      timeoutMs: 10_000,
      what: "both missed changes replayed on r2",
      everyMs: 10,
    });
    expect(second.got.map((m) => m.event.type)).not.toContain("reset");
    // Nothing the browser had: its host's paused state came before the cut and is not sent again.
    expect(second.got.some((m) => stateIn(m.event, onR1) === "paused")).toBe(false);
    // Each replayed host's instances name what changed state since the cursor (a paged list places them), as live events do.
    expect(second.got.find((m) => stateIn(m.event, onR1) === "running")!.event).toMatchObject({ restated: [vmNameOf(onR1)] });
    expect(second.got.find((m) => stateIn(m.event, onR2) === "paused")!.event).toMatchObject({ restated: [vmNameOf(onR2)] });
    // In the order the changes happened: r2's host first.
    const at = (host: string) => second.got.findIndex((m) => stateIn(m.event, host) !== undefined);
    expect(at(onR2)).toBeLessThan(at(onR1));
    // Then live: a change after the resubscription arrives on the same stream.
    setVm(onR2, "running");
    await waitFor(() => second.got.some((m) => stateIn(m.event, onR2) === "running"), { timeoutMs: 10_000, what: "a live change after the replay", everyMs: 10 });
    // Back to r1 from the last id r2 sent (r1 has every change r2 had): nothing is sent again, only what happens next.
    await second.close();
    await waitFor(async () => (await stateOn("r1", onR2)) === "running", { timeoutMs: 10_000, what: `${onR2}'s change on r1`, everyMs: 20 });
    const third = openStream(r1, admin.cookie, second.got.at(-1)!.id);
    setVm(onR1, "paused");
    await waitFor(() => third.got.some((m) => stateIn(m.event, onR1) === "paused"), { timeoutMs: 10_000, what: "a live change on r1 after coming back", everyMs: 10 });
    // Said with what was sent again, so a failure names it.
    expect(third.got.filter((m) => m.event.type === "reset" || stateIn(m.event, onR2) !== undefined || stateIn(m.event, onR1) === "running").map((m) => ({ id: m.id, event: m.event }))).toEqual([]);
    await third.close();

    // A cursor from no replica of this cluster (or mangled) is answered with a reset, and the server carries on.
    for (const bad of [`${cursor.split("~")[0]}~ghost@00000000=1`, `${cursor}`.replace(/=\d+/, "=-1"), "x".repeat(1400)]) {
      const s = openStream(r2, admin.cookie, bad);
      await waitFor(() => s.got[0], { timeoutMs: 10_000, what: "an answer to a hostile cursor", everyMs: 10 });
      expect(s.got[0]!.event.type).toBe("reset");
      await s.close();
    }
  });

  it("a tenant's replay on the other replica holds its own VM only, under a host token the same on both replicas, and names no host", async () => {
    const map = await owners();
    const vms = cluster.lab.hosts.map((h) => h.name).filter(hasVm);
    const tenantOf = async (host: string) => (await admin.query<{ instances: { tenant: string | null }[] }>(cluster.replica("r1").url, "hosts.get", { name: host })).instances[0]?.tenant ?? null;
    // One of its VMs on a host r1 owns, and another tenant's VM on a host r2 owns.
    let mine: string | undefined;
    let theirs: string | undefined;
    let tenant: string | null = null;
    for (const a of vms.filter((h) => map.get(h) === "r1"))
      for (const b of vms.filter((h) => map.get(h) === "r2")) {
        const [ta, tb] = [await tenantOf(a), await tenantOf(b)];
        if (!mine && ta && tb && ta !== tb) [mine, theirs, tenant] = [a, b, ta];
      }
    expect(mine && theirs && tenant).toBeTruthy();
    const user = { email: `replay-${tenant}@nimbus.local`, name: "Replay", password: "replay-tenant-password-1", role: "tenant", tenant };
    await admin.mutate(cluster.replica("r1").url, "admin.users.create", user);
    const member = await ApiClient.signIn(cluster.replica("r1").url, { email: user.email, password: user.password }, cluster.replica("r1").url);

    // Both VMs running to begin with (the test before may have left one paused).
    setVm(mine!, "running");
    setVm(theirs!, "running");
    await waitFor(async () => (await stateOn("r1", mine!)) === "running" && (await stateOn("r1", theirs!)) === "running", { timeoutMs: 10_000, what: "both VMs running", everyMs: 20 });
    const first = openStream(cluster.replica("r1").url, member.cookie);
    await waitFor(() => first.got[0]?.event.type === "reset", { timeoutMs: 10_000, what: "the tenant's opening reset", everyMs: 10 });
    setVm(mine!, "paused");
    const paused = await waitFor(() => first.got.find((m) => m.event.type === "host-instances" && m.event.instances[0]?.state === "paused"), { timeoutMs: 10_000, what: "its VM's change on r1", everyMs: 10 });
    const token = (paused.event as Extract<LiveEvent, { type: "host-instances" }>).host;
    await first.close();
    setVm(theirs!, "paused");
    setVm(mine!, "running");
    await waitFor(async () => (await stateOn("r2", mine!)) === "running" && (await stateOn("r2", theirs!)) === "paused", { timeoutMs: 10_000, what: "both changes on r2", everyMs: 20 });

    const second = openStream(cluster.replica("r2").url, member.cookie, first.got.at(-1)!.id);
    await waitFor(() => second.got.some((m) => m.event.type === "host-instances"), { timeoutMs: 10_000, what: "the tenant's replay on r2", everyMs: 10 });
    setVm(mine!, "paused");
    await waitFor(() => second.got.filter((m) => m.event.type === "host-instances").length >= 2, { timeoutMs: 10_000, what: "a live change after the tenant's replay", everyMs: 10 });
    await second.close();
    expect(second.got.map((m) => m.event.type)).not.toContain("reset");
    const instances = second.got.flatMap((m) => (m.event.type === "host-instances" ? [m.event] : []));
    // The same token r1 gave the host, its own VM only: running (replayed), then paused (live).
    expect(instances.map((e) => [e.host, e.instances.map((i) => [i.tenant, i.state])])).toEqual([
      [token, [[tenant, "running"]]],
      [token, [[tenant, "paused"]]],
    ]);
    const json = JSON.stringify(second.got.map((m) => m.event));
    for (const host of cluster.lab.hosts.map((h) => h.name)) expect(json).not.toContain(`"${host}"`);
    setVm(theirs!, "running");
    setVm(mine!, "running");
  });
});

type ConsoleEvent = { kind: "connecting" | "connected" | "reset" } | { kind: "output"; data: string } | { kind: "closed"; reason: string };
const screen = (got: Msg<ConsoleEvent>[]) => got.map((m) => (m.event.kind === "output" ? Buffer.from(m.event.data, "base64").toString("utf8") : "")).join("");
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof TrpcError ? `${e.code}: ${e.reason}` : String(e)),
  );

describe("serial console across replicas", () => {
  it("a console opened through r1 takes keystrokes sent through r2 and closes from r2; nobody else's keystrokes reach it", async () => {
    const r1 = cluster.replica("r1").url;
    const r2 = cluster.replica("r2").url;
    const inst = async (host: string) => (await admin.query<{ instances: { name: string; tenant: string | null }[] }>(r1, "hosts.get", { name: host })).instances[0]!;
    const vms = await Promise.all(cluster.lab.hosts.map((h) => h.name).filter(hasVm).map(async (h) => ({ host: h, ...(await inst(h)) })));
    const target = vms.find((v) => v.tenant && vms.some((o) => o.tenant && o.tenant !== v.tenant))!;
    const other = vms.find((o) => o.tenant && o.tenant !== target.tenant)!;
    setVm(target.host, "running");
    await waitFor(async () => (await stateOn("r2", target.host)) === "running", { timeoutMs: 10_000, what: "the VM running", everyMs: 20 });

    const consoleOn = (base: string, client: ApiClient) => openStream<ConsoleEvent>(base, client.cookie, undefined, "instances.console", { instance: target.name, cols: 80, rows: 24 });
    const term = consoleOn(r1, admin);
    // The same session, as a page served through r2 would send it.
    const viaR2 = new ApiClient(admin.cookie, r2);
    await waitFor(() => term.got.some((m) => m.event.kind === "connected"), { timeoutMs: 10_000, what: "the console connected on r1", everyMs: 10 });
    // r2 holds no console: it relays to r1, which sends the keystrokes to the VM; the echo and the password prompt come back on r1's stream.
    await viaR2.mutate(r2, "instances.consoleInput", { instance: target.name, data: "relayuser\r" });
    await waitFor(() => /relayuser[\s\S]*Password: /.test(screen(term.got)), { timeoutMs: 10_000, what: "the echo of keystrokes sent through r2", everyMs: 10 });

    // Another tenant's member, and a member of the VM's own tenant (a console of theirs is not open), through r2.
    const users = [
      { email: "console-other@nimbus.local", name: "Other", password: "console-other-password-1", role: "tenant", tenant: other.tenant },
      { email: "console-same@nimbus.local", name: "Same", password: "console-same-password-1", role: "tenant", tenant: target.tenant },
    ];
    const [outsider, colleague] = await Promise.all(
      users.map(async (u) => {
        await admin.mutate(r1, "admin.users.create", u);
        return ApiClient.signIn(r2, { email: u.email, password: u.password }, r2);
      }),
    );
    const before = screen(term.got).length;
    expect(await refusal(outsider!.mutate(r2, "instances.consoleInput", { instance: target.name, data: "intruder\r" }))).toMatch(/^NOT_FOUND: /);
    expect(await refusal(colleague!.mutate(r2, "instances.consoleInput", { instance: target.name, data: "colleague\r" }))).toBe(`NOT_FOUND: no open console for instance ${target.name}`);
    expect(await refusal(outsider!.mutate(r2, "instances.consoleClose", { instance: target.name }))).toMatch(/^NOT_FOUND: /);
    await colleague!.mutate(r2, "instances.consoleClose", { instance: target.name });
    // Signed out: refused before anything is relayed.
    expect((await fetch(`${r2}/api/trpc/instances.consoleInput`, { method: "POST", headers: { "content-type": "application/json", origin: r2 }, body: JSON.stringify({ instance: target.name, data: "x" }) })).status).toBe(401);
    // The internal route wants the cluster secret, not a session.
    const forged = await fetch(`${r2}/internal/cluster/console.input`, { method: "POST", headers: { "content-type": "application/json", cookie: admin.cookie }, body: JSON.stringify({ viewer: { userId: "x", name: "x", role: "admin", tenant: null }, instance: target.name, data: "x" }) });
    expect(forged.status).toBe(401);
    // A keystroke of the owner after the refusals still arrives: nothing the others sent did.
    await viaR2.mutate(r2, "instances.consoleInput", { instance: target.name, data: "pw\r" });
    await waitFor(() => screen(term.got).includes(`Linux ${target.name} `), { timeoutMs: 10_000, what: "the shell's greeting", everyMs: 10 });
    expect(screen(term.got).slice(before)).not.toMatch(/intruder|colleague/);
    // Through HAProxy (round robin: the requests alternate between r1 and r2), a line typed in pieces arrives whole and in order.
    const viaProxy = new ApiClient(admin.cookie, cluster.url);
    for (const piece of ["ec", "ho rel", "ayed-", "via-proxy", "\r"]) await viaProxy.mutate(cluster.url, "instances.consoleInput", { instance: target.name, data: piece });
    await waitFor(() => /\r\nrelayed-via-proxy\r\n/.test(screen(term.got)), { timeoutMs: 10_000, what: "a line typed through HAProxy", everyMs: 10 });
    expect(term.got.some((m) => m.event.kind === "closed")).toBe(false);

    // Closed through r2: r1's console ends, and r1's stream says so.
    await viaR2.mutate(r2, "instances.consoleClose", { instance: target.name });
    await waitFor(() => term.got.some((m) => m.event.kind === "closed"), { timeoutMs: 10_000, what: "the console closed through r2", everyMs: 10 });
    await term.close();
    expect(await refusal(viaR2.mutate(r2, "instances.consoleInput", { instance: target.name, data: "late\r" }))).toBe(`NOT_FOUND: no open console for instance ${target.name}`);
  });
});
