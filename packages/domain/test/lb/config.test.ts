import { describe, expect, it } from "vitest";
import { LoadBalancerSpec, renderHaproxyConfig, type LbApplyInput } from "../../src/index.js";

const paths = { statsSocket: "/var/lib/nimbus/lb/web/stats.sock", pidFile: "/var/lib/nimbus/lb/web/haproxy.pid" };
const base: LbApplyInput = {
  name: "web",
  bind: { address: "0.0.0.0", port: 80 },
  mode: "http",
  check: { interMs: 500, timeoutMs: 400, rise: 2, fall: 3, httpPath: "/healthz", expectStatus: 200 },
  servers: [
    { name: "swarm1", address: "10.0.0.1", port: 8080 },
    { name: "swarm2", address: "10.0.0.2", port: 8080, disabled: true },
  ],
};

describe("renderHaproxyConfig", () => {
  it("writes a round-robin backend with check inter/rise/fall, an HTTP check, the master-worker stats socket, and drained servers disabled", () => {
    const cfg = renderHaproxyConfig(base, paths);
    expect(cfg).toContain("    master-worker\n");
    expect(cfg).toContain("    stats socket /var/lib/nimbus/lb/web/stats.sock mode 600 level admin expose-fd listeners\n");
    expect(cfg).toContain("frontend fe_web\n    bind 0.0.0.0:80\n    default_backend be_web\n");
    expect(cfg).toContain("backend be_web\n    balance roundrobin\n    option httpchk GET /healthz\n    http-check expect status 200\n");
    expect(cfg).toContain("    server swarm1 10.0.0.1:8080 check inter 500 rise 2 fall 3\n");
    expect(cfg).toContain("    server swarm2 10.0.0.2:8080 check inter 500 rise 2 fall 3 disabled\n");
    expect(cfg).toContain("    timeout check 400ms\n");
  });

  it("checks TCP connect in tcp mode (no HTTP check lines)", () => {
    const cfg = renderHaproxyConfig({ ...base, mode: "tcp" }, paths);
    expect(cfg).toContain("    mode tcp\n");
    expect(cfg).not.toContain("httpchk");
    expect(cfg).not.toContain("forwardfor");
  });

  it.each([
    ["a server name with a newline", { servers: [{ name: "a\n    server evil 1.2.3.4:1", address: "10.0.0.1", port: 1 }] }],
    ["a server name with a space", { servers: [{ name: "a b", address: "10.0.0.1", port: 1 }] }],
    ["an address with a port smuggled in", { servers: [{ name: "a", address: "10.0.0.1:22 backup", port: 1 }] }],
    ["an out-of-range address", { servers: [{ name: "a", address: "300.0.0.1", port: 1 }] }],
    ["port 0", { servers: [{ name: "a", address: "10.0.0.1", port: 0 }] }],
    ["a check path with a space", { check: { ...base.check, httpPath: "/ HTTP/1.0\\r\\nHost: x" } }],
    ["a check path with a '#'", { check: { ...base.check, httpPath: "/x#y" } }],
    ["a name with upper case", { name: "Web" }],
    ["a bind address that is a name", { bind: { address: "localhost", port: 80 } }],
  ])("refuses %s", (_, patch) => {
    expect(() => renderHaproxyConfig({ ...base, ...patch } as LbApplyInput, paths)).toThrow();
  });

  it("refuses two servers of one name and unsafe paths", () => {
    expect(() => renderHaproxyConfig({ ...base, servers: [base.servers[0]!, base.servers[0]!] }, paths)).toThrow(/two servers named swarm1/);
    expect(() => renderHaproxyConfig(base, { ...paths, statsSocket: "/tmp/a b.sock" })).toThrow(/unsafe path/);
  });

  it("the spec's defaults are HAProxy's (inter 2 s, rise 2, fall 3) and a service target names its port or none", () => {
    const spec = LoadBalancerSpec.parse({ name: "web", edgeHost: "swarm1", bind: { address: "0.0.0.0", port: 80 }, target: { kind: "service", service: "web" } });
    expect(spec.check).toMatchObject({ interMs: 2000, rise: 2, fall: 3, httpPath: null });
    expect(spec.target).toEqual({ kind: "service", service: "web", port: null });
  });
});
