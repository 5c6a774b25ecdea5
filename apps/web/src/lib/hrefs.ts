import type { Operation } from "@nimbus/domain";

/** Where things live in the console: one place, so rows, toasts and detail pages link alike. */
export const targetHref = (t: Operation["target"]) =>
  t.type === "instance" ? `/instances/${encodeURIComponent(t.name)}` : t.type === "host" ? `/hosts/${encodeURIComponent(t.name)}` : t.type === "service" ? `/swarm/services/${encodeURIComponent(t.name)}` : t.type === "stack" ? `/swarm/stacks?q=${encodeURIComponent(t.name)}` : t.type === "image" ? "/storage#images" : `/swarm?q=${encodeURIComponent(t.name)}`;

/** An operation's own view (steps, log lines, outcome). */
export const operationHref = (id: string) => `/operations/${encodeURIComponent(id)}`;
