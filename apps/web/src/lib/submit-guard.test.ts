import { describe, expect, it } from "vitest";
import { SubmitGuard, requestKey } from "./submit-guard";

/** A request the test settles by hand. */
function pending() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("SubmitGuard", () => {
  it("sends a double-clicked request once while the first is out", () => {
    const guard = new SubmitGuard();
    const first = pending();
    let sent = 0;
    const send = () => (sent++, first.promise);
    expect(guard.run(requestKey({ service: "web", replicas: 7 }), send)).not.toBeNull();
    expect(guard.run(requestKey({ replicas: 7, service: "web" }), send)).toBeNull();
    expect(sent).toBe(1);
    expect(guard.busy).toBe(true);
  });

  it("lets the same request go again once the first settled, failed ones included", async () => {
    const guard = new SubmitGuard();
    const first = pending();
    const released = guard.run("a", () => first.promise)!;
    first.reject(new Error("refused"));
    await released;
    expect(guard.busy).toBe(false);
    const second = pending();
    expect(guard.run("a", () => second.promise)).not.toBeNull();
    second.resolve();
  });

  it("sends different requests side by side (acknowledging two checks)", () => {
    const guard = new SubmitGuard();
    const a = pending();
    const b = pending();
    expect(guard.run(requestKey({ id: "host:kvm1" }), () => a.promise)).not.toBeNull();
    expect(guard.run(requestKey({ id: "host:kvm2" }), () => b.promise)).not.toBeNull();
    expect(guard.has(requestKey({ id: "host:kvm1" }))).toBe(true);
  });

  it("frees the key when sending throws at once", () => {
    const guard = new SubmitGuard();
    expect(() =>
      guard.run("a", () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(guard.busy).toBe(false);
  });
});
