import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import { emptyInventory, type HostInventory, type VirtSection } from "@nimbus/domain";
import { afterEach, describe, expect, it } from "vitest";
import type { FleetEvent } from "../src/contract.js";
import { Fleet } from "../src/fleet.js";
import { MemoryKnownHosts } from "../src/memory-stores.js";
import type { SshSession } from "../src/ssh/index.js";
import { fakeDomain } from "./fixtures/fake-world.js";
import { FAST_TIMING } from "./helpers/fleet-harness.js";

/**
 * A compromised host: its "agent" answers the handshake properly, then pushes whatever the test
 * says. The fleet must refuse what is too big or out of bounds, keep the last good section, and
 * drop an agent that keeps flooding it.
 */
function hostileHost(inventory: HostInventory) {
  const toServer = new PassThrough();
  let sessions = 0;
  let closed = false;
  const session = (): SshSession => {
    sessions++;
    const fromServer = new PassThrough();
    createInterface({ input: fromServer }).on("line", (line) => {
      const req = JSON.parse(line) as { id: number; method: string };
      const result =
        req.method === "hello"
          ? { protocol: 1, agentVersion: "evil", hostname: "kvm9", capabilities: ["virt"], bootId: "b" }
          : req.method === "inventory.snapshot"
            ? inventory
            : {};
      toServer.write(`${JSON.stringify({ jsonrpc: "2.0", id: req.id, result })}\n`);
    });
    const closeListeners: (() => void)[] = [];
    return {
      host: "kvm9",
      hostKey: { fingerprint: "SHA256:evil", key: "AAAA" },
      exec: async () => ({ stdout: toServer, stdin: fromServer, stderr: new PassThrough(), exit: new Promise(() => {}), close: () => {} }),
      sftp: () => Promise.reject(new Error("no sftp")),
      onClose: (l) => void closeListeners.push(() => l(null)),
      close: () => {
        closed = true;
        for (const l of closeListeners) l();
      },
    };
  };
  return {
    dial: async () => session(),
    push: (line: string) => toServer.write(`${line}\n`),
    section: (section: string, data: unknown) => JSON.stringify({ jsonrpc: "2.0", method: "inventory.section", params: { section, data } }),
    get sessions() {
      return sessions;
    },
    get closed() {
      return closed;
    },
  };
}

const virtWith = (names: string[]): VirtSection => ({ hypervisor: "QEMU", domains: names.map((n) => fakeDomain(n)) });

let fleet: Fleet | undefined;
afterEach(() => fleet?.stop());

async function connect(host: ReturnType<typeof hostileHost>) {
  const events: Extract<FleetEvent, { type: "host-event" }>[] = [];
  fleet = new Fleet({
    hosts: [{ name: "kvm9", address: "127.0.0.1", port: 22, user: "nimbus" }],
    privateKey: "",
    knownHosts: new MemoryKnownHosts(),
    dial: host.dial,
    keepaliveMs: 0,
    timing: FAST_TIMING,
  });
  fleet.subscribe((e) => void (e.type === "host-event" && events.push(e)));
  await fleet.start();
  expect(fleet.host("kvm9")?.connection.state).toBe("online");
  return events;
}

describe("a hostile agent", () => {
  it("pushing 7 MB sections in a loop: each is dropped unread, the last good section stays, and the link is dropped", async () => {
    const host = hostileHost({ ...emptyInventory(), virt: virtWith(["web-1"]) });
    const events = await connect(host);
    host.push(host.section("virt", virtWith(["web-1", "web-2"])));
    await expect.poll(() => fleet!.host("kvm9")?.inventory.virt?.domains.length).toBe(2);

    const huge = host.section("virt", { hypervisor: "x".repeat(7 * 1024 * 1024), domains: [] });
    host.push(huge);
    await expect.poll(() => events.some((e) => e.message.includes("exceeded the 4194304-byte limit"))).toBe(true);
    expect(fleet!.host("kvm9")?.connection.state).toBe("online");
    host.push(huge);
    host.push(huge);
    await expect.poll(() => fleet!.host("kvm9")?.connection.state).toBe("protocol-mismatch");
    const rec = fleet!.host("kvm9")!;
    expect(rec.connection.message).toBe("kvm9: the agent sent 3 messages over the size limit within 60 s; connection dropped (a broken or compromised agent?)");
    expect(rec.inventory.virt?.domains.map((d) => d.name)).toEqual(["web-1", "web-2"]);
    expect(host.closed).toBe(true);
    // Retried slowly, not at once: the backoff of a lost link would let it flood again every second.
    expect(Date.parse(rec.connection.nextRetryAt!) - Date.now()).toBeGreaterThan(30_000);
    expect(host.sessions).toBe(1);
  });

  it("pushing a 3 MB section (a line the splitter still reads) is refused the same way", async () => {
    const host = hostileHost({ ...emptyInventory(), virt: virtWith(["web-1"]) });
    const events = await connect(host);
    const big = host.section("virt", { hypervisor: "x".repeat(3 * 1024 * 1024), domains: [] });
    host.push(big);
    await expect.poll(() => events.find((e) => e.message.includes("over the 2097152-byte limit"))?.message).toMatch(
      /^kvm9: agent sent a message while nothing was asked \(\d+ bytes, over the 2097152-byte limit\); it was refused$/,
    );
    expect(fleet!.host("kvm9")?.inventory.virt?.hypervisor).toBe("QEMU");
    host.push(big);
    host.push(big);
    await expect.poll(() => fleet!.host("kvm9")?.connection.state).toBe("protocol-mismatch");
  });

  it("a section with an over-long name or too many VMs is refused and the last good section kept, without dropping the link", async () => {
    const host = hostileHost({ ...emptyInventory(), virt: virtWith(["web-1"]) });
    const events = await connect(host);
    host.push(host.section("virt", virtWith(["a".repeat(300)])));
    host.push(host.section("virt", { hypervisor: "QEMU", domains: Array.from({ length: 4097 }, () => ({})) }));
    await expect.poll(() => events.filter((e) => e.message.includes("pushed virt section does not match the schema")).length).toBe(2);
    expect(events.map((e) => e.message)).toEqual([
      "kvm9: pushed virt section does not match the schema (domains.0.name: Too big: expected string to have <=256 characters)",
      "kvm9: pushed virt section does not match the schema (domains: Too big: expected array to have <=4096 items)",
    ]);
    expect(fleet!.host("kvm9")?.inventory.virt?.domains.map((d) => d.name)).toEqual(["web-1"]);
    expect(fleet!.host("kvm9")?.connection.state).toBe("online");
  });

  it("notifications named after Object.prototype keys are reported and change nothing", async () => {
    const host = hostileHost({ ...emptyInventory(), virt: virtWith(["web-1"]) });
    const events = await connect(host);
    for (const method of ["constructor", "__proto__", "toString"]) host.push(JSON.stringify({ jsonrpc: "2.0", method, params: {} }));
    host.push(host.section("virt", virtWith(["web-3"])));
    await expect.poll(() => fleet!.host("kvm9")?.inventory.virt?.domains[0]?.name).toBe("web-3");
    expect(events[0]?.message).toBe('kvm9: agent sent unknown notification "constructor"');
    expect(fleet!.host("kvm9")?.connection.state).toBe("online");
  });
});
