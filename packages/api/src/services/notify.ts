import { createHmac, timingSafeEqual } from "node:crypto";
import nodemailer from "nodemailer";
import { z } from "zod";
import { DEFAULT_RETRY, retryDelay, type AlertNotification, type RetryPolicy } from "@nimbus/domain";

/**
 * Notification channels: a webhook (JSON body, HMAC-SHA256 over "<timestamp>.<body>" in
 * `X-Nimbus-Signature`) and email over SMTP. Delivery retries with exponential backoff and every
 * attempt is written to the delivery log.
 */

const email = z.string().trim().email().max(254);

export const WebhookConfig = z.object({ url: z.string().trim().url().max(2000).refine((u) => /^https?:\/\//.test(u), "http or https only") });
export type WebhookConfig = z.infer<typeof WebhookConfig>;

export const EmailConfig = z.object({
  host: z.string().trim().min(1).max(253),
  port: z.number().int().min(1).max(65535),
  /** TLS from the first byte (port 465); otherwise STARTTLS when offered, required when `requireTls`. */
  secure: z.boolean(),
  requireTls: z.boolean(),
  username: z.string().trim().max(200).nullable(),
  from: email,
  to: z.array(email).min(1).max(20),
});
export type EmailConfig = z.infer<typeof EmailConfig>;

export const SIGNATURE_HEADER = "x-nimbus-signature";
export const TIMESTAMP_HEADER = "x-nimbus-timestamp";

/** `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>"): the timestamp is signed so a captured call cannot be replayed later as new. */
export const signWebhook = (secret: string, timestamp: string, body: string) => `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;

/** What a receiver does: recompute and compare in constant time. */
export function verifyWebhook(secret: string, timestamp: string, body: string, signature: string): boolean {
  const want = Buffer.from(signWebhook(secret, timestamp, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

const cut = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

export async function sendWebhook(cfg: WebhookConfig, secret: string | null, n: AlertNotification, timeoutMs = 10_000, now = new Date()): Promise<AttemptResult> {
  const body = JSON.stringify(n.body);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "nimbus-alerts", [TIMESTAMP_HEADER]: timestamp };
  if (secret) headers[SIGNATURE_HEADER] = signWebhook(secret, timestamp, body);
  try {
    const res = await fetch(cfg.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    await res.body?.cancel().catch(() => {});
    return res.ok ? { ok: true, statusCode: res.status, error: null } : { ok: false, statusCode: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { ok: false, statusCode: null, error: cut(e.cause?.code ?? e.cause?.message ?? e.message) };
  }
}

export async function sendEmail(cfg: EmailConfig, password: string | null, n: AlertNotification, timeoutMs = 15_000): Promise<AttemptResult> {
  const transport = nodemailer.createTransport({
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    requireTLS: cfg.requireTls,
    auth: cfg.username ? { user: cfg.username, pass: password ?? "" } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    const info = await transport.sendMail({ from: cfg.from, to: cfg.to, subject: n.subject, text: n.text, headers: { "X-Nimbus-Event": n.event } });
    const rejected = (info.rejected ?? []).length;
    return rejected ? { ok: false, statusCode: null, error: `${rejected} recipient(s) refused` } : { ok: true, statusCode: null, error: null };
  } catch (err) {
    const e = err as Error & { responseCode?: number; code?: string };
    return { ok: false, statusCode: e.responseCode ?? null, error: cut(e.code ? `${e.code}: ${e.message}` : e.message) };
  } finally {
    transport.close();
  }
}

export type ChannelTarget = { kind: "webhook"; config: WebhookConfig; secret: string | null } | { kind: "email"; config: EmailConfig; secret: string | null };

export const sendOnce = (c: ChannelTarget, n: AlertNotification): Promise<AttemptResult> =>
  c.kind === "webhook" ? sendWebhook(c.config, c.secret, n) : sendEmail(c.config, c.secret, n);

export interface DeliveryAttempt extends AttemptResult {
  attempt: number;
  /** "retrying": another attempt follows; "failed": this was the last. */
  status: "ok" | "retrying" | "failed";
}

/**
 * Sends until it succeeds or the policy's attempts are spent, waiting `retryDelay` between
 * attempts (`sleep` is injectable so tests run without real waits). Each attempt is reported.
 */
export async function deliver(
  send: () => Promise<AttemptResult>,
  onAttempt: (a: DeliveryAttempt) => Promise<void> | void,
  opts: { policy?: RetryPolicy; sleep?: (ms: number) => Promise<void>; stopped?: () => boolean } = {},
): Promise<DeliveryAttempt> {
  const policy = opts.policy ?? DEFAULT_RETRY;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  for (let attempt = 1; ; attempt++) {
    const r = await send();
    const wait = r.ok ? null : retryDelay(attempt, policy);
    const a: DeliveryAttempt = { ...r, attempt, status: r.ok ? "ok" : wait === null || opts.stopped?.() ? "failed" : "retrying" };
    await onAttempt(a);
    if (a.status !== "retrying") return a;
    await sleep(wait!);
  }
}
