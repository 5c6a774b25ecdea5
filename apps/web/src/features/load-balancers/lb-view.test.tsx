import { LoadBalancerSpec, type LoadBalancerView } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { NOW } from "@/fixtures/hosts";
import { renderHtml, renderText } from "@/fixtures/render";
import { emptyLbForm, lbFormFrom, parseLbForm, withLbDefaults } from "./lb-form";
import { LoadBalancersView, backendStatus, lbStatus } from "./lb-view";

const spec = LoadBalancerSpec.parse({ name: "shop", edgeHost: "manager", bind: { address: "0.0.0.0", port: 80 }, target: { kind: "service", service: "web" }, check: { httpPath: "/" } });
const backend = (name: string, over: Partial<LoadBalancerView["backends"][number]> = {}): LoadBalancerView["backends"][number] => ({
  name,
  address: `10.0.0.${name.length}:8080`,
  status: "UP",
  state: "up",
  checkStatus: "L7OK",
  checkCode: "200",
  checkDescription: "Layer7 check passed",
  lastChangeAt: new Date(NOW - 5 * 60_000).toISOString(),
  sessionsCurrent: 1,
  sessionsTotal: 40,
  selected: 40,
  share: 0.5,
  ...over,
});
const view = (over: Partial<LoadBalancerView> = {}): LoadBalancerView => ({
  spec,
  createdBy: "Ada Admin",
  updatedAt: new Date(NOW).toISOString(),
  status: "applied",
  message: "2 of 3 backends up",
  pid: 4242,
  frontend: { status: "OPEN", sessionsCurrent: 2, sessionsTotal: 80 },
  backends: [backend("manager"), backend("worker1", { status: "DOWN", state: "down", checkStatus: "L4CON", checkCode: null, checkDescription: "Layer4 connection problem", share: 0 }), backend("worker2", { status: "MAINT", state: "maint", checkStatus: null, share: 0.5 })],
  expected: null,
  up: 1,
  total: 3,
  ...over,
});

describe("load balancers page", () => {
  it("shows each backend's HAProxy state, check, last change, sessions and share; the balancer's status counts what is up", () => {
    const text = renderText(<LoadBalancersView lbs={[view()]} now={NOW} />);
    expect(text).toContain("manager:80 → service web");
    expect(text).toContain("GET / → 200, every 2000 ms, rise 2, fall 3");
    expect(text).toMatch(/manager 10\.0\.0\.7:8080 UP L7OK 200 · Layer7 check passed 5 min(utes)? ago 1 \/ 40 50%/);
    expect(text).toMatch(/worker1 .* DOWN L4CON · Layer4 connection problem/);
    expect(text).toMatch(/worker2 .* MAINT not checked \(disabled\)/);
    expect(lbStatus(view())).toEqual({ tone: "warn", label: "1 of 3 up" });
    expect(lbStatus(view({ up: 0 }))).toEqual({ tone: "crit", label: "0 of 3 up" });
    expect(lbStatus(view({ status: "stale", up: 3 }))).toMatchObject({ tone: "warn", label: "Swarm changed" });
    expect(backendStatus({ state: "down", status: "DOWN 1/2" })).toEqual({ tone: "crit", label: "DOWN 1/2" });
  });

  it("draws management buttons only when given, and says what a load balancer is when there is none", () => {
    expect(renderHtml(<LoadBalancersView lbs={[view()]} now={NOW} />)).not.toContain("<button");
    expect(renderHtml(<LoadBalancersView lbs={[view()]} now={NOW} actions={() => <button>Edit</button>} />)).toContain("<button>Edit</button>");
    expect(renderText(<LoadBalancersView lbs={[]} now={NOW} />)).toContain("No load balancers yet");
  });

  it("the form: round trip of a spec, field errors from the domain's schema, address lines parsed", () => {
    expect(parseLbForm(lbFormFrom(spec)).spec).toEqual(spec);
    const bad = parseLbForm({ ...emptyLbForm("manager", "web"), name: "Bad Name", bindPort: "99999", rise: "x" });
    expect(bad.spec).toBeNull();
    expect(Object.keys(bad.errors).sort()).toEqual(["bindPort", "name", "rise"]);
    const addresses = parseLbForm({ ...emptyLbForm("manager"), name: "ext", targetKind: "addresses", servers: "a 10.0.0.1:80\nb 10.0.0.2:81" });
    expect(addresses.spec?.target).toEqual({ kind: "addresses", servers: [{ name: "a", address: "10.0.0.1", port: 80 }, { name: "b", address: "10.0.0.2", port: 81 }] });
    expect(parseLbForm({ ...emptyLbForm("manager"), name: "ext", targetKind: "addresses", servers: "a 10.0.0.1 80" }).errors.servers).toMatch(/not name address:port/);
    expect(parseLbForm({ ...emptyLbForm("manager"), name: "ext", targetKind: "addresses", servers: "a\tb 10.0.0.1:80; rm" }).spec).toBeNull();
  });

  it("a name typed before the options arrived keeps it, and the first edge host and service still fill the empty fields", () => {
    const typedEarly = { ...emptyLbForm(), name: "shop" };
    expect(parseLbForm(typedEarly).spec).toBeNull();
    const filled = withLbDefaults(typedEarly, "manager", "web");
    expect(filled).toMatchObject({ name: "shop", edgeHost: "manager", service: "web" });
    expect(parseLbForm(filled).spec).not.toBeNull();
    // A choice already made is kept; no options yet leaves the form as it is.
    const chosen = { ...filled, edgeHost: "edge2", service: "api" };
    expect(withLbDefaults(chosen, "manager", "web")).toBe(chosen);
    expect(withLbDefaults(typedEarly)).toBe(typedEarly);
  });
});
