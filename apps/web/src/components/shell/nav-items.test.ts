import { describe, expect, it } from "vitest";
import type { Role } from "@nimbus/domain";
import { NAV_ITEMS, homeFor, mayOpen, mayOpenPath } from "./nav-items";

const as = (role: Role, lab = false) => ({ user: { role }, lab });

describe("pages per role", () => {
  it("land on-call engineers on Health, the others on their first page", () => {
    expect(homeFor(as("oncall"))).toBe("/health");
    expect(homeFor(as("admin"))).toBe("/");
    expect(homeFor(as("operator"))).toBe("/");
    expect(homeFor(as("tenant"))).toBe("/instances");
  });

  it("refuse the pages a role's calls would be refused on, detail pages included", () => {
    expect(mayOpenPath(as("operator"), "/admin/users")).toBe(false);
    expect(mayOpenPath(as("oncall"), "/admin/users")).toBe(false);
    expect(mayOpenPath(as("operator"), "/audit")).toBe(false);
    expect(mayOpenPath(as("oncall"), "/audit")).toBe(true);
    expect(mayOpenPath(as("tenant"), "/hosts/kvm1")).toBe(false);
    expect(mayOpenPath(as("tenant"), "/health")).toBe(false);
    expect(mayOpenPath(as("tenant"), "/instances/acme-web1")).toBe(true);
    expect(mayOpenPath(as("tenant"), "/swarm/stacks")).toBe(true);
    expect(mayOpenPath(as("admin"), "/lab")).toBe(false);
    expect(mayOpenPath(as("admin", true), "/lab")).toBe(true);
    expect(mayOpenPath(as("tenant"), "/load-balancers")).toBe(false);
    expect(mayOpenPath(as("oncall"), "/load-balancers")).toBe(true);
  });

  it("let staff read the tenants (admin.tenants.list is theirs) but not the users", () => {
    expect(mayOpenPath(as("operator"), "/admin/tenants")).toBe(true);
    expect(NAV_ITEMS.filter((i) => mayOpen(as("oncall"), i)).map((i) => i.label)).toEqual([
      "Overview", "Health", "Hosts", "Instances", "Network", "Swarm", "Stacks", "Storage", "Load balancers", "Operations", "Moves", "Tenants", "Audit log",
    ]);
  });

  it("leave paths outside the navigation to their page (its own not-found)", () => {
    expect(mayOpenPath(as("tenant"), "/no-such-page")).toBe(true);
  });
});
