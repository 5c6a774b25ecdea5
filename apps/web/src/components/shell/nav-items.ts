import { can, type Permission, type Role } from "@nimbus/domain";
import { Waypoints } from "lucide-react";
import { BellRing } from "lucide-react";
import { ArrowRightLeft, Boxes, FlaskConical, Building, Database, HeartPulse, Layers, LayoutDashboard, ListChecks, Monitor, Network, ScrollText, Server, Users, type LucideIcon } from "lucide-react";

export interface NavItem {
  href: string;
  label: string;
  icon: LucideIcon;
  /** Shown only to viewers with this permission (a courtesy; the server checks anyway). */
  needs: Permission;
  section?: "admin";
  /** Only while the embedded lab runs (session.me's `lab`). */
  labOnly?: boolean;
}

export const NAV_ITEMS: NavItem[] = [
  { href: "/", label: "Overview", icon: LayoutDashboard, needs: "read:fleet" },
  { href: "/health", label: "Health", icon: HeartPulse, needs: "read:fleet" },
  { href: "/hosts", label: "Hosts", icon: Server, needs: "read:fleet" },
  { href: "/instances", label: "Instances", icon: Monitor, needs: "read:tenant" },
  { href: "/network", label: "Network", icon: Network, needs: "read:tenant" },
  { href: "/swarm", label: "Swarm", icon: Boxes, needs: "read:tenant" },
  { href: "/swarm/stacks", label: "Stacks", icon: Layers, needs: "read:tenant" },
  { href: "/storage", label: "Storage", icon: Database, needs: "read:fleet" },
  { href: "/load-balancers", label: "Load balancers", icon: Waypoints, needs: "read:fleet" },
  { href: "/operations", label: "Operations", icon: ListChecks, needs: "read:tenant" },
  { href: "/moves", label: "Moves", icon: ArrowRightLeft, needs: "read:fleet" },
  { href: "/admin/users", label: "Users", icon: Users, needs: "admin:users", section: "admin" },
  // Staff may read the tenants (admin.tenants.list); only admins create or edit them.
  { href: "/admin/tenants", label: "Tenants", icon: Building, needs: "read:fleet", section: "admin" },
  { href: "/audit", label: "Audit log", icon: ScrollText, needs: "audit:read", section: "admin" },
  // Channels carry secrets and rules decide who is paged: admins only (on-call acknowledge and silence on Health).
  { href: "/alerts", label: "Alerts", icon: BellRing, needs: "alerts:manage", section: "admin" },
  { href: "/lab", label: "Lab faults", icon: FlaskConical, needs: "admin:users", section: "admin", labOnly: true },
];

export const isActive = (href: string, pathname: string) => (href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`));

/** Who is looking: the role decides (domain/access.ts, the rules the server applies). */
export interface NavViewer {
  user: { role: Role };
  lab?: boolean;
}

/** Whether the viewer may open this item (a courtesy; the server checks every call again). */
export const mayOpen = (viewer: NavViewer, item: NavItem) => can(viewer.user, item.needs) && (!item.labOnly || !!viewer.lab);

/** The navigation item a path belongs to (its page and the pages under it); null for other paths. */
export const itemFor = (pathname: string): NavItem | null =>
  NAV_ITEMS.filter((i) => isActive(i.href, pathname)).sort((a, b) => b.href.length - a.href.length)[0] ?? null;

/** Whether the page at `pathname` is one this viewer may see; paths outside the navigation are left to the page. */
export function mayOpenPath(viewer: NavViewer, pathname: string): boolean {
  const item = itemFor(pathname);
  return !item || mayOpen(viewer, item);
}

/**
 * Where a viewer lands after sign-in: on-call engineers on Health (what is broken, first),
 * everyone else on the first page they may see.
 */
export function homeFor(viewer: NavViewer): string {
  if (viewer.user.role === "oncall") return "/health";
  return NAV_ITEMS.find((i) => mayOpen(viewer, i))?.href ?? "/instances";
}
