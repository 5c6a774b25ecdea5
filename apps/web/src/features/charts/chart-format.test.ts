import { describe, expect, it } from "vitest";
import { byteRate, formatValue } from "./chart-format";

describe("byte rates on the charts", () => {
  it("in binary units with three significant digits", () => {
    expect(byteRate(0)).toBe("0 B/s");
    expect(byteRate(512)).toBe("512 B/s");
    expect(byteRate(1024)).toBe("1.00 KiB/s");
    expect(byteRate(20.3 * 1024)).toBe("20.3 KiB/s");
    expect(byteRate(846 * 1024)).toBe("846 KiB/s");
    expect(byteRate(1.25 * 1024 ** 3)).toBe("1.25 GiB/s");
    expect(byteRate(3 * 1024 ** 5)).toBe("3072 TiB/s");
  });
  it("a gap or a negative value is never drawn as a rate", () => {
    expect(formatValue(null, "B/s")).toBe("–");
    expect(formatValue(Number.NaN, "B/s")).toBe("–");
    expect(formatValue(-5, "B/s")).toBe("0 B/s");
  });
});
