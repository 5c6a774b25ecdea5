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
