import type { ErrorInfo } from "@/lib/errors";
import { PreflightList } from "./preflight-list";

/**
 * A start the server refused, in its words, with the checks that failed (PRECONDITION_FAILED
 * carries them in `details.checks`; those re-run on the agents are marked as such).
 */
export function Refusal({ what, error, testId }: { what: string; error: ErrorInfo; testId: string }) {
  return (
    <div role="alert" className="rounded-lg border border-crit/40 bg-crit-soft/60 p-3 text-[13px]" data-testid={testId}>
      <p className="font-medium text-crit">
        {what} was not started: {error.message}
      </p>
      {error.checks && (
        <div className="mt-2">
          <PreflightList checks={error.checks} />
        </div>
      )}
    </div>
  );
}
