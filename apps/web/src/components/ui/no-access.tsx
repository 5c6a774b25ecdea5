import { Lock } from "lucide-react";
import Link from "next/link";

/**
 * A page or panel this viewer's role may not see, said calmly: no error colour, no code, no
 * Retry (retrying cannot help), and a way back to a page they may see.
 */
export function NoAccess({ role, home, compact }: { role?: string; home?: { href: string; label: string }; compact?: boolean }) {
  if (compact)
    return (
      <p role="status" data-testid="no-access" className="flex items-center gap-2 rounded-md border border-border bg-panel-2 px-3 py-2 text-[13px] text-muted">
        <Lock aria-hidden className="size-3.5 shrink-0" />
        Your role may not see this.
      </p>
    );
  return (
    <section role="status" data-testid="no-access" className="mx-auto mt-10 flex max-w-md flex-col items-center gap-2 rounded-lg border border-border bg-panel px-6 py-8 text-center">
      <Lock aria-hidden className="size-6 text-faint" />
      <h1 className="text-[16px] font-semibold">No access</h1>
      <p className="text-[13px] text-muted">
        {role ? `Your role (${role}) may not open this page.` : "Your role may not open this page."} An administrator can change your role if you need it.
      </p>
      {home && (
        <Link href={home.href} className="mt-1 text-[13px] font-medium text-accent hover:underline">
          Go to {home.label}
        </Link>
      )}
    </section>
  );
}
