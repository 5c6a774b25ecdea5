import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { jsonLog } from "../../src/real/log.js";

describe("agent logs", () => {
  it("are JSON lines with an ISO time, the level as a word, the host and the message", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        cb();
      },
    });
    const log = jsonLog(sink as never);
    log("warn", 'session dropped: 12 bytes unread "quoted"\nsecond line');
    log("info", "listening");
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: "warn", component: "nimbus-agent", msg: 'session dropped: 12 bytes unread "quoted"\nsecond line' });
    expect(first.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(typeof first.host).toBe("string");
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: "info", msg: "listening" });
  });
});
