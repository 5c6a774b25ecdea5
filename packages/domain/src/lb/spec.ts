import { z } from "zod";
import { LIMITS, boundedName, boundedText } from "../bounds.js";
import { HostName } from "../names.js";

/**
 * A load balancer: an HAProxy on an edge host in front of a swarm service's published port on
 * every node, or in front of a list of addresses. Nimbus writes its whole configuration
 * (`renderHaproxyConfig`); nothing a user types reaches it unchecked.
 */
export const LB_LIMITS = { servers: 256, statRows: 1024, balancers: 64 } as const;

export const LbName = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z][a-z0-9-]*$/, "a load balancer's name is lower-case letters, digits and '-', starting with a letter");
/** An HAProxy server name: a node's host name or a name the user gives an address. */
export const LbServerName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a server name is letters, digits, '.', '_' and '-'");
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const dnsName = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
export const LbAddress = z
  .string()
  .min(1)
  .max(253)
  .refine((s) => ipv4.test(s) || (dnsName.test(s) && !/^[\d.]+$/.test(s)), "an address is an IPv4 address or a host name");
export const LbPort = z.number().int().min(1).max(65_535);

export const LbServer = z.object({ name: LbServerName, address: LbAddress, port: LbPort });
export type LbServer = z.infer<typeof LbServer>;

export const LbTarget = z.discriminatedUnion("kind", [
  /** Every swarm node at the service's published port (the routing mesh answers on each). */
  z.object({ kind: z.literal("service"), service: z.string().min(1).max(LIMITS.name).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "service names are letters, digits, '.', '_' and '-'"), port: LbPort.nullable().default(null) }),
  z.object({ kind: z.literal("addresses"), servers: z.array(LbServer).min(1).max(LB_LIMITS.servers) }),
]);
export type LbTarget = z.infer<typeof LbTarget>;

export const LbHealthCheck = z.object({
  /** HAProxy `check inter`, `rise`, `fall`, and `timeout check`. */
  interMs: z.number().int().min(100).max(60_000).default(2_000),
  timeoutMs: z.number().int().min(50).max(60_000).default(1_000),
  rise: z.number().int().min(1).max(20).default(2),
  fall: z.number().int().min(1).max(20).default(3),
  /** An HTTP check (`option httpchk GET path`, `http-check expect status`) in http mode; null checks TCP connect. */
  httpPath: z
    .string()
    .max(256)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, "a check path starts with / and is URL characters only")
    .nullable()
    .default(null),
  expectStatus: z.number().int().min(100).max(599).default(200),
});
export type LbHealthCheck = z.infer<typeof LbHealthCheck>;

export const LoadBalancerSpec = z.object({
  name: LbName,
  /** The host whose agent runs this HAProxy. */
  edgeHost: HostName,
  bind: z.object({ address: z.string().regex(ipv4, "bind to an IPv4 address (0.0.0.0 for every one)"), port: LbPort }),
  mode: z.enum(["http", "tcp"]).default("http"),
  target: LbTarget,
  check: LbHealthCheck.default(() => LbHealthCheck.parse({})),
});
export type LoadBalancerSpec = z.infer<typeof LoadBalancerSpec>;
export type LoadBalancerSpecInput = z.input<typeof LoadBalancerSpec>;

/** What the agent needs to write one HAProxy: the spec's frontend and checks, and the servers resolved by the server. */
export const LbApplyParams = z.object({
  name: LbName,
  bind: LoadBalancerSpec.shape.bind,
  mode: LoadBalancerSpec.shape.mode,
  check: LbHealthCheck,
  servers: z
    .array(LbServer.extend({ disabled: z.boolean().default(false) }))
    .max(LB_LIMITS.servers),
});
export type LbApplyParams = z.infer<typeof LbApplyParams>;
export type LbApplyInput = z.input<typeof LbApplyParams>;

/** One server's line of `show stat`, as the agent reports it. */
export const LbServerStat = z.object({
  name: boundedName(),
  address: boundedName().nullable(),
  /** HAProxy's status word: UP, DOWN, MAINT, DRAIN, NOLB, "no check", with a transition ("DOWN 1/2"). */
  status: boundedName(),
  state: z.enum(["up", "down", "maint", "drain", "unknown"]),
  checkStatus: boundedName().nullable(),
  checkCode: boundedName().nullable(),
  checkDescription: boundedText().nullable(),
  /** When the status last changed (ISO), from `lastchg` seconds ago. */
  lastChangeAt: boundedName().nullable(),
  sessionsCurrent: z.number().int().nonnegative(),
  sessionsTotal: z.number().int().nonnegative(),
  /** Times the balancer chose this server (`lbtot`): the share of requests. */
  selected: z.number().int().nonnegative(),
});
export type LbServerStat = z.infer<typeof LbServerStat>;

export const LbRuntime = z.object({
  name: LbName,
  /** The master process answers on its stats socket. */
  running: z.boolean(),
  pid: z.number().int().nullable(),
  /** sha256 of the configuration in use, to tell "applied" from "changed since". */
  configHash: boundedName().nullable(),
  frontend: z.object({ status: boundedName(), sessionsCurrent: z.number().int().nonnegative(), sessionsTotal: z.number().int().nonnegative() }).nullable(),
  servers: z.array(LbServerStat).max(LB_LIMITS.servers),
  error: boundedText().nullable(),
});
export type LbRuntime = z.infer<typeof LbRuntime>;

export const LbSection = z.object({ balancers: z.array(LbRuntime).max(LB_LIMITS.balancers) });
export type LbSection = z.infer<typeof LbSection>;

export const LbWriteResult = z.object({ path: boundedName(), bytes: z.number().int(), configHash: boundedName() });
export const LbValidateResult = z.object({ ok: z.literal(true), output: boundedText() });
export const LbReloadResult = z.object({ pid: z.number().int(), how: z.enum(["started", "reloaded"]) });
