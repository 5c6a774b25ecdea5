import { describe, expect, it } from "vitest";
import { LineSplitter } from "../src/line-splitter.js";

const b = (s: string) => Buffer.from(s);

describe("LineSplitter", () => {
  it("joins a line split across chunks", () => {
    const s = new LineSplitter(100);
    expect(s.push(b('{"a":')).lines).toEqual([]);
    expect(s.push(b("1}\n")).lines).toEqual(['{"a":1}']);
  });

  it("returns several lines from one chunk and keeps the unterminated rest", () => {
    const s = new LineSplitter(100);
    expect(s.push(b("one\ntwo\nthr")).lines).toEqual(["one", "two"]);
    expect(s.push(b("ee\n")).lines).toEqual(["three"]);
  });

  it("strips a trailing carriage return", () => {
    expect(new LineSplitter(100).push(b("crlf\r\n")).lines).toEqual(["crlf"]);
  });

  it("keeps multi-byte characters split across chunks intact", () => {
    const s = new LineSplitter(100);
    const bytes = b("é\n");
    s.push(bytes.subarray(0, 1));
    expect(s.push(bytes.subarray(1)).lines).toEqual(["é"]);
  });

  it("drops a line longer than the cap and resumes after its newline", () => {
    const s = new LineSplitter(8);
    expect(s.push(b("0123456789"))).toEqual({ lines: [], oversized: 1 });
    expect(s.push(b("more junk\nok\n"))).toEqual({ lines: ["ok"], oversized: 0 });
  });

  it("accepts a line exactly at the cap", () => {
    expect(new LineSplitter(4).push(b("abcd\n")).lines).toEqual(["abcd"]);
  });
});
