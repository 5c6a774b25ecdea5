import { describe, expect, it } from "vitest";
import { signIn } from "./sign-in";

const respond = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (async () => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } })) as typeof fetch;

describe("sign-in", () => {
  it("succeeds on 200", async () => {
    expect(await signIn("a@b.c", "pw", respond(200, { token: "x" }))).toEqual({ ok: true });
  });
  it("shows the server's message on a wrong password", async () => {
    expect(await signIn("a@b.c", "pw", respond(401, { message: "Invalid email or password" }))).toEqual({
      ok: false,
      message: "Invalid email or password",
      retryAfterSeconds: null,
    });
  });
  it("tells a locked-out user when to retry", async () => {
    const result = await signIn("a@b.c", "pw", respond(429, { message: "Too many requests" }, { "x-retry-after": "37" }));
    expect(result).toEqual({ ok: false, message: "Too many requests", retryAfterSeconds: 37 });
  });
  it("says the server is unreachable when the request cannot be sent", async () => {
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const result = await signIn("a@b.c", "pw", down);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/cannot be reached/);
  });
});
