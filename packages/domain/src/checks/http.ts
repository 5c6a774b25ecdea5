import { z } from "zod";

/**
 * An HTTP check a swarm service asks for with its own labels (`deploy.labels` in a stack file):
 * `nimbus.check.http` is the path (`/healthz`), `nimbus.check.http.status` the expected status
 * (200 by default), `nimbus.check.http.body` a substring the body must contain (HAProxy's
 * `http-check expect status` / `expect string`). A label that does not parse asks for nothing:
 * the service's ports keep their TCP check. The agent reports it as `SwarmService.httpCheck`.
 */
export const SERVICE_HTTP_CHECK_LABEL = "nimbus.check.http";

export const HttpCheckPath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, "an HTTP check's path starts with / and has no spaces");

export const ServiceHttpCheck = z.object({
  path: HttpCheckPath,
  expectStatus: z.number().int().min(100).max(599),
  /** Printable text only: it lands in a probe's message and the check's target. */
  expectBody: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\p{Cc}]*$/u, "no control characters")
    .nullable(),
});
export type ServiceHttpCheck = z.infer<typeof ServiceHttpCheck>;

/** The HTTP check a service's labels ask for, or null (no label, or one that does not parse). */
export function httpCheckFromLabels(labels: Readonly<Record<string, string>>): ServiceHttpCheck | null {
  const path = Object.hasOwn(labels, SERVICE_HTTP_CHECK_LABEL) ? labels[SERVICE_HTTP_CHECK_LABEL] : undefined;
  if (path === undefined) return null;
  const statusText = Object.hasOwn(labels, `${SERVICE_HTTP_CHECK_LABEL}.status`) ? labels[`${SERVICE_HTTP_CHECK_LABEL}.status`]! : "200";
  if (!/^\d{3}$/.test(statusText.trim())) return null;
  const body = Object.hasOwn(labels, `${SERVICE_HTTP_CHECK_LABEL}.body`) ? labels[`${SERVICE_HTTP_CHECK_LABEL}.body`]! : null;
  const parsed = ServiceHttpCheck.safeParse({ path: path.trim(), expectStatus: Number(statusText.trim()), expectBody: body === "" ? null : body });
  return parsed.success ? parsed.data : null;
}
