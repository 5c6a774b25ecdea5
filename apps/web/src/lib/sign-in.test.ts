import { describe, expect, it } from "vitest";
import { safeNextPath, signIn } from "./sign-in";

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

describe("safeNextPath", () => {
  const origin = "http://127.0.0.1:3000";

  it("follows paths of this site, with their query and fragment", () => {
    expect(safeNextPath("/hosts/kvm1", origin)).toBe("/hosts/kvm1");
    expect(safeNextPath("/instances?sort=name&q=web%20server#top", origin)).toBe("/instances?sort=name&q=web%20server#top");
    expect(safeNextPath("/a/./b/../c", origin)).toBe("/a/c");
  });

  it.each([
    // Reported: each took the browser to http://evil.example/ after sign-in.
    "/\\evil.example",
    "/%09/evil.example",
    "/\\/evil.example",
    // The same ideas, and their relatives.
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r//evil.example",
    "/\u0000/evil.example",
    "/%5Cevil.example",
    "/%5c/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%0A/evil.example",
    "/%00/evil.example",
    "//evil.example",
    "///evil.example",
    "/..//evil.example",
    "/.//evil.example",
    "http://evil.example/",
    "https:evil.example",
    "javascript:alert(1)",
    "evil.example",
    " /hosts",
    "/%E0%A4%A",
    "/" + "a".repeat(3000),
    "",
  ])("refuses %j", (next) => {
    expect(safeNextPath(next, origin)).toBeNull();
  });

  it("never yields anything a browser would resolve to another origin", () => {
    const tricky = ["/\\evil.example", "/%09/evil.example", "/\\/evil.example", "/..//evil.example", "/hosts", "/a?next=//evil.example"];
    for (const next of tricky) {
      const path = safeNextPath(next, origin);
      if (path !== null) expect(new URL(path, origin).origin, next).toBe(origin);
    }
  });

  it("refuses nothing given", () => {
    expect(safeNextPath(null, origin)).toBeNull();
    expect(safeNextPath(undefined, origin)).toBeNull();
  });
});
