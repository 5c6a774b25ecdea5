import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Database } from "@nimbus/db";
import { openTestDatabase } from "@nimbus/db/testing";
import { createAuth, type AuthOptions, type NimbusAuth } from "../src/index.js";

export const TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

export interface Harness {
  database: Database;
  auth: NimbusAuth;
  baseURL: string;
  /** Advances the sign-in limiter's clock. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (port 0) serving better-auth's handler over a fresh database. */
export async function startHarness(opts: Partial<AuthOptions> = {}): Promise<Harness> {
  const database = await openTestDatabase();
  let offset = 0;
  let handler: NimbusAuth["handler"] | undefined;
  const server = http.createServer((req, res) => {
    if (handler && req.url?.startsWith("/api/auth/")) return void handler(req, res);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = createAuth({ db: database.db, baseURL, secret: TEST_SECRET, now: () => Date.now() + offset, ...opts });
  handler = auth.handler;
  return {
    database,
    auth,
    baseURL,
    advance: (ms) => {
      offset += ms;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await database.close();
    },
  };
}

export interface SignInResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  /** "name=value" of the session cookie, ready for a Cookie header. */
  cookie: string | null;
  setCookie: string[];
}

/** POSTs like a browser on the Nimbus page would: JSON, with our Origin. */
export async function post(h: Pick<Harness, "baseURL">, path: string, body: unknown, headers: Record<string, string> = {}): Promise<SignInResult> {
  const res = await fetch(`${h.baseURL}/api/auth${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: h.baseURL, ...headers },
    body: JSON.stringify(body),
  });
  const setCookie = res.headers.getSetCookie();
  const session = setCookie.find((c) => /session_token=[^;]+/.test(c) && !/Max-Age=0/i.test(c));
  return {
    status: res.status,
    body: (await res.json().catch(() => ({}))) as Record<string, unknown>,
    headers: res.headers,
    cookie: session ? session.split(";")[0]! : null,
    setCookie,
  };
}

export const signInEmail = (h: Harness, email: string, password: string) => post(h, "/sign-in/email", { email, password });
export const signInUsername = (h: Harness, username: string, password: string) => post(h, "/sign-in/username", { username, password });

export const cookieHeaders = (cookie: string) => new Headers({ cookie });
