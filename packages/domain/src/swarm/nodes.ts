import { z } from "zod";
import { SwarmNodeRef } from "../names.js";

/**
 * Swarm join tokens and node actions. A join token is a credential (whoever has it joins the
 * swarm), so Nimbus never keeps one: it is fetched from a manager when a worker is built, passed
 * on to the create job and replaced by a marker in every line that is recorded (step logs,
 * errors). `docker swarm join-token -q` prints `SWMTKN-1-<digest>-<secret>`.
 */
export const SWARM_TOKEN_PATTERN = /SWMTKN-1-[0-9a-z]+-[0-9a-z]+/gi;
export const REDACTED_TOKEN = "SWMTKN-(redacted)";

/** The line with every swarm join token replaced by a marker. */
export const redactSwarmTokens = (line: string): string => line.replace(SWARM_TOKEN_PATTERN, REDACTED_TOKEN);

/** A token as an agent reports it; anything else is refused before it reaches a command line. */
export const SwarmJoinToken = z.string().regex(/^SWMTKN-1-[0-9a-z]{1,100}-[0-9a-z]{1,100}$/i, "not a swarm join token");

export const SwarmRole = z.enum(["worker", "manager"]);
export type SwarmRole = z.infer<typeof SwarmRole>;

/** A node label as `docker node update --label-add` takes it: key=value, both plain. */
export const SwarmLabelKey = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "a label key is lowercase letters, digits, '.', '_' and '-'");
export const SwarmLabelValue = z.string().regex(/^[A-Za-z0-9._:-]{0,128}$/, "a label value is letters, digits, '.', '_', ':' and '-'");

/** `swarm.nodeUpdate`, sent to a manager: one change to one node. */
export const SwarmNodeUpdateParams = z.discriminatedUnion("action", [
  z.object({ action: z.literal("label"), node: SwarmNodeRef, labels: z.record(SwarmLabelKey, SwarmLabelValue).refine((l) => Object.keys(l).length <= 16, "at most 16 labels") }),
  z.object({ action: z.literal("promote"), node: SwarmNodeRef }),
  z.object({ action: z.literal("demote"), node: SwarmNodeRef }),
  /** `docker node rm --force`: the node left (or is gone and will never come back). */
  z.object({ action: z.literal("remove"), node: SwarmNodeRef }),
]);
export type SwarmNodeUpdateParams = z.infer<typeof SwarmNodeUpdateParams>;

/** Labels Nimbus puts on the workers it builds, so the swarm page can tell them apart. */
export const workerLabels = (hypervisor: string): Record<string, string> => ({ "nimbus.managed": "true", "nimbus.hypervisor": hypervisor.replace(/[^A-Za-z0-9._:-]/g, "-").slice(0, 128) });
