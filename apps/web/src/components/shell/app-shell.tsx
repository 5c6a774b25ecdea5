"use client";
import { useQueryClient } from "@tanstack/react-query";
import { LogOut, Menu, X } from "lucide-react";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { NoAccess } from "@/components/ui/no-access";
import { ErrorState, Skeleton } from "@/components/ui/states";
import { cx } from "@/lib/cx";
import { isUnauthorized } from "@/lib/errors";
import { SessionProvider, useSessionQuery, type Session } from "@/lib/session";
import { useLiveEvents } from "@/lib/use-live-events";
import { NAV_ITEMS, homeFor, itemFor, mayOpen, mayOpenPath } from "./nav-items";
import { ThemeToggle } from "./theme-toggle";
import { AppToaster } from "./app-toaster";

/**
 * Everything around a signed-in page: the session (from session.me), the one live
 * subscription, and the navigation (left sidebar; a top bar with a menu on phones). Signed-out
 * visitors go to /login; the server refuses their calls anyway.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const me = useSessionQuery();
  const router = useRouter();
  const pathname = usePathname();
  const signedOut = me.data === null || isUnauthorized(me.error);

  useEffect(() => {
    if (signedOut) router.replace(`/login?next=${encodeURIComponent(pathname)}`);
  }, [signedOut, router, pathname]);

  if (me.isPending || signedOut) return <ShellSkeleton />;
  if (me.error || !me.data)
    return (
      <div className="mx-auto max-w-lg p-8">
        <ErrorState error={me.error} onRetry={() => void me.refetch()} />
      </div>
    );
  return (
    <SessionProvider session={me.data}>
      <Frame session={me.data}>{children}</Frame>
    </SessionProvider>
  );
}

function Frame({ session, children }: { session: Session; children: ReactNode }) {
  const live = useLiveEvents(true);
  const [menuOpen, setMenuOpen] = useState(false);
  const pathname = usePathname();
  useEffect(() => setMenuOpen(false), [pathname]);
  // A page the role may not see is not drawn at all (its header, buttons and refused queries):
  // one calm "no access" instead. "/" sends tenant members to their instances by itself.
  const allowed = pathname === "/" || mayOpenPath(session, pathname);
  const home = homeFor(session);

  return (
    <div className="min-h-screen">
      <aside className="fixed inset-y-0 left-0 z-30 hidden w-52 flex-col border-r border-border bg-panel md:flex">
        <div className="flex h-12 items-center gap-2 border-b border-border px-4">
          <Brand home={home} />
          <span className="ml-auto">
            <LiveIndicator status={live} />
          </span>
        </div>
        <Nav session={session} pathname={pathname} />
        <div className="mt-auto border-t border-border p-3">
          <UserBlock session={session} />
        </div>
      </aside>

      <header className="sticky top-0 z-30 flex h-12 items-center gap-2 border-b border-border bg-panel px-3 md:hidden">
        <button
          type="button"
          aria-label={menuOpen ? "Close menu" : "Open menu"}
          aria-expanded={menuOpen}
          onClick={() => setMenuOpen((o) => !o)}
          className="inline-flex size-8 items-center justify-center rounded-md text-muted hover:bg-panel-2"
        >
          {menuOpen ? <X className="size-5" aria-hidden /> : <Menu className="size-5" aria-hidden />}
        </button>
        <Brand home={home} />
        <span className="ml-auto flex items-center gap-1">
          <LiveIndicator status={live} />
          <ThemeToggle />
        </span>
      </header>
      {menuOpen && (
        <div className="fixed inset-x-0 top-12 z-30 border-b border-border bg-panel shadow-lg md:hidden">
          <Nav session={session} pathname={pathname} />
          <div className="border-t border-border p-3">
            <UserBlock session={session} />
          </div>
        </div>
      )}

      <main className="px-3 py-4 sm:px-6 sm:py-5 md:pl-58">
        {allowed ? children : <NoAccess role={roleLabel[session.user.role]} home={{ href: home, label: itemFor(home)?.label ?? "your start page" }} />}
      </main>
      <AppToaster />
    </div>
  );
}

function Brand({ home }: { home: string }) {
  return (
    <Link href={home} className="flex items-center gap-2 text-[15px] font-semibold tracking-tight">
      <svg aria-hidden viewBox="0 0 24 24" className="size-5 text-accent" fill="currentColor">
        <path d="M7 18a5 5 0 0 1-.6-9.96A6 6 0 0 1 18 9a4.5 4.5 0 0 1-.5 9H7z" />
      </svg>
      Nimbus
    </Link>
  );
}

function Nav({ session, pathname }: { session: Session; pathname: string }) {
  const items = NAV_ITEMS.filter((i) => mayOpen(session, i));
  const main = items.filter((i) => !i.section);
  const admin = items.filter((i) => i.section === "admin");
  const link = (i: (typeof items)[number]) => {
    // The most specific item only: /swarm/stacks lights Stacks, not Swarm as well.
    const active = itemFor(pathname)?.href === i.href;
    return (
      <Link
        key={i.href}
        href={i.href}
        aria-current={active ? "page" : undefined}
        className={cx(
          "flex items-center gap-2.5 rounded-md px-2.5 py-1.5 text-[13.5px]",
          active ? "bg-accent-soft font-medium text-accent" : "text-muted hover:bg-panel-2 hover:text-fg",
        )}
      >
        <i.icon aria-hidden className="size-4" />
        {i.label}
      </Link>
    );
  };
  return (
    <nav aria-label="Main" className="flex flex-col gap-0.5 p-2">
      {main.map(link)}
      {admin.length > 0 && <div className="mt-3 px-2.5 pb-1 text-[11px] font-semibold uppercase tracking-wide text-faint">Administration</div>}
      {admin.map(link)}
    </nav>
  );
}

const roleLabel: Record<Session["user"]["role"], string> = { admin: "Admin", operator: "Operator", oncall: "On-call", tenant: "Tenant" };

function UserBlock({ session }: { session: Session }) {
  const qc = useQueryClient();
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const signOut = async () => {
    setBusy(true);
    await fetch("/api/auth/sign-out", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: "{}" }).catch(() => undefined);
    qc.clear();
    router.replace("/login");
  };
  return (
    <div className="flex items-center gap-2">
      <div className="min-w-0 flex-1">
        <div className="truncate text-[13px] font-medium" data-testid="user-name">
          {session.user.name}
        </div>
        <div className="truncate text-[11.5px] text-muted">
          {roleLabel[session.user.role]}
          {session.user.tenant ? ` · ${session.user.tenant}` : ""}
        </div>
      </div>
      <span className="hidden md:inline-flex">
        <ThemeToggle />
      </span>
      <button
        type="button"
        onClick={signOut}
        disabled={busy}
        title="Sign out"
        aria-label="Sign out"
        data-testid="sign-out"
        className="inline-flex size-8 items-center justify-center rounded-md text-muted hover:bg-panel-2 hover:text-fg"
      >
        <LogOut aria-hidden className="size-4" />
      </button>
    </div>
  );
}

/** Whether pushed updates are flowing: the one thing that says "what you see is current". */
function LiveIndicator({ status }: { status: string }) {
  const state = status === "pending" ? "live" : status === "error" ? "offline" : "connecting";
  const text = { live: "Live", offline: "Offline", connecting: "Connecting" }[state];
  return (
    <span
      data-testid="live-indicator"
      data-state={state}
      title={state === "live" ? "Receiving live updates" : state === "offline" ? "Live updates lost; reconnecting" : "Connecting to live updates"}
      className="inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-[11px] font-medium text-muted"
    >
      <span aria-hidden className={cx("size-1.5 rounded-full", state === "live" ? "bg-ok" : state === "offline" ? "bg-crit" : "animate-pulse bg-warn")} />
      {text}
    </span>
  );
}

function ShellSkeleton() {
  return (
    <div className="min-h-screen md:pl-52" aria-busy="true" aria-label="Loading">
      <div className="fixed inset-y-0 left-0 hidden w-52 border-r border-border bg-panel md:block" />
      <div className="p-6">
        <Skeleton className="mb-4 h-5 w-48" />
        <Skeleton className="mb-2 w-full" />
        <Skeleton className="mb-2 w-5/6" />
      </div>
    </div>
  );
}
