"use client";
import { can, type Permission } from "@nimbus/domain";
import { useQuery } from "@tanstack/react-query";
import { createContext, useContext, type ReactNode } from "react";
import { useTRPC } from "./trpc";

export interface SessionUser {
  id: string;
  name: string;
  role: "admin" | "operator" | "oncall" | "tenant";
  tenant: string | null;
}

export interface Session {
  user: SessionUser;
  permissions: readonly string[];
  lab?: boolean;
  /** Tenant members: whether their tenant lets them start, stop and reboot their own instances. */
  tenantAllowsPower?: boolean;
}

/** The signed-in viewer, provided once by the app shell (from session.me) or by a test. */
export const SessionContext = createContext<Session | null>(null);

export function useSessionQuery() {
  const trpc = useTRPC();
  return useQuery({ ...trpc.session.me.queryOptions(), staleTime: 60_000, retry: false });
}

export function SessionProvider({ session, children }: { session: Session; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session | null {
  return useContext(SessionContext);
}

/**
 * Whether to SHOW a control: the role's rules from domain/access.ts, the very ones the server
 * applies, so a button is shown exactly when the server would accept its call. A courtesy only:
 * the server checks every call again.
 */
export function useCan(permission: Permission): boolean {
  const session = useSession();
  return !!session && can(session.user, permission);
}

/** Power buttons: staff with the permission, and tenant members whose tenant allows it. */
export function useMayPower(): boolean {
  const session = useSession();
  const staff = useCan("workload:power");
  return staff || (session?.user.role === "tenant" && !!session.tenantAllowsPower);
}

/**
 * Create and delete instances: staff with workload:create for any tenant, tenant members for
 * their own within its quota (domain's canCreateFor; the server enforces both).
 */
export function useMayProvision(): boolean {
  const session = useSession();
  const staff = useCan("workload:create");
  return staff || (session?.user.role === "tenant" && !!session.user.tenant);
}
