import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatMiB, formatRate, formatRelative, humanizeTimes } from "./format";

describe("units", () => {
  it("use binary prefixes", () => {
    expect(formatBytes(8 * 1024 ** 3)).toBe("8.0 GiB");
    expect(formatBytes(3.3 * 1024 ** 4)).toBe("3.3 TiB");
    expect(formatMiB(512)).toBe("512 MiB");
    expect(formatRate(118 * 1024 * 1024)).toBe("118 MiB/s");
  });
  it("print a dash for unknown values instead of 0", () => {
    expect(formatBytes(null)).toBe("—");
    expect(formatMiB(undefined)).toBe("—");
  });
  it("shorten durations", () => {
    expect(formatDuration(42)).toBe("42 ms");
    expect(formatDuration(75_000)).toBe("1 min 15 s");
  });
});

describe("relative times", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  it("say how long ago and how long until", () => {
    expect(formatRelative("2026-11-25T11:57:00Z", now)).toBe("3 min ago");
    expect(formatRelative("2026-11-25T12:00:20Z", now)).toBe("in 20 s");
    expect(formatRelative("2026-11-23T12:00:00Z", now)).toBe("2 d ago");
  });
  it("say never when there is no time", () => {
    expect(formatRelative(null, now)).toBe("never");
  });
});

describe("timestamps inside server messages", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");
  it("say an unreachable host's last contact as a time ago, not as an ISO timestamp", () => {
    expect(humanizeTimes("unreachable: connect ECONNREFUSED 10.0.0.13:22; last seen 2026-11-25T11:56:59.113Z", now)).toBe(
      "unreachable: connect ECONNREFUSED 10.0.0.13:22; last seen 3 min ago",
    );
    expect(humanizeTimes("pinned 2026-11-23T12:00:00+00:00, changed 2026-11-25T11:59:58Z", now)).toBe("pinned 2 d ago, changed just now");
  });
  it("leave other numbers alone", () => {
    expect(humanizeTimes("93 % used; VNI 10010; 10.0.0.13:22; 2026-11-25", now)).toBe("93 % used; VNI 10010; 10.0.0.13:22; 2026-11-25");
  });
});
