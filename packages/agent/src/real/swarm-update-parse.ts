import { z } from "zod";
import { ServiceUpdateState, type ServiceUpdateStatus } from "@nimbus/domain";
import { quote, unparseable } from "../errors.js";
import { parseJsonWith } from "./parse/text.js";

/** Pure parsers for a service update: `docker service inspect` (spec images, UpdateStatus) and task timestamps. */

const UpdateStatusJson = z.looseObject({
  State: z.string().optional(),
  Message: z.string().optional(),
  StartedAt: z.string().optional(),
  CompletedAt: z.string().optional(),
});
const SpecJson = z.looseObject({
  Name: z.string(),
  TaskTemplate: z.looseObject({ ContainerSpec: z.looseObject({ Image: z.string() }).optional(), Networks: z.array(z.looseObject({ Target: z.string() })).nullish() }),
});
const InspectJson = z.array(
  z.looseObject({
    ID: z.string(),
    Spec: SpecJson,
    PreviousSpec: SpecJson.optional(),
    UpdateStatus: UpdateStatusJson.optional(),
    Endpoint: z.looseObject({ VirtualIPs: z.array(z.looseObject({ NetworkID: z.string() })).nullish() }).optional(),
  }),
);

/** docker records the digest it resolved (image:tag@sha256:…); tasks and users name the image without it. */
export const withoutDigest = (image: string) => image.replace(/@sha256:[a-f0-9]{64}$/, "");

/** UpdateStatus as the inventory carries it; null when the service was never updated. An unknown state is refused. */
export function updateStatusOf(raw: z.infer<typeof UpdateStatusJson> | undefined, tool = "docker service inspect"): ServiceUpdateStatus | null {
  if (!raw?.State) return null;
  const state = ServiceUpdateState.safeParse(raw.State);
  if (!state.success) throw unparseable(tool, `update state ${quote(raw.State)} is not one docker documents`, raw.State);
  // docker writes the zero time for "not yet".
  const time = (t?: string) => (t && !t.startsWith("0001-") ? t : null);
  return { state: state.data, message: raw.Message || null, startedAt: time(raw.StartedAt), completedAt: time(raw.CompletedAt) };
}

export interface ServiceUpdateView {
  id: string;
  name: string;
  image: string;
  previousImage: string | null;
  update: ServiceUpdateStatus | null;
  /** Network ids the service is attached to (the spec's, else the endpoint's virtual IPs). */
  networks: string[];
}

export function parseServiceUpdateInspect(text: string): ServiceUpdateView[] {
  const tool = "docker service inspect";
  return parseJsonWith(InspectJson, tool, text).map((s) => {
    const image = s.Spec.TaskTemplate.ContainerSpec?.Image;
    if (!image) throw unparseable(tool, `service ${quote(s.Spec.Name)} has no container image`, text);
    const prev = s.PreviousSpec?.TaskTemplate.ContainerSpec?.Image;
    const specNets = (s.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target);
    const vipNets = (s.Endpoint?.VirtualIPs ?? []).map((v) => v.NetworkID);
    return {
      id: s.ID,
      name: s.Spec.Name,
      image: withoutDigest(image),
      previousImage: prev ? withoutDigest(prev) : null,
      update: updateStatusOf(s.UpdateStatus, tool),
      networks: [...new Set([...specNets, ...vipNets])],
    };
  });
}

/**
 * `docker inspect --type task --format '{{.ID}} {{json .Status.Timestamp}}' ID...`: when each
 * task entered its current state. A line that is not "ID \"time\"" is refused.
 */
export function parseTaskTimestamps(text: string): Map<string, string> {
  const tool = "docker inspect --type task";
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63}) "(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d))"$/.exec(line.trim());
    if (!m) throw unparseable(tool, `line ${quote(line)} is not a task id and a timestamp`, text);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** How many finished tasks per service the section keeps (docker keeps 5 per slot by default). */
export const TASK_HISTORY_PER_SERVICE = 5;

const isCurrent = (t: { desiredState: string }) => t.desiredState === "running" || t.desiredState === "accepted" || t.desiredState === "ready";

/**
 * Every task meant to run (desired running, accepted, or ready: a rejected replacement during a
 * paused update is "ready"), and the newest few finished ones of each service, so their errors
 * show ("No such image", "non-zero exit") without docker's whole history in the section.
 */
export function currentAndRecent<T extends { serviceName: string; desiredState: string; since?: string | null }>(tasks: T[], perService = TASK_HISTORY_PER_SERVICE): T[] {
  const kept = new Map<string, number>();
  const history = tasks.filter((t) => !isCurrent(t)).sort((a, b) => (b.since ?? "").localeCompare(a.since ?? ""));
  const recent = new Set<T>();
  for (const t of history) {
    const n = kept.get(t.serviceName) ?? 0;
    if (n >= perService) continue;
    kept.set(t.serviceName, n + 1);
    recent.add(t);
  }
  return tasks.filter((t) => isCurrent(t) || recent.has(t));
}
