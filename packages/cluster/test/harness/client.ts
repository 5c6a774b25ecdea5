/**
 * A signed-in API client over HTTP for cluster tests: sign in once (through any address), then
 * call tRPC procedures through HAProxy or straight at one replica with the same cookie.
 */
export class ApiClient {
  constructor(
    public cookie: string,
    /** The page origin the browser would send (HAProxy's address). */
    readonly origin: string,
  ) {}

  static async signIn(base: string, creds: { email: string; password: string }, origin = base): Promise<ApiClient> {
    const res = await signInRequest(base, creds, origin);
    if (res.status !== 200) throw new Error(`sign-in through ${base} answered ${res.status}: ${await res.text()}`);
    return new ApiClient(res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; "), origin);
  }

  async query<T = unknown>(base: string, path: string, input?: unknown): Promise<T> {
    const q = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return unwrap<T>(await fetch(`${base}/api/trpc/${path}${q}`, { headers: { cookie: this.cookie } }), path);
  }

  async mutate<T = unknown>(base: string, path: string, input: unknown): Promise<T> {
    return unwrap<T>(
      await fetch(`${base}/api/trpc/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", cookie: this.cookie, origin: this.origin },
        body: JSON.stringify(input),
      }),
      path,
    );
  }

  /** The raw response (for status checks). */
  rawMutate(base: string, path: string, input: unknown): Promise<Response> {
    return fetch(`${base}/api/trpc/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: this.cookie, origin: this.origin },
      body: JSON.stringify(input),
    });
  }
}

export function signInRequest(base: string, creds: { email: string; password: string }, origin = base): Promise<Response> {
  return fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify(creds),
  });
}

export class TrpcError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    readonly code: string | undefined,
    /** The server's message as a browser would show it. */
    readonly reason: string,
  ) {
    super(`${path}: ${status} ${code ?? ""} ${reason}`);
  }
}

async function unwrap<T>(res: Response, path: string): Promise<T> {
  const body = (await res.json().catch(() => null)) as { result?: { data: T }; error?: { message: string; data?: { code?: string } } } | null;
  if (!res.ok || !body?.result) throw new TrpcError(path, res.status, body?.error?.data?.code, body?.error?.message ?? "no result");
  return body.result.data;
}
