import { AgentErrorCode, redactSwarmTokens, type SwarmNodeUpdateParams } from "@nimbus/domain";
import type { SwarmNodesDriver } from "../drivers.js";
import { AgentError } from "../errors.js";
import type { Tool } from "./tool.js";
import { classifyToolError } from "./util.js";

const NOT_FOUND = /No such node|node .* not found|could not find/i;
const NOT_MANAGER = /not a swarm manager|This node is not part of a swarm/i;
const NOT_IN_SWARM = /This node is not part of a swarm/i;
/** Docker refuses these with a reason worth showing as is (quorum, last manager, a node still up). */
const REFUSED = /quorum|last manager|is not down|cannot demote|cannot remove|must be demoted/i;

/** The docker argument list of a node change (pure: tested without docker). Names are identifiers (SwarmNodeRef), never options. */
export function nodeUpdateArgs(p: SwarmNodeUpdateParams): string[] {
  switch (p.action) {
    case "label":
      return ["node", "update", ...Object.entries(p.labels).flatMap(([k, v]) => ["--label-add", `${k}=${v}`]), p.node];
    case "promote":
      return ["node", "promote", p.node];
    case "demote":
      return ["node", "demote", p.node];
    case "remove":
      // --force: the node is drained and left (or is gone for good); docker refuses a plain rm of a node it still sees up.
      return ["node", "rm", "--force", p.node];
  }
}

/**
 * Node changes through the docker CLI on a manager, and `swarm leave` on the node itself. A
 * rotated token is printed by docker (`--rotate -q`) and dropped here: it goes to no log or answer.
 */
export class RealSwarmNodes implements SwarmNodesDriver {
  constructor(
    private readonly host: string,
    private readonly docker: Tool,
    private readonly changed: () => void,
  ) {}

  async update(p: SwarmNodeUpdateParams): Promise<void> {
    try {
      await this.docker.run(nodeUpdateArgs(p));
    } catch (e) {
      throw redacted(classifyToolError(e, `swarm node ${p.node} (${p.action}, asked on ${this.host})`, { notFound: NOT_FOUND, conflict: new RegExp(`${NOT_MANAGER.source}|${REFUSED.source}`, "i") }));
    }
    this.changed();
  }

  async rotateToken(role: "worker" | "manager"): Promise<void> {
    try {
      await this.docker.run(["swarm", "join-token", "--rotate", "-q", role]);
    } catch (e) {
      throw redacted(classifyToolError(e, `rotating the ${role} join token on ${this.host}`, { conflict: NOT_MANAGER }));
    }
  }

  async leave(): Promise<void> {
    try {
      await this.docker.run(["swarm", "leave"]);
    } catch (e) {
      if (e instanceof AgentError && e.code === AgentErrorCode.toolFailed && NOT_IN_SWARM.test(String(e.data?.stderr ?? ""))) return;
      throw classifyToolError(e, `leaving the swarm on ${this.host}`, { conflict: /manager|quorum/i });
    }
    this.changed();
  }
}

/** A tool error whose output could quote a token (a rotate that half failed) loses it before it travels. */
function redacted(e: unknown): unknown {
  if (!(e instanceof AgentError)) return e;
  const data = e.data ? JSON.parse(redactSwarmTokens(JSON.stringify(e.data))) : e.data;
  return new AgentError(e.code, redactSwarmTokens(e.message), data);
}
