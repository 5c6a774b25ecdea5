import type { Readable } from "node:stream";

/** Keeps the last `maxBytes` of a stream (a failing agent's stderr), so the message can quote it. */
export function captureTail(stream: Readable, maxBytes = 2048): () => string {
  let tail = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer | string) => {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    tail = Buffer.concat([tail, buf]);
    if (tail.length > maxBytes) tail = tail.subarray(tail.length - maxBytes);
  });
  return () => tail.toString("utf8").trim();
}
