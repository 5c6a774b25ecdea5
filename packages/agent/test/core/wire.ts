import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { NodeFacts } from "@nimbus/domain";

/** The node section of a small fake host. */
export function nodeFacts(hostname = "h1"): NodeFacts {
  return {
    hostname, os: "Debian", kernel: "6.1", cpuModel: "x", cpuFeatures: [], cpuCount: 2, cpuUsagePct: 1,
    memoryTotalMiB: 1024, memoryUsedMiB: 100, diskTotalBytes: 10, diskUsedBytes: 1, uptimeSeconds: 5,
  };
}

/**
 * The server's end of one agent session in a test: every JSON line the agent writes to `output` is
 * collected, `waitFor` resolves with the first message (already seen or still to come) matching,
 * and `call` sends a JSON-RPC request on `input` and resolves with its answer.
 */
export function wire(input: Writable, output: Readable) {
  const messages: any[] = [];
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  createInterface({ input: output }).on("line", (l) => {
    const m = JSON.parse(l);
    messages.push(m);
    for (const w of [...waiters]) if (w.pred(m)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m));
  });
  const waitFor = (pred: (m: any) => boolean) =>
    new Promise<any>((resolve) => {
      const hit = messages.find(pred);
      if (hit) return resolve(hit);
      waiters.push({ pred, resolve });
    });
  let id = 0;
  const call = (method: string, params?: unknown) => {
    const myId = ++id;
    input.write(`${JSON.stringify({ jsonrpc: "2.0", id: myId, method, params })}\n`);
    return waitFor((m) => m.id === myId);
  };
  return { messages, waitFor, call };
}
