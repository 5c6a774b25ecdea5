import { z } from "zod";
import { LIMITS, boundedName, boundedText } from "../bounds.js";

/**
 * Active checks: what an agent probes on a schedule and how a result becomes a state, with
 * HAProxy's semantics (a target goes DOWN after `fall` consecutive failures, UP after `rise`
 * consecutive successes). The server hands each agent its list (`checks.configure`); the agent
 * reports the states in its `checks` section.
 */
export const CHECK_LIMITS = {
  /** Checks one agent runs. */
  perHost: 512,
  /** An HTTP body read for a match (the rest is not read). */
  bodyBytes: 16 * 1024,
} as const;

const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, "a check's host is an address or a host name");
const port = z.number().int().min(1).max(65_535);

export const CheckTiming = z.object({
  /** Between two probes (HAProxy `inter`). */
  intervalMs: z.number().int().min(100).max(3_600_000).default(2_000),
  /** One probe's budget (connect + answer). */
  timeoutMs: z.number().int().min(50).max(60_000).default(1_000),
  rise: z.number().int().min(1).max(100).default(2),
  fall: z.number().int().min(1).max(100).default(3),
});
export type CheckTiming = z.infer<typeof CheckTiming>;

export const CheckProbe = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("tcp"), host, port }),
  z.object({
    kind: z.literal("http"),
    host,
    port,
    path: z.string().max(1024).regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, "an HTTP check's path starts with / and has no spaces"),
    /** Expected status (HAProxy `http-check expect status`). */
    expectStatus: z.number().int().min(100).max(599).default(200),
    /** A substring the body must contain (`http-check expect string`), none when null. */
    expectBody: z.string().max(256).nullable().default(null),
  }),
]);
export type CheckProbe = z.infer<typeof CheckProbe>;

export const CheckCategory = z.enum(["host", "storage", "swarm", "network", "instance"]);

export const CheckSpec = z.object({
  /** Stable id: the health check's id (`active:…`). */
  id: z.string().min(1).max(LIMITS.name),
  /** In words: "web :8080 on swarm2". */
  target: z.string().max(LIMITS.name),
  category: CheckCategory,
  probe: CheckProbe,
  timing: CheckTiming,
  /** What fails with it (services, datastores), and the tenants who own them. */
  affects: z.array(boundedName()).max(64).default([]),
  tenants: z.array(boundedName()).max(64).default([]),
});
export type CheckSpec = z.infer<typeof CheckSpec>;
export type CheckSpecInput = z.input<typeof CheckSpec>;

export const CheckStatus = z.enum(["unknown", "up", "down"]);
export type CheckStatus = z.infer<typeof CheckStatus>;

/** One check as an agent reports it (section `checks`). */
export const CheckReport = z.object({
  id: boundedName(),
  /** Echoed from the spec, so the server need not keep the plan to name a check. */
  target: boundedName(),
  category: CheckCategory,
  affects: z.array(boundedName()).max(64),
  tenants: z.array(boundedName()).max(64),
  status: CheckStatus,
  /** HAProxy's health counter: 0 … rise+fall-1, UP at rise or above. */
  health: z.number().int().min(0).max(200),
  /** When `status` last changed (ISO), null while unknown. */
  since: boundedName().nullable(),
  /** The last probe: ok, and what it saw ("connected in 3 ms", "HTTP 503", "connection refused"). */
  lastOk: z.boolean().nullable(),
  lastResult: boundedText(),
  lastAt: boundedName().nullable(),
});
export type CheckReport = z.infer<typeof CheckReport>;

export const ChecksSection = z.object({
  checks: z.array(CheckReport).max(CHECK_LIMITS.perHost),
});
export type ChecksSection = z.infer<typeof ChecksSection>;

export const ChecksConfigureParams = z.object({ checks: z.array(CheckSpec).max(CHECK_LIMITS.perHost) });
export type ChecksConfigureParams = z.infer<typeof ChecksConfigureParams>;
