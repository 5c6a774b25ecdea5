"use client";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";
import { Field, Input } from "@/components/ui/field";
import { homeFor } from "@/components/shell/nav-items";
import { useSessionQuery } from "@/lib/session";
import { safeNextPath, signIn } from "@/lib/sign-in";

/**
 * Only same-site paths are followed after sign-in, never an absolute URL from the query string.
 * "/" is where every signed-out visit starts, not a page asked for: the viewer's home instead
 * (on-call engineers land on Health).
 */
const safeNext = (next: string | null) => {
  const path = safeNextPath(next, window.location.origin);
  return path && path !== "/" ? path : null;
};

export function LoginForm() {
  const router = useRouter();
  const params = useSearchParams();
  const me = useSessionQuery();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [, tick] = useState(0);

  const goHome = (session: Parameters<typeof homeFor>[0]) => router.replace(safeNext(params.get("next")) ?? homeFor(session));

  useEffect(() => {
    if (me.data) goHome(me.data);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [me.data]);

  // Count the lock-out down once a second while it lasts.
  useEffect(() => {
    if (retryAt === null) return;
    const t = setInterval(() => (Date.now() >= retryAt ? setRetryAt(null) : tick((n) => n + 1)), 1000);
    return () => clearInterval(t);
  }, [retryAt]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const result = await signIn(email, password);
    if (result.ok) {
      // Sign-out clears the cache, so only the session needs loading; the effect above moves
      // on once it is there.
      const session = await me.refetch();
      if (session.data) return;
      setError("Signed in, but the session was not accepted. Are cookies enabled?");
    }
    setBusy(false);
    if (!result.ok) setError(result.message);
    setRetryAt(!result.ok && result.retryAfterSeconds ? Date.now() + result.retryAfterSeconds * 1000 : null);
  };

  const waitSeconds = retryAt ? Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) : 0;

  return (
    <form onSubmit={submit} className="w-full max-w-sm rounded-xl border border-border bg-panel p-6 shadow-sm" aria-labelledby="login-title">
      <div className="mb-5 flex items-center gap-2">
        <svg aria-hidden viewBox="0 0 24 24" className="size-6 text-accent" fill="currentColor">
          <path d="M7 18a5 5 0 0 1-.6-9.96A6 6 0 0 1 18 9a4.5 4.5 0 0 1-.5 9H7z" />
        </svg>
        <h1 id="login-title" className="text-lg font-semibold">
          Sign in to Nimbus
        </h1>
      </div>
      <div className="flex flex-col gap-3">
        <Field label="Email" htmlFor="email">
          <Input id="email" name="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </Field>
        <Field label="Password" htmlFor="password">
          <Input id="password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        {error && (
          <p role="alert" data-testid="login-error" className="rounded-md bg-crit-soft px-3 py-2 text-[13px] text-crit">
            {error}
            {waitSeconds > 0 && <span className="block font-medium">Try again in {waitSeconds} s.</span>}
          </p>
        )}
        <Button type="submit" variant="primary" busy={busy} disabled={waitSeconds > 0} className="mt-1 w-full">
          Sign in
        </Button>
      </div>
    </form>
  );
}
