import { z } from "zod";
import { cutText } from "../bounds.js";
import { redactSwarmTokens } from "../swarm/nodes.js";
import type { CreateInstanceParams } from "./params.js";
import type { WiringAction } from "./network-fit.js";

/**
 * A create as an operation: its steps (recorded with their times and the agent's log lines, so
 * a failed create says which step failed and what the tool printed) and, for a failure or a
 * cancel at any step, what to undo so nothing half-made is left behind.
 */
export const CreateStepId = z.enum(["check", "build-volume", "wire-network", "define", "start", "wait-address"]);
export type CreateStepId = z.infer<typeof CreateStepId>;

export const StepState = z.enum(["pending", "running", "succeeded", "failed", "skipped", "undone"]);
export type StepState = z.infer<typeof StepState>;

export const STEP_LOG_MAX_LINES = 200;
export const STEP_LOG_LINE_MAX = 512;

/** One step as the operation record keeps it; the same shape serves other operations' task views. */
export const OperationStep = z.object({
  id: z.string().max(64),
  label: z.string().max(256),
  detail: z.string().max(2048),
  state: StepState,
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** What the tool printed, last lines kept. */
  log: z.array(z.string().max(STEP_LOG_LINE_MAX)).max(STEP_LOG_MAX_LINES),
});
export type OperationStep = z.infer<typeof OperationStep>;

/**
 * Step budgets under software emulation (the slowest case, measured): virt-builder with a
 * resize took 221 s; a guest reached its login prompt in 47-63 s and finished first-boot
 * commands by 105 s.
 */
export const CREATE_STEP_TIMEOUT_SECONDS: Record<CreateStepId, number> = {
  check: 30,
  "build-volume": 1200,
  "wire-network": 60,
  define: 60,
  start: 120,
  "wait-address": 600,
};

const describeWiring = (w: WiringAction): string =>
  w.kind === "vxlan"
    ? `VNI ${w.vni} on ${w.bridge} for VLAN ${w.vlan}, tunnels to ${w.peers.length ? w.peers.map((p) => p.host).join(", ") : "no other host yet"}`
    : `tag the instance's port on ${w.bridge} with VLAN ${w.vlan}`;

/** A step not started yet (or skipped: nothing to do), as every operation with steps records it at first. */
export const pendingStep = (id: string, label: string, detail: string, skipped = false): OperationStep => ({
  id, label, detail, state: skipped ? "skipped" : "pending", startedAt: null, finishedAt: null, log: [],
});

type StepSpec = Pick<CreateInstanceParams, "name" | "image" | "volumePath" | "diskGiB" | "nic" | "wiring">;

/** The steps in the order the agent runs them; a step with nothing to do is recorded as skipped. */
export function createSteps(spec: StepSpec): OperationStep[] {
  const hostWiring = spec.wiring.filter((w) => w.kind === "vxlan");
  const portWiring = spec.wiring.filter((w) => w.kind === "port-vlan");
  const step = (id: CreateStepId, label: string, detail: string, skipped = false) => pendingStep(id, label, detail, skipped);
  return [
    // The agent re-checks on the live host, as before a migration: a stale inventory cannot make it build over a file or redefine a domain.
    step("check", "Check the host", `${spec.name} is not defined there, ${spec.volumePath} does not exist, ${spec.nic.bridge} is present, the image is in the repository`),
    step("build-volume", "Build the volume", `${spec.volumePath}, ${spec.diskGiB} GiB, from image ${spec.image.name} (host name, SSH keys, first-boot commands)`),
    step("wire-network", "Wire the network", hostWiring.length ? hostWiring.map(describeWiring).join("; ") : `${spec.nic.bridge} already carries the tenant's network`, !hostWiring.length),
    step("define", "Define the domain", `${spec.name} on ${spec.nic.bridge} (${spec.nic.bridgeType}) VLAN ${spec.nic.vlan}, virtio disk and NIC, serial console`),
    step("start", "Start", portWiring.length ? `start ${spec.name}, then ${portWiring.map(describeWiring).join("; ")}` : `start ${spec.name}`),
    step("wait-address", "Wait for boot", `wait until ${spec.name} reports an address (first boot takes about a minute under emulation)`),
  ];
}

/** Undo actions, in the order to run them; each is idempotent (the agent skips what is not there). */
export type CleanupAction =
  | { kind: "destroy-domain"; name: string; description: string }
  | { kind: "undefine-domain"; name: string; description: string }
  | { kind: "release-network"; tenant: string | null; bridge: string; vni: number; vlan: number; description: string }
  | { kind: "remove-volume"; path: string; description: string };

const ORDER: readonly CreateStepId[] = CreateStepId.options;

/** The tenant's network leaves a host with its last instance there ("no finding is left open by a delete"). */
export const releaseNetwork = (tenant: string | null, bridge: string, vni: number, vlan: number): CleanupAction => ({
  kind: "release-network",
  tenant,
  bridge,
  vni,
  vlan,
  description: `remove VNI ${vni} from ${bridge} unless another instance${tenant ? ` of ${tenant}` : ""} uses it there`,
});

/**
 * What to undo when `failed` failed (or was cancelled while it ran), latest first. A step that
 * can leave something half-made is undone with the steps before it (a partial volume, tunnels
 * half added, a domain that started then crashed); `define` is atomic, so a failed define has
 * nothing to undefine (and must not: the domain of that name would not be this create's). What
 * lies at the volume path and the domain name is this create's own because the check step
 * refused to go on when either existed; a failed check undoes nothing.
 */
export function cleanupPlan(spec: Pick<CreateInstanceParams, "name" | "tenant" | "volumePath" | "wiring">, failed: CreateStepId): CleanupAction[] {
  const at = ORDER.indexOf(failed);
  const reached = (id: CreateStepId) => ORDER.indexOf(id) <= at;
  const out: CleanupAction[] = [];
  if (reached("start")) out.push({ kind: "destroy-domain", name: spec.name, description: `force off ${spec.name} if it runs` });
  if (at > ORDER.indexOf("define")) out.push({ kind: "undefine-domain", name: spec.name, description: `undefine ${spec.name}` });
  if (reached("wire-network"))
    for (const w of spec.wiring) if (w.kind === "vxlan") out.push(releaseNetwork(spec.tenant, w.bridge, w.vni, w.vlan));
  if (reached("build-volume")) out.push({ kind: "remove-volume", path: spec.volumePath, description: `remove ${spec.volumePath}` });
  return out;
}

/** A step's state changed; returns new steps (records are replaced, not mutated). */
export function setStep(steps: readonly OperationStep[], id: string, state: StepState, at: string): OperationStep[] {
  return steps.map((s) =>
    s.id !== id
      ? s
      : { ...s, state, startedAt: state === "running" ? at : s.startedAt, finishedAt: state === "running" || state === "pending" ? null : at },
  );
}

/**
 * Appends what a tool printed to a step, keeping the last STEP_LOG_MAX_LINES lines, each cut to
 * STEP_LOG_LINE_MAX. Swarm join tokens are redacted here, where agents and the server record
 * lines: virt-builder prints each first-boot command, a worker's carries the token.
 */
export function appendStepLog(steps: readonly OperationStep[], id: string, lines: readonly string[]): OperationStep[] {
  return steps.map((s) => (s.id !== id ? s : { ...s, log: [...s.log, ...lines.map((l) => cutText(redactSwarmTokens(l), STEP_LOG_LINE_MAX))].slice(-STEP_LOG_MAX_LINES) }));
}

/** Which step failed and why, for the operation's error: "Build the volume failed: virt-builder …". */
export function failureSummary(steps: readonly OperationStep[]): string | null {
  const failed = steps.find((s) => s.state === "failed");
  if (!failed) return null;
  const last = failed.log.at(-1);
  return `${failed.label} failed${last ? `: ${last}` : ""}`;
}

/** What a delete (or the undo of a create) shows for each action, the same on real and lab agents. */
export const DELETE_STEP_LABELS: Record<CleanupAction["kind"], string> = {
  "destroy-domain": "Stop",
  "undefine-domain": "Undefine",
  "release-network": "Release the network",
  "remove-volume": "Remove the volume",
};

/** A delete's steps: one per action, in order, not started yet. */
export const deleteSteps = (actions: readonly CleanupAction[]): OperationStep[] =>
  actions.map((a, i) => pendingStep(`${i + 1}-${a.kind}`, DELETE_STEP_LABELS[a.kind], a.description));
