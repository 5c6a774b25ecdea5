import type { LogSink } from "@nimbus/agent";
import type { LogLine, LogsParams } from "@nimbus/domain";
import type { TaskState } from "./model.js";
import type { World } from "./world.js";

/**
 * `docker service logs` in the lab: lines made from the service's tasks. The tail is each task's
 * history (started, its image, its error), then a request line per running task every second
 * while following; a task that fails says so. Ends like docker: at once without follow, with
 * docker's message for an unknown service, and when the manager goes down.
 */
const FOLLOW_EVERY_MS = 1_000;

export function labServiceLogs(world: World, p: LogsParams, sink: LogSink): () => void {
  const sim = world.swarmSim!;
  const sw = world.swarm!;
  if (!sw.services.has(p.service)) {
    sink.end(`docker service logs ${p.service} ended (exit 1): no such task or service: ${p.service}`);
    return () => {};
  }
  const taskName = (t: TaskState) => `${t.service}.${t.slot ?? sw.nodes.get(t.node)?.id ?? t.node}`;
  const line = (t: TaskState, text: string, at = new Date()): LogLine => ({ at: at.toISOString(), task: taskName(t), node: t.node, text });
  const history = (t: TaskState): string[] => {
    const image = t.image ?? sw.services.get(t.service)?.image ?? sw.services.get(t.service)?.spec.image;
    const lines = [`starting ${image ?? "container"}`, `listening on :8080`];
    if (t.error) lines.push(`error: ${t.error}`);
    else if (t.state === "shutdown") lines.push("received SIGTERM, shutting down");
    return lines;
  };
  const tasks = sw.tasks.filter((t) => t.service === p.service);
  const base = Date.now() - 60_000;
  const tail = tasks.flatMap((t, i) => history(t).map((text, j) => line(t, text, new Date(base + i * 1000 + j * 10)))).slice(-p.tail);
  for (const l of tail) sink.line(l);
  if (!p.follow) {
    sink.end(null);
    return () => {};
  }
  const seen = new Map(tasks.map((t) => [t.id, t.state]));
  let n = 0;
  const stop = world.clock.every(FOLLOW_EVERY_MS, () => {
    if (!sim.managerAlive()) {
      stop();
      return sink.end(`docker service logs ${p.service} ended: swarm manager ${sim.manager.hostname} is down`);
    }
    for (const t of sw.tasks) {
      if (t.service !== p.service) continue;
      const before = seen.get(t.id);
      seen.set(t.id, t.state);
      if (before === undefined) for (const text of history(t).slice(0, t.error ? 3 : 2)) sink.line(line(t, text));
      else if (before !== t.state && t.error) sink.line(line(t, `error: ${t.error}`));
      if (t.state === "running" && t.desiredState === "running") sink.line(line(t, `GET / 200 ${(n++ % 7) + 1} ms`));
    }
  });
  world.addTicker(stop);
  return stop;
}
