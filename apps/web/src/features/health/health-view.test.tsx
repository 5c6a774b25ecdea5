import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { FixedNowContext } from "@/lib/clock";
import { NOW, ago } from "@/fixtures/hosts";
import { renderText } from "@/fixtures/render";
import { healthChecks } from "@/fixtures/views";
import type { HealthCheck } from "@nimbus/domain";
import { HealthList, HealthSummary, SparseHealthList, affectedHref, checkHref, healthHeadline } from "./health-view";

const html = (el: React.ReactElement) => renderToStaticMarkup(<FixedNowContext.Provider value={NOW}>{el}</FixedNowContext.Provider>);
const crit = healthChecks.find((c) => c.id === "host:kvm3")!;
const acked: HealthCheck = { ...crit, ack: { by: "Olivia On-call", at: ago(60), note: "PSU swap, back by 10:00" } };

describe("acknowledged checks", () => {
  it("no longer make the header red: only open problems count", () => {
    const checks = healthChecks.map((c) => (c.state === "crit" || c.state === "warn" ? { ...c, ack: c.ack ?? { by: "Olivia On-call", at: ago(60) } } : c));
    expect(healthHeadline(checks)).toBe("No open problems; 3 acknowledged");
    expect(html(<HealthSummary checks={checks} />)).toContain('data-state="unknown"');
    expect(html(<HealthSummary checks={checks.filter((c) => c.state !== "unknown")} />)).toContain('data-state="acknowledged"');
    expect(html(<HealthSummary checks={healthChecks} />)).toContain('data-state="crit"');
  });

  it("are listed apart, after the open problems, with who, when and their note", () => {
    const out = html(<HealthList checks={[acked, ...healthChecks.filter((c) => c.id !== crit.id)]} />);
    const section = out.slice(out.indexOf('data-testid="health-acknowledged"'));
    expect(section).toContain('data-testid="check-host:kvm3"');
    expect(out.indexOf('data-testid="check-storage:/backup"')).toBeLessThan(out.indexOf('data-testid="health-acknowledged"'));
    // <q> draws its own quotation marks.
    expect(renderText(<HealthList checks={[acked]} />)).toContain("Acknowledged by Olivia On-call 1 min ago: PSU swap, back by 10:00");
  });
});

describe("health check texts and links", () => {
  it("say an ISO timestamp inside a message as a time ago", () => {
    const unreachable = { ...crit, message: `unreachable: connect ECONNREFUSED 10.0.0.13:22; last seen ${ago(14 * 60)}` };
    const text = renderText(<HealthList checks={[unreachable]} />);
    expect(text).toContain("last seen 14 min ago");
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it("link a check to its object and each affected name to its page", () => {
    expect(checkHref(crit)).toBe("/hosts/kvm3");
    expect(checkHref({ ...crit, id: "instance:acme-db" })).toBe("/instances/acme-db");
    expect(checkHref({ ...crit, id: "swarm:service:api" })).toBe("/swarm?q=api");
    expect(checkHref({ ...crit, id: "storage:capacity:/backup" })).toBe("/storage");
    const hosts = new Set(["kvm1", "kvm3"]);
    expect(affectedHref(crit, "kvm3", hosts)).toBe("/hosts/kvm3");
    expect(affectedHref(crit, "acme-db", hosts)).toBe("/instances/acme-db");
    expect(affectedHref({ ...crit, category: "swarm" }, "api", hosts)).toBe("/swarm?q=api");
    const out = html(<HealthList checks={[{ ...crit, affects: ["acme-db", "kvm1"] }]} hostNames={hosts} />);
    expect(out).toContain('href="/hosts/kvm3"');
    expect(out).toContain('href="/instances/acme-db"');
    expect(out).toContain('href="/hosts/kvm1"');
  });
});

describe("SparseHealthList: a long list read by offset", () => {
  it("draws the cards in view in the server's order, the acknowledged heading where that group starts, placeholders for cards not loaded", () => {
    // Server order: open problems, then acknowledged, then the rest.
    const failing = (c: HealthCheck) => c.state === "crit" || c.state === "warn";
    const open = healthChecks.filter((c) => failing(c) && !c.ack);
    expect(open.length).toBeGreaterThanOrEqual(2);
    const acknowledged = [{ ...open[0]!, ack: { by: "Olivia On-call", at: ago(60) } }, ...healthChecks.filter((c) => failing(c) && c.ack)];
    const ordered = [...open.slice(1), ...acknowledged, ...healthChecks.filter((c) => !failing(c))];
    const out = html(<SparseHealthList sparse={{ total: 5_000, rowAt: (i) => ordered[i], onWindowChange: () => {} }} />);
    const at = (id: string) => out.indexOf(`data-testid="check-${id}"`);
    for (const c of ordered) expect(at(c.id)).toBeGreaterThanOrEqual(0);
    expect(at(ordered[0]!.id)).toBeLessThan(at(ordered.at(-1)!.id));
    // The heading once, just before the acknowledged card, after the open ones.
    expect(out.split("Acknowledged · someone is on it")).toHaveLength(2);
    expect(out.indexOf("Acknowledged · someone is on it")).toBeGreaterThan(at(open[1]!.id));
    expect(out.indexOf("Acknowledged · someone is on it")).toBeLessThan(at(open[0]!.id));
    // Rows past what is loaded are skeleton cards; only a window of 5,000 is in the markup.
    expect(out).toContain('data-testid="check-placeholder"');
    expect(out.split('data-index="').length - 1).toBeLessThan(100);
    expect(html(<SparseHealthList sparse={{ total: 0, rowAt: () => undefined, onWindowChange: () => {} }} />)).toContain("No checks match");
  });
});
