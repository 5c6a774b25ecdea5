/**
 * The one call that is not tRPC: better-auth's email sign-in. Returns what the form shows — the
 * server's message, and on 429 how long to wait.
 */
export type SignInResult = { ok: true } | { ok: false; message: string; retryAfterSeconds: number | null };

export async function signIn(email: string, password: string, fetchImpl: typeof fetch = fetch): Promise<SignInResult> {
  let res: Response;
  try {
    res = await fetchImpl("/api/auth/sign-in/email", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password }),
    });
  } catch {
    return { ok: false, message: "The server cannot be reached. Check that Nimbus is running.", retryAfterSeconds: null };
  }
  if (res.ok) return { ok: true };
  const body = (await res.json().catch(() => null)) as { message?: string; retryAfter?: number } | null;
  if (res.status === 429) {
    const header = res.headers.get("retry-after") ?? res.headers.get("x-retry-after");
    const seconds = header !== null && /^\d+$/.test(header) ? Number(header) : (body?.retryAfter ?? null);
    return {
      ok: false,
      message: body?.message ?? "Too many sign-in attempts.",
      retryAfterSeconds: seconds,
    };
  }
  return { ok: false, message: body?.message ?? `Sign-in failed (HTTP ${res.status}).`, retryAfterSeconds: null };
}

/** Longer than any page of ours with its filters; a cap keeps the checks below cheap. */
const MAX_NEXT_LENGTH = 2048;
// Control characters (tab and newline included: browsers strip them from URLs) and backslashes
// (browsers read "\" as "/" in http URLs, so "/\evil.example" is "//evil.example").
const UNSAFE = /[\u0000-\u001f\u007f\\]/;

/**
 * Where to go after sign-in from the `next` query parameter: a path on this origin, normalized,
 * or null. Refuses what a browser could take for another site: "//host", "/\host", control
 * characters anywhere, and the same hidden behind percent-encoding ("/%09/host", "/%5Chost").
 */
export function safeNextPath(next: string | null | undefined, origin: string): string | null {
  if (!next || next.length > MAX_NEXT_LENGTH || !next.startsWith("/") || next.startsWith("//")) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return null;
  }
  if (UNSAFE.test(next) || UNSAFE.test(decoded) || decoded.startsWith("//")) return null;
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return null;
  }
  // Dot segments can collapse into "//host" ("/..//evil.example"): check what the router gets.
  if (url.origin !== new URL(origin).origin || url.pathname.startsWith("//")) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
