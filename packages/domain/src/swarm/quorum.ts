/**
 * Raft quorum of swarm managers: a swarm of N managers keeps working while a majority
 * (floor(N/2)+1) is up, so it tolerates floor((N-1)/2) lost managers. Docker advises an odd
 * count, 3 or 5: an even count adds a manager that must be reachable without tolerating one
 * more failure, and more than 7 slows every write.
 */
export interface QuorumView {
  managers: number;
  /** Managers needed for a majority. */
  majority: number;
  /** Managers that may be lost while the swarm keeps its leader. */
  tolerates: number;
  /** Null when the count is one Docker recommends (3 or 5; 1 for a lab). */
  warning: string | null;
}

export const quorumTolerance = (managers: number): number => (managers <= 0 ? 0 : Math.floor((managers - 1) / 2));

export function quorumView(managers: number): QuorumView {
  const majority = managers <= 0 ? 0 : Math.floor(managers / 2) + 1;
  const tolerates = quorumTolerance(managers);
  let warning: string | null = null;
  if (managers <= 0) warning = "the swarm has no manager";
  else if (managers === 1) warning = "one manager: losing it stops the swarm (no failure is tolerated); 3 managers tolerate one";
  else if (managers % 2 === 0)
    warning = `${managers} managers is an even count: they tolerate ${tolerates} lost, as ${managers - 1} do; ${managers + 1} would tolerate ${quorumTolerance(managers + 1)}`;
  else if (managers > 7) warning = `${managers} managers: every change is written to a majority of ${majority}; more than 7 slows the swarm`;
  return { managers, majority, tolerates, warning };
}

/**
 * What a promote or demote does to fault tolerance, for the confirm dialog. `warning` is set
 * whenever the change lowers the tolerance or lands on a count Docker advises against; `refusal`
 * when the change cannot be made at all (demoting the last manager, or one whose loss would
 * leave the remaining managers without a majority while some are down).
 */
export function roleChangeImpact(
  action: "promote" | "demote",
  managers: { total: number; reachable: number },
): { before: QuorumView; after: QuorumView; warning: string | null; refusal: string | null } {
  const afterCount = action === "promote" ? managers.total + 1 : managers.total - 1;
  const before = quorumView(managers.total);
  const after = quorumView(afterCount);
  if (action === "demote" && managers.total <= 1) return { before, after, warning: null, refusal: "cannot demote the last manager: the swarm would have none" };
  const reachableAfter = action === "demote" ? managers.reachable - 1 : managers.reachable;
  if (action === "demote" && reachableAfter < after.majority)
    return { before, after, warning: null, refusal: `only ${managers.reachable} of ${managers.total} managers are reachable: after the demote ${reachableAfter} of ${afterCount} would be, short of the majority of ${after.majority}` };
  const lost = after.tolerates < before.tolerates;
  const warning = lost
    ? `fault tolerance drops from ${before.tolerates} to ${after.tolerates} lost manager${after.tolerates === 1 ? "" : "s"}${after.warning ? `; ${after.warning}` : ""}`
    : after.warning;
  return { before, after, warning, refusal: null };
}
