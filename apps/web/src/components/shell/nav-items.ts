import type { Permission } from "@nimbus/domain";
import { ArrowRightLeft, Boxes, FlaskConical, Building, Database, HeartPulse, LayoutDashboard, ListChecks, Monitor, Network, ScrollText, Server, Users, type LucideIcon } from "lucide-react";

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
  { href: "/storage", label: "Storage", icon: Database, needs: "read:fleet" },
  { href: "/operations", label: "Operations", icon: ListChecks, needs: "read:tenant" },
  { href: "/moves", label: "Moves", icon: ArrowRightLeft, needs: "read:fleet" },
  { href: "/admin/users", label: "Users", icon: Users, needs: "admin:users", section: "admin" },
  { href: "/admin/tenants", label: "Tenants", icon: Building, needs: "admin:users", section: "admin" },
  { href: "/audit", label: "Audit log", icon: ScrollText, needs: "audit:read", section: "admin" },
  { href: "/lab", label: "Lab faults", icon: FlaskConical, needs: "admin:users", section: "admin", labOnly: true },
];

export const isActive = (href: string, pathname: string) => (href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`));

/** Where a viewer lands after sign-in: the first page they may see. */
export const homeFor = (permissions: readonly string[]) => NAV_ITEMS.find((i) => permissions.includes(i.needs))?.href ?? "/instances";
