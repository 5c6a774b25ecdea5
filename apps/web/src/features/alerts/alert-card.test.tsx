import { describe, expect, it } from "vitest";
import { DEFAULT_ALERT_RULES } from "@nimbus/domain";
import { NOW, ago } from "@/fixtures/hosts";
import { renderText } from "@/fixtures/render";
import { AlertCard, type FiringAlert } from "./alert-card";
import { conditionText } from "./alert-settings";

const alert: FiringAlert = {
  id: "host-down|host:kvm2",
  ruleId: "host-down",
  ruleName: "Host down",
  severity: "critical",
  subject: "host:kvm2",
  category: "host",
  target: "kvm2 agent",
  message: `unreachable: connect ECONNREFUSED; last seen ${ago(14 * 60)}`,
  affects: ["acme-web2", "globex-app2"],
  tenants: ["acme", "globex"],
  link: "/hosts/kvm2",
  since: ago(15 * 60),
  firedAt: ago(15 * 60),
  resolvedAt: null,
  ack: null,
  escalatedAt: null,
  silencedBy: null,
};

describe("firing alert card", () => {
  it("says what, since when, what it affects and whose tenants, in words", () => {
    const text = renderText(<AlertCard alert={alert} />);
    expect(text).toContain("Critical");
    expect(text).toContain("Host down");
    expect(text).toContain("since 15 min ago");
    expect(text).toContain("last seen 14 min ago");
    expect(text).toContain("acme-web2");
    expect(text).toContain("Tenants: acmeglobex");
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });

  it("names who acknowledged it with the note, when it escalated, and the silence muting it", () => {
    const text = renderText(
      <AlertCard alert={{ ...alert, ack: { by: "Olga", at: ago(60), note: "DC on it" }, escalatedAt: ago(120), silencedBy: { id: "s", endsAt: new Date(NOW + 3_600_000).toISOString(), createdBy: "Ann" } }} />,
    );
    expect(text).toContain("Acknowledged by Olga 1 min ago: DC on it");
    expect(text).toContain("escalated 2 min ago");
    expect(text).toContain("Silenced by Ann, ends in 1 h");
  });
});

describe("rule conditions in words", () => {
  it("read as the check pattern, the threshold or the flap count with their duration", () => {
    expect(DEFAULT_ALERT_RULES.map(conditionText)).toEqual([
      "host:* is crit",
      "datastore.usedPct above 80 % for 5 min",
      "datastore.usedPct above 90 % for 1 min",
      "storage:vip changes 3× in 10 min",
      "swarm:service:* is crit or warn for 1 min",
      "network:mesh-incomplete:* is crit or warn for 2 min",
      "lb:*:* is crit",
    ]);
  });
});
