import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RpcResponse } from "@nimbus/domain";
import { serveAgent, type AgentDrivers } from "../../src/index.js";

/**
 * The agent's request decoder against random and mutated requests: every line that is not blank
 * gets exactly one JSON-RPC answer (an error for anything invalid), nothing throws, and the
 * session keeps serving.
 */
const drivers: AgentDrivers = {
  hostname: "h1",
  node: {
    snapshot: async () => ({
      hostname: "h1", os: "Debian", kernel: "6.1", cpuModel: "x", cpuFeatures: [], cpuCount: 1, cpuUsagePct: 0,
      memoryTotalMiB: 1, memoryUsedMiB: 0, diskTotalBytes: 1, diskUsedBytes: 0, uptimeSeconds: 1,
    }),
    watch: () => () => {},
  },
};

const methodName = fc.oneof(
  fc.constantFrom("hello", "ping", "job.list", "job.cancel", "virt.migrate", "swarm.scale", "constructor", "__proto__", "toString", "valueOf", ""),
  fc.string({ maxLength: 30 }),
);
const request = fc.record({
  jsonrpc: fc.constantFrom("2.0", "1.0", 2),
  id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null)),
  method: methodName,
  params: fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom("__proto__", "jobId", "domain", "constructor"), fc.jsonValue({ maxDepth: 1 }))),
});

describe("serveAgent decoder fuzz", () => {
  it("answers every line once, with a valid JSON-RPC message, and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(request.map((r) => JSON.stringify(r)), fc.string({ maxLength: 80 })), { minLength: 1, maxLength: 15 }), async (lines) => {
        const input = new PassThrough();
        const output = new PassThrough();
        const answers: unknown[] = [];
        createInterface({ input: output }).on("line", (l) => answers.push(JSON.parse(l)));
        const done = serveAgent({ input, output, drivers, agentVersion: "0", pushDelayMs: 1 });
        const sent = lines.filter((l) => l.trim() && !l.includes("\n") && !l.includes("\r"));
        for (const l of sent) input.write(`${l}\n`);
        input.write(`${JSON.stringify({ jsonrpc: "2.0", id: "last", method: "ping", params: {} })}\n`);
        await expect.poll(() => answers.length).toBe(sent.length + 1);
        input.end();
        await done;
        expect(answers).toHaveLength(sent.length + 1);
        expect(answers.some((a) => (a as { id?: unknown }).id === "last")).toBe(true);
        for (const a of answers) expect(RpcResponse.safeParse(a).success).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
