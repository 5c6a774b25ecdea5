import { describe, expect, it } from "vitest";
import { InputBatcher, bytesOf } from "./input-batcher";

describe("console input batcher", () => {
  it("sends keys in order, one call at a time, gathering what was typed meanwhile", async () => {
    const sent: string[] = [];
    let release: (() => void) | null = null;
    const b = new InputBatcher(
      (d) => {
        sent.push(d);
        return new Promise<void>((r) => (release = r));
      },
      () => undefined,
    );
    b.push("r");
    b.push("o");
    b.push("o");
    b.push("t\r");
    expect(sent).toEqual(["r"]);
    release!();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["r", "oot\r"]);
  });

  it("cuts a paste into calls of at most maxChars, never inside a surrogate pair", async () => {
    const sent: string[] = [];
    const b = new InputBatcher(async (d) => void sent.push(d), () => undefined, 4);
    b.push("abc😀defghij");
    await new Promise((r) => setTimeout(r, 0));
    expect(sent.join("")).toBe("abc😀defghij");
    expect(sent.every((s) => s.length <= 4)).toBe(true);
    expect(sent[0]).toBe("abc");
  });

  it("reports a refused call and drops the rest; after stop nothing is sent", async () => {
    const errors: unknown[] = [];
    const sent: string[] = [];
    const b = new InputBatcher(async (d) => {
      sent.push(d);
      throw new Error("no open console");
    }, (e) => errors.push(e), 2);
    b.push("abcd");
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["ab"]);
    expect(errors).toHaveLength(1);
    b.stop();
    b.push("x");
    expect(sent).toEqual(["ab"]);
  });

  it("decodes base64 output to bytes", () => {
    expect([...bytesOf(Buffer.from("é\r\n").toString("base64"))]).toEqual([0xc3, 0xa9, 13, 10]);
  });
});

describe("console input batcher while the console reconnects", () => {
  it("keeps keys typed while paused and sends them, in order, on resume", async () => {
    const sent: string[] = [];
    const b = new InputBatcher(async (d) => void sent.push(d), () => undefined);
    b.pause();
    b.push("l");
    b.push("s");
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual([]);
    b.resume();
    await new Promise((r) => setTimeout(r, 0));
    expect(sent).toEqual(["ls"]);
  });

  it("a call refused as reconnecting is put back in front and sent once resumed, nothing lost or doubled; other refusals still end the batch", async () => {
    const attempts: string[] = [];
    const errors: unknown[] = [];
    let refuse = true;
    const reconnecting = new Error("the console is reconnecting");
    const b = new InputBatcher(
      async (d) => {
        attempts.push(d);
        if (refuse) throw reconnecting;
      },
      (e) => errors.push(e),
      1024,
      (e) => e === reconnecting,
    );
    b.push("ab");
    await new Promise((r) => setTimeout(r, 0));
    b.push("c");
    await new Promise((r) => setTimeout(r, 0));
    expect(attempts).toEqual(["ab"]);
    expect(errors).toEqual([]);
    refuse = false;
    b.resume();
    await new Promise((r) => setTimeout(r, 0));
    expect(attempts).toEqual(["ab", "abc"]);
    const other = new InputBatcher(async () => {
      throw new Error("no open console");
    }, (e) => errors.push(e), 1024, (e) => e === reconnecting);
    other.push("x");
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(1);
  });
});
