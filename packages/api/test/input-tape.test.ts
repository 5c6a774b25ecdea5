import { describe, expect, it } from "vitest";
import type { InputReader } from "@nimbus/domain";
import { InputTape } from "../src/services/input-tape.js";

const readAll = (values: (string | number | null)[], input: InputReader) => values.forEach((v) => input.see(v));

describe("InputTape", () => {
  it("counts the first reading as a change, even of nothing", () => {
    expect(new InputTape().changed(readAll, [])).toBe(true);
  });

  it("reports no change when the same values are read again", () => {
    const tape = new InputTape();
    tape.changed(readAll, ["kvm1", "online", 3]);
    expect(tape.changed(readAll, ["kvm1", "online", 3])).toBe(false);
  });

  it("reports a value that differs, then takes the new values as the reference", () => {
    const tape = new InputTape();
    tape.changed(readAll, ["kvm1", "online", 3]);
    expect(tape.changed(readAll, ["kvm1", "unreachable", 3])).toBe(true);
    expect(tape.changed(readAll, ["kvm1", "unreachable", 3])).toBe(false);
  });

  it("reports fewer values and more values as changes", () => {
    const tape = new InputTape();
    tape.changed(readAll, ["a", "b", "c"]);
    expect(tape.changed(readAll, ["a", "b"])).toBe(true);
    expect(tape.changed(readAll, ["a", "b"])).toBe(false);
    expect(tape.changed(readAll, ["a", "b", null])).toBe(true);
    expect(tape.changed(readAll, ["a", "b", null])).toBe(false);
  });
});
