import { LoadBalancerSpec, type LoadBalancerSpec as Spec } from "@nimbus/domain";

/** The create/edit form as typed: strings, as inputs hold them. */
export interface LbFormValues {
  name: string;
  edgeHost: string;
  bindAddress: string;
  bindPort: string;
  mode: "http" | "tcp";
  targetKind: "service" | "addresses";
  service: string;
  servicePort: string;
  /** One server a line: `name address:port`. */
  servers: string;
  interMs: string;
  timeoutMs: string;
  rise: string;
  fall: string;
  httpPath: string;
  expectStatus: string;
}

export type LbFormErrors = Partial<Record<keyof LbFormValues, string>>;

/** The first edge host and service fill a form whose fields are still empty: typed before the options arrived, it keeps what was typed and still names both. */
export const withLbDefaults = (v: LbFormValues, edgeHost = "", service = ""): LbFormValues =>
  (v.edgeHost || !edgeHost) && (v.service || !service) ? v : { ...v, edgeHost: v.edgeHost || edgeHost, service: v.service || service };

export const emptyLbForm = (edgeHost = "", service = ""): LbFormValues => ({
  name: "",
  edgeHost,
  bindAddress: "0.0.0.0",
  bindPort: "80",
  mode: "http",
  targetKind: "service",
  service,
  servicePort: "",
  servers: "",
  interMs: "2000",
  timeoutMs: "1000",
  rise: "2",
  fall: "3",
  httpPath: "/",
  expectStatus: "200",
});

export function lbFormFrom(spec: Spec): LbFormValues {
  return {
    name: spec.name,
    edgeHost: spec.edgeHost,
    bindAddress: spec.bind.address,
    bindPort: String(spec.bind.port),
    mode: spec.mode,
    targetKind: spec.target.kind,
    service: spec.target.kind === "service" ? spec.target.service : "",
    servicePort: spec.target.kind === "service" && spec.target.port !== null ? String(spec.target.port) : "",
    servers: spec.target.kind === "addresses" ? spec.target.servers.map((s) => `${s.name} ${s.address}:${s.port}`).join("\n") : "",
    interMs: String(spec.check.interMs),
    timeoutMs: String(spec.check.timeoutMs),
    rise: String(spec.check.rise),
    fall: String(spec.check.fall),
    httpPath: spec.check.httpPath ?? "",
    expectStatus: String(spec.check.expectStatus),
  };
}

const int = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN);

/** Field errors and the request, checked by the domain's own schema (the server parses it again). */
export function parseLbForm(v: LbFormValues): { spec: Spec | null; errors: LbFormErrors } {
  const errors: LbFormErrors = {};
  const servers: { name: string; address: string; port: number }[] = [];
  if (v.targetKind === "addresses") {
    const lines = v.servers.split("\n").map((l) => l.trim()).filter(Boolean);
    if (!lines.length) errors.servers = "one server a line: name address:port";
    for (const line of lines) {
      const m = /^(\S+)\s+(\S+):(\d+)$/.exec(line);
      if (!m) {
        errors.servers = `"${line}" is not name address:port`;
        break;
      }
      servers.push({ name: m[1]!, address: m[2]!, port: Number(m[3]) });
    }
  }
  const raw = {
    name: v.name.trim(),
    edgeHost: v.edgeHost,
    bind: { address: v.bindAddress.trim(), port: int(v.bindPort) },
    mode: v.mode,
    target: v.targetKind === "service" ? { kind: "service", service: v.service, port: v.servicePort.trim() ? int(v.servicePort) : null } : { kind: "addresses", servers },
    check: {
      interMs: int(v.interMs),
      timeoutMs: int(v.timeoutMs),
      rise: int(v.rise),
      fall: int(v.fall),
      httpPath: v.mode === "http" && v.httpPath.trim() ? v.httpPath.trim() : null,
      expectStatus: int(v.expectStatus),
    },
  };
  const parsed = LoadBalancerSpec.safeParse(raw);
  if (!parsed.success) {
    const field: Record<string, keyof LbFormValues> = {
      name: "name",
      edgeHost: "edgeHost",
      "bind.address": "bindAddress",
      "bind.port": "bindPort",
      "target.service": "service",
      "target.port": "servicePort",
      "check.interMs": "interMs",
      "check.timeoutMs": "timeoutMs",
      "check.rise": "rise",
      "check.fall": "fall",
      "check.httpPath": "httpPath",
      "check.expectStatus": "expectStatus",
    };
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".");
      const key = field[path] ?? (path.startsWith("target.servers") ? "servers" : undefined);
      const message = issue.code === "invalid_type" ? "a number is needed" : issue.message;
      if (key && !errors[key]) errors[key] = message;
    }
    if (!Object.keys(errors).length) errors.name = parsed.error.issues[0]?.message ?? "invalid";
  }
  return { spec: Object.keys(errors).length ? null : (parsed.data ?? null), errors };
}
