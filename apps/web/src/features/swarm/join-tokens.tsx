"use client";

import { KeyRound } from "lucide-react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog } from "@/components/ui/dialog";
import { notify } from "@/lib/notify";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";

/**
 * The swarm's join tokens, for admins. Revealing them is a mutation so that the audit log records
 * every reveal; they are held only while the dialog is open and never cached.
 */
export function JoinTokensButton({ managerAddress }: { managerAddress: string | null }) {
  const trpc = useTRPC();
  const reveal = useAction(trpc.swarm.joinTokens.mutationOptions({ onError: (e) => notify.error(e, "Join tokens") }));
  const tokens = reveal.data;
  return (
    <>
      <Button onClick={() => reveal.mutate()} busy={reveal.isPending} data-testid="reveal-join-tokens">
        <KeyRound aria-hidden className="size-3.5" />
        Join tokens…
      </Button>
      <Dialog
        open={!!tokens}
        onOpenChange={(o) => !o && reveal.reset()}
        wide
        testId="join-tokens-dialog"
        title="Swarm join tokens"
        description="Anyone with a token can join a machine to the swarm as that role. This reveal is recorded in the audit log."
        footer={<Button onClick={() => reveal.reset()}>Close</Button>}
      >
        {tokens && (
          <div className="flex flex-col gap-4">
            <Token role="worker" token={tokens.worker} managerAddress={managerAddress} />
            <Token role="manager" token={tokens.manager} managerAddress={managerAddress} />
          </div>
        )}
      </Dialog>
    </>
  );
}

function Token({ role, token, managerAddress }: { role: "worker" | "manager"; token: string; managerAddress: string | null }) {
  const command = `docker swarm join --token ${token} ${managerAddress ?? "MANAGER-ADDRESS"}:2377`;
  return (
    <section data-testid={`join-token-${role}`}>
      <h3 className="text-[13px] font-semibold capitalize">{role}</h3>
      <p className="mb-1.5 text-[12px] text-muted">
        {role === "worker" ? "Runs tasks; what new workers use on their first boot." : "Joins the managers' Raft group: keep this one for adding managers only."}
      </p>
      <div className="flex items-start gap-2">
        <code className="min-w-0 flex-1 break-all rounded-md border border-border bg-panel-2 px-2.5 py-1.5 font-mono text-[12px]">{token}</code>
        <CopyButton text={token} label={`Copy the ${role} token`} testId={`copy-${role}-token`} />
      </div>
      <div className="mt-1.5 flex items-start gap-2">
        <code className="min-w-0 flex-1 break-all rounded-md border border-border bg-panel-2 px-2.5 py-1.5 font-mono text-[11.5px] text-muted">{command}</code>
        <CopyButton text={command} label={`Copy the ${role} join command`} />
      </div>
    </section>
  );
}
