import {
  HostInventory,
  RpcNotification,
  RpcResponse,
  methods,
  notificationSchema,
  type MethodName,
  type SectionName,
} from "@nimbus/domain";
import { z } from "zod";

/**
 * The protocol's schemas as the server checks what agents send: each one compiled by zod itself
 * (`z.compile`, zod >= 4.5: one generated, loop-free validator per schema, "identical results and
 * identical errors": a refused value is parsed again by zod's runtime for its issues). The
 * schemas in @nimbus/domain stay the one definition of the protocol; nothing here restates a rule.
 *
 * Why: every host's first snapshot (~10 KB, ~150 objects at 10 VMs) and every pushed section went
 * through zod's runtime walk, which allocates a result and an issue list per node: at 2,000 hosts
 * ~0.1-0.2 s of CPU and its garbage in a connect; compiled, ~6 us a snapshot
 * (`protocol-schemas.test.ts` proves compiled and runtime agree on valid and hostile input).
 *
 * Compiled on first use (the inventory in ~0.1 s) or ahead of the connect by `warmProtocolSchemas`.
 */
const cache = new WeakMap<z.ZodType, z.ZodType>();

export function compiled<T extends z.ZodType>(schema: T): T {
  let c = cache.get(schema);
  if (!c) {
    // Never throws: a schema the compiler cannot model is returned as it is (zod's runtime).
    c = z.compile(schema);
    cache.set(schema, c);
  }
  return c as T;
}

export const wireResponse = () => compiled(RpcResponse);
export const wireNotification = () => compiled(RpcNotification);
export const methodParams = <M extends MethodName>(method: M) => compiled(methods[method].params);
export const methodResult = <M extends MethodName>(method: M) => compiled(methods[method].result);
export const sectionSchema = (section: SectionName) => compiled(HostInventory.shape[section]);
/** The notification's compiled params schema, or undefined for a name the protocol lacks (own keys only). */
export const notificationParams = (name: string) => {
  const schema = notificationSchema(name);
  return schema && compiled(schema);
};

/**
 * Compiles what every connect and push uses, so the first hosts to connect do not pay for it (and
 * a busy event loop does not take the ~0.1 s turn mid-connect). Idempotent.
 */
export function warmProtocolSchemas(): void {
  wireResponse();
  wireNotification();
  methodParams("hello");
  methodResult("hello");
  methodParams("inventory.snapshot");
  methodResult("inventory.snapshot");
  for (const section of Object.keys(HostInventory.shape) as SectionName[]) sectionSchema(section);
  notificationParams("inventory.section");
  notificationParams("job.update");
}
