import { TRPCError } from "@trpc/server";
import { NimbusError } from "@nimbus/domain";
import type { Context } from "./trpc.js";
import { maskForTenant, maskTextForTenant, tenantSecrets, type TenantSecrets } from "./services/tenant-mask.js";

type Result = { ok: true; data: unknown } | { ok: false; error: TRPCError };

/**
 * The last step before anything reaches a tenant member: data, error messages and details, and
 * each event of a stream pass through `maskForTenant`. Staff results pass unchanged.
 */
export async function tenantBoundary<R extends Result>(ctx: Pick<Context, "viewer" | "deps">, result: R, getRawInput: () => Promise<unknown>): Promise<R> {
  if (ctx.viewer?.role !== "tenant") return result;
  const secrets = () => tenantSecrets(ctx.deps.fleet.hosts(), ctx.viewer!.tenant);
  if (result.ok) {
    if (isAsyncIterable(result.data)) return { ...result, data: maskStream(result.data, secrets) };
    return { ...result, data: maskForTenant(result.data, secrets()) };
  }
  // "instance kvm1 not found" only echoes what the tenant sent: masking it would tell that kvm1 is a
  // host. Only the API's own not-found answers echo; a host's (it carries details) is masked whole,
  // or a name slipped into the input would unmask it.
  const nimbus = cause(result.error);
  const echoesInput = nimbus ? nimbus.code === "NOT_FOUND" && !nimbus.details : result.error.code === "NOT_FOUND";
  const keep = echoesInput ? await echoed(getRawInput) : undefined;
  return { ...result, error: maskError(result.error, secrets(), keep) };
}

function maskError(error: TRPCError, s: TenantSecrets, keep: ReadonlySet<string> | undefined): TRPCError {
  const nimbus = cause(error);
  const masked = nimbus
    ? new NimbusError(nimbus.code, maskTextForTenant(nimbus.message, s, { keep }), nimbus.details && maskForTenant(nimbus.details, s, { keep }))
    : error.cause;
  return new TRPCError({ code: error.code, message: maskTextForTenant(error.message, s, { keep }), cause: masked });
}

const cause = (e: TRPCError) => (e.cause instanceof NimbusError ? e.cause : null);

async function echoed(getRawInput: () => Promise<unknown>): Promise<ReadonlySet<string>> {
  const input = await getRawInput().catch(() => undefined);
  const out = new Set<string>();
  const walk = (v: unknown, depth: number) => {
    if (typeof v === "string" && v.length <= 256) {
      // The whole string and every run of its words: "acme-kvm1" echoes "kvm1" as well.
      for (const run of v.toLowerCase().match(/[a-z0-9]+(?:[._-][a-z0-9]+)*/g) ?? []) {
        const parts = run.split(/([._-])/);
        for (let i = 0; i < parts.length; i += 2) for (let j = i; j < parts.length; j += 2) out.add(parts.slice(i, j + 1).join(""));
      }
    } else if (v && typeof v === "object" && depth < 3) for (const x of Object.values(v).slice(0, 32)) walk(x, depth + 1);
  };
  walk(input, 0);
  return out;
}

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> => !!v && typeof v === "object" && Symbol.asyncIterator in v;

async function* maskStream(source: AsyncIterable<unknown>, secrets: () => TenantSecrets): AsyncGenerator<unknown> {
  // Each event is masked against the fleet as it is when the event leaves: hosts come and go.
  for await (const event of source) yield maskForTenant(event, secrets());
}
