import { PassThrough } from "node:stream";
import { HostInventory, NimbusError, notifications, type VirtSection } from "@nimbus/domain";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProtocolClient, type AgentNotification } from "../src/protocol-client.js";
import { fakeDomain } from "./fixtures/fake-world.js";

/**
 * The server's protocol decoder against what a broken or hostile agent may send: random bytes,
 * and real messages mutated (prototype keys, wrong types, huge or deep values). It must never
 * throw, report only typed errors with short messages, and deliver only valid notifications.
 */

const virt: VirtSection = { hypervisor: "QEMU", domains: [fakeDomain("web-1"), fakeDomain("db-1", { tenant: "acme" })] };
const samples: unknown[] = [
  { jsonrpc: "2.0", method: "inventory.section", params: { section: "virt", data: virt } },
  { jsonrpc: "2.0", method: "job.update", params: { job: { id: "op-1", kind: "scale", state: "running", progress: { kind: "scale", service: "web", desired: 3, running: 1 }, error: null, startedAt: "t", finishedAt: null } } },
  { jsonrpc: "2.0", method: "host.event", params: { at: "2026-01-01T00:00:00Z", level: "warn", message: "br0 went down" } },
  { jsonrpc: "2.0", id: 1, result: [] },
  { jsonrpc: "2.0", id: 1, error: { code: -32001, message: "virsh failed", data: { tool: "virsh" } } },
];

const hostileKey = fc.constantFrom("__proto__", "constructor", "toString", "prototype", "hasOwnProperty", "", "x".repeat(300));
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, "", "__proto__", [], {}),
  fc.string({ maxLength: 40 }),
  fc.integer().map((n) => "é".repeat(Math.abs(n) % 5000)),
  fc.integer({ min: 1, max: 3000 }).map((depth) => JSON.parse("[".repeat(depth) + "]".repeat(depth)) as unknown),
  fc.dictionary(hostileKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Replaces the value at one random path of `value` (or adds a key there) with a hostile one. */
function mutate(value: unknown, picks: number[], replacement: unknown, key: string): unknown {
  if (!picks.length || value === null || typeof value !== "object") return replacement;
  const [pick, ...rest] = picks as [number, ...number[]];
  if (Array.isArray(value)) {
    if (!value.length) return [replacement];
    const i = pick % value.length;
    return value.map((v, j) => (j === i ? mutate(v, rest, replacement, key) : v));
  }
  const keys = Object.keys(value);
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  if (!keys.length || pick % 7 === 0) Object.defineProperty(copy, key, { value: replacement, enumerable: true, configurable: true, writable: true });
  else {
    const k = keys[pick % keys.length]!;
    copy[k] = mutate(copy[k], rest, replacement, key);
  }
  return copy;
}

/** Feeds chunks to a client with one request pending; returns what it reported. */
async function feed(chunks: (string | Uint8Array)[]) {
  const input = new PassThrough();
  const output = new PassThrough();
  const notes: AgentNotification[] = [];
  const errors: unknown[] = [];
  const client = new ProtocolClient({
    host: "kvm9",
    input,
    output,
    maxNotificationBytes: 64 * 1024,
    onNotification: (n) => {
      notes.push(n);
      // What HostConnection does with a pushed section.
      if (n.method === "inventory.section") HostInventory.shape[n.params.section].safeParse(n.params.data);
    },
    onProtocolError: (e) => errors.push(e),
  });
  const pending = client.request("job.list", {}).catch((e: unknown) => e);
  for (const c of chunks) input.write(typeof c === "string" ? c : Buffer.from(c));
  await new Promise((resolve) => setImmediate(resolve));
  client.close();
  const answer = await pending;
  return { notes, errors, answer };
}

function expectWellBehaved({ notes, errors, answer }: Awaited<ReturnType<typeof feed>>) {
  for (const e of errors) {
    expect(e).toBeInstanceOf(NimbusError);
    expect((e as NimbusError).message.length).toBeLessThan(1_000);
  }
  if (answer instanceof Error) {
    expect(answer).toBeInstanceOf(NimbusError);
    expect(answer.message.length).toBeLessThan(2_200);
  }
  for (const n of notes) expect(notifications[n.method].safeParse(n.params).success).toBe(true);
}

describe("protocol decoder fuzz", () => {
  it("random bytes and lines: never throws, only typed and short errors", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 }).map((s) => `${s}\n`)), { maxLength: 20 }), async (chunks) => {
        expectWellBehaved(await feed(chunks));
      }),
      { numRuns: 300 },
    );
  });

  it("real messages with one value replaced by a hostile one: never throws, only valid notifications get through", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...samples),
        fc.array(fc.nat(), { maxLength: 8 }),
        hostileValue,
        hostileKey,
        fc.boolean(),
        async (sample, picks, replacement, key, split) => {
          const line = `${JSON.stringify(mutate(sample, picks, replacement, key))}\n`;
          // Sometimes in two chunks, cut anywhere (even inside a multi-byte character).
          const bytes = Buffer.from(line);
          const at = picks[0] ?? 0;
          const chunks = split ? [bytes.subarray(0, at % bytes.length), bytes.subarray(at % bytes.length)] : [bytes];
          expectWellBehaved(await feed(chunks));
        },
      ),
      { numRuns: 500 },
    );
  });
});
