import { AgentErrorCode, type ScaleParams, type ScaleProgress, type SwarmSection } from "@nimbus/domain";
import type { JobContext, SwarmDriver } from "../drivers.js";
import { AgentError, conflict, notFound } from "../errors.js";
import type { AgentConfig } from "./config.js";
import { watchLines } from "./lines.js";
import type { Log } from "./log.js";
import {
  buildSwarmSection,
  detailsOf,
  parseDockerInfo,
  parseNodeAddresses,
  parseNodeLs,
  parseServiceInspect,
  parseServiceLs,
  parseServicePs,
  runningReplicas,
  stoppingReplicas,
  type DockerInfo,
} from "./parse/docker.js";
import type { Tool } from "./tool.js";
import { RealSwarmNodes } from "./swarm-nodes.js";
import { Tool as ToolOf } from "./tool.js";
import { startServiceLogs } from "./swarm-logs.js";
import { overlayNetworks, parseNetworkInspect, parseOverlayLs } from "./swarm-networks.js";
import { PortChecker, portCheckTargets } from "./swarm-ports.js";
import { runServiceUpdate } from "./swarm-update.js";
import { currentAndRecent, parseServiceUpdateInspect, parseTaskTimestamps } from "./swarm-update-parse.js";
import type { LogSink } from "../swarm-logs.js";
import type { LogsParams, ServiceRollbackParams, ServiceRollbackProgress, ServiceUpdateParams, ServiceUpdateProgress } from "@nimbus/domain";
import { ChangeFeed, classifyToolError, sleep } from "./util.js";

const JSON_FORMAT = ["--format", "{{json .}}"];
const DOCKER_NOT_FOUND = /No such (service|node)|node .* not found|could not find/i;
const CONVERGE_RECHECK_MS = 2_000;
const MANAGER_RESYNC_MS = 5_000;
const NOT_MANAGER = /not a swarm manager|This node is not part of a swarm/i;
const notManager = (e: unknown) => e instanceof AgentError && e.code === AgentErrorCode.toolFailed && NOT_MANAGER.test(String(e.data?.stderr ?? ""));

/**
 * Docker Swarm through the docker CLI. Only managers can list the cluster; a worker reports
 * itself with empty lists. Changes are pushed from `docker events` (service, node and container
 * lifecycle), restarted if it dies.
 */
export class RealSwarmDriver implements SwarmDriver {
  private readonly feed = new ChangeFeed();
  private recheck: NodeJS.Timeout | null = null;
  private nodesDriver: RealSwarmNodes | null = null;
  /** Node changes on a manager and leaving on the node (swarm-nodes.ts). */
  get nodes(): RealSwarmNodes {
    return (this.nodesDriver ??= new RealSwarmNodes(this.host, this.docker, () => this.feed.emit()));
  }
  /** Checks of the ports the swarm needs, from this node to its peers (swarm-ports.ts). */
  private readonly ports: PortChecker;

  constructor(
    private readonly host: string,
    private readonly docker: Tool,
    private readonly cfg: AgentConfig["swarm"],
    private readonly log: Log,
    ss: Tool = new ToolOf("ss", { path: "ss", args: [], env: {} }),
  ) {
    this.ports = new PortChecker(() => this.portTargets(), ss, log);
  }

  /** Managers from docker info, gossip peers from the ingress network (every node is on it). */
  private async portTargets() {
    const info = JSON.parse(await this.docker.run(["info", "--format", "{{json .Swarm}}"])) as { NodeAddr?: string; RemoteManagers?: { Addr: string }[] | null };
    const peers = await this.docker
      .run(["network", "inspect", "ingress", "--format", "{{json .Peers}}"])
      .then((t) => ((JSON.parse(t) as { IP: string }[] | null) ?? []).map((p) => String(p.IP)))
      .catch(() => [] as string[]);
    return portCheckTargets(info.NodeAddr ?? null, (info.RemoteManagers ?? []).map((m) => String(m.Addr)), peers);
  }

  serviceUpdate(p: ServiceUpdateParams, ctx: JobContext<ServiceUpdateProgress>): Promise<ServiceUpdateProgress> {
    this.feed.emit();
    return runServiceUpdate(this.docker, this.host, p, ctx as JobContext<never>, { pollMs: this.cfg.scalePollMs, timeoutMs: this.cfg.scaleTimeoutMs }) as Promise<ServiceUpdateProgress>;
  }

  serviceRollback(p: ServiceRollbackParams, ctx: JobContext<ServiceRollbackProgress>): Promise<ServiceRollbackProgress> {
    this.feed.emit();
    return runServiceUpdate(this.docker, this.host, p, ctx as JobContext<never>, { pollMs: this.cfg.scalePollMs, timeoutMs: this.cfg.scaleTimeoutMs }) as Promise<ServiceRollbackProgress>;
  }

  logs = (p: LogsParams, sink: LogSink) => startServiceLogs(this.docker, p, sink);

  async snapshot(): Promise<SwarmSection> {
    const info = parseDockerInfo(await this.docker.run(["info", ...JSON_FORMAT]));
    const ports = info.swarmState === "active" ? this.ports.current() : null;
    const alone = (role: SwarmSection["role"]): SwarmSection => ({ nodeId: info.nodeId, role, clusterId: info.clusterId, nodes: [], services: [], tasks: [], ...(ports ? { ports } : {}) });
    if (info.swarmState !== "active" || !info.manager) return alone(info.manager ? "manager" : "worker");
    let section: SwarmSection;
    try {
      section = await this.cluster(info);
    } catch (e) {
      // Demoted between `docker info` and the cluster reads: this host is a worker now, and says so.
      if (notManager(e)) return alone("worker");
      throw e;
    }
    this.recheckWhileConverging(section);
    return ports ? { ...section, ports } : section;
  }

  /** The whole cluster as a manager sees it. */
  private async cluster(info: DockerInfo): Promise<SwarmSection> {
    const [nodes, services] = await Promise.all([
      this.docker.run(["node", "ls", ...JSON_FORMAT]).then(parseNodeLs),
      this.docker.run(["service", "ls", ...JSON_FORMAT]).then(parseServiceLs),
    ]);
    const [addresses, inspected, overlays] = await Promise.all([
      nodes.length ? this.docker.run(["node", "inspect", ...nodes.map((n) => n.id)]).then(parseNodeAddresses) : new Map<string, string>(),
      services.length ? this.docker.run(["service", "inspect", ...services.map((s) => s.id)]) : Promise.resolve(""),
      this.docker.run(["network", "ls", "--filter", "driver=overlay", ...JSON_FORMAT]).then(parseOverlayLs),
    ]);
    const details = inspected ? parseServiceInspect(inspected) : new Map();
    const updates = inspected ? parseServiceUpdateInspect(inspected) : [];
    const networks = overlays.length ? parseNetworkInspect(await this.docker.run(["network", "inspect", ...overlays.map((n) => n.id)])) : [];
    const idsByName = new Map(services.map((s) => [s.name, detailsOf(details, s.id)[0]]));
    const tasks = services.length
      ? parseServicePs(
          await this.docker.run(["service", "ps", "--no-trunc", ...JSON_FORMAT, ...services.map((s) => s.id)]),
          idsByName,
        )
      : [];
    // When each task entered its state: `service ps` only says "Running 2 minutes ago".
    const since = tasks.length
      ? await this.docker
          .run(["inspect", "--type", "task", "--format", "{{.ID}} {{json .Status.Timestamp}}", ...tasks.map((t) => t.id)])
          .then(parseTaskTimestamps)
          // A finished task docker dropped between the two reads makes inspect fail: the times wait for the next read.
          .catch((e: unknown) => {
            this.log("warn", `task times on ${this.host}: ${e instanceof Error ? e.message : String(e)}`);
            return new Map<string, string>();
          })
      : new Map<string, string>();
    // Current tasks and a short history per service (their errors are what a reader needs).
    const dated = currentAndRecent(tasks.map((t) => ({ ...t, since: since.get(t.id) ?? null })));
    const section = buildSwarmSection({ info, nodes, addresses, services, details, tasks: dated });
    const byId = new Map(updates.map((u) => [u.id, u]));
    const withUpdates = section.services.map((s) => ({ ...s, update: byId.get(s.id)?.update ?? null, networks: byId.get(s.id)?.networks ?? [] }));
    return {
      ...section,
      services: withUpdates,
      networks: overlayNetworks(networks, withUpdates.map((s) => ({ name: s.name, networks: s.networks })), dated, section.nodes),
    };
  }

  /**
   * docker events on a manager miss part of the cluster's life: a node going down and the tasks
   * swarm reschedules from it onto other nodes raise no event there (seen in the real lab). So a
   * manager also looks again on its own: every couple of seconds while a service is short of
   * replicas or a node is not ready, and every few seconds otherwise. Only a changed section is
   * pushed, so a quiet cluster sends nothing.
   */
  private recheckWhileConverging(section: SwarmSection) {
    if (section.role !== "manager" || !section.clusterId || this.recheck) return;
    const unsettled =
      section.services.some((s) => s.mode === "replicated" && s.replicasRunning !== s.replicasDesired) || section.nodes.some((n) => n.status !== "ready");
    this.recheck = setTimeout(() => {
      this.recheck = null;
      this.feed.emit();
    }, unsettled ? CONVERGE_RECHECK_MS : MANAGER_RESYNC_MS);
    this.recheck.unref();
  }

  watch(onChange: () => void): () => void {
    const filters = ["type=service", "type=node", "type=container", ...["create", "update", "remove", "start", "die", "destroy", "health_status"].map((e) => `event=${e}`)];
    const { cmd, args, env } = this.docker.command(["events", ...JSON_FORMAT, ...filters.flatMap((f) => ["--filter", f])]);
    const stopEvents = watchLines({ name: `docker events on ${this.host}`, cmd, args, env, log: this.log, onLine: onChange, onRestart: onChange });
    const stopFeed = this.feed.add(onChange);
    const stopPorts = this.ports.start(onChange);
    return () => {
      stopEvents();
      stopFeed();
      stopPorts();
      if (this.recheck) clearTimeout(this.recheck);
      this.recheck = null;
    };
  }

  /**
   * `docker service scale -d`, then every scalePollMs the desired count from `docker service ls`
   * and the running count from the service's tasks (see runningReplicas: `service ls` still
   * counts the tasks of a node that is down) until both match (job progress sampling).
   * Cancelling stops waiting; the new replica count stays, as docker has no way to take a scale back.
   */
  async scale(p: ScaleParams, ctx: JobContext<ScaleProgress>): Promise<void> {
    const what = `service ${p.service} on ${this.host}`;
    try {
      await this.docker.run(["service", "scale", "--detach", `${p.service}=${p.replicas}`]);
    } catch (e) {
      throw classifyToolError(e, what, { notFound: DOCKER_NOT_FOUND, conflict: /scale can only be used|not a swarm manager/i });
    }
    this.feed.emit();
    const deadline = Date.now() + this.cfg.scaleTimeoutMs;
    let running = -1;
    for (;;) {
      if (ctx.signal.aborted) throw conflict(`scaling ${what} was cancelled at ${running}/${p.replicas}; the service keeps ${p.replicas} replicas desired`);
      const count = await this.replicas(p.service).catch((e: unknown) => {
        // Demoted while waiting: another manager now owns the scale; this one can no longer watch it.
        throw classifyToolError(e, `watching ${what}`, { conflict: NOT_MANAGER });
      });
      if (!count) throw notFound(what);
      if (count.running !== running) {
        running = count.running;
        ctx.report({ kind: "scale", service: p.service, desired: p.replicas, running });
      }
      if (count.running === p.replicas && count.desired === p.replicas && count.stopping === 0) return;
      if (Date.now() > deadline) {
        throw new AgentError(AgentErrorCode.toolFailed, `${what} did not converge within ${Math.round(this.cfg.scaleTimeoutMs / 1000)} s (${count.running}/${p.replicas} running)`);
      }
      await sleep(this.cfg.scalePollMs, ctx.signal);
    }
  }

  /** A service's desired replicas and the ones that really run, counted as the snapshot counts them; null when there is no such service. */
  private async replicas(service: string): Promise<{ desired: number; running: number; stopping: number } | null> {
    // The name filter matches prefixes too ("web" lists "web-2"): the exact name is picked.
    const svc = parseServiceLs(await this.docker.run(["service", "ls", "--filter", `name=${service}`, ...JSON_FORMAT])).find((s) => s.name === service);
    if (!svc) return null;
    const [nodes, tasks] = await Promise.all([
      this.docker.run(["node", "ls", ...JSON_FORMAT]).then(parseNodeLs),
      this.docker
        // Every task, whatever it is told: a scale down is over only once the ones told to stop
        // (desired "remove", which no desired-state filter selects) have stopped.
        .run(["service", "ps", "--no-trunc", ...JSON_FORMAT, svc.id])
        .then((text) => parseServicePs(text, new Map([[svc.name, svc.id]]))),
    ]);
    return { desired: svc.desired, running: runningReplicas(tasks, nodes, service), stopping: stoppingReplicas(tasks, nodes, service) };
  }

  async setAvailability(node: string, availability: "active" | "pause" | "drain"): Promise<void> {
    try {
      await this.docker.run(["node", "update", "--availability", availability, node]);
    } catch (e) {
      throw classifyToolError(e, `swarm node ${node} (asked on ${this.host})`, { notFound: DOCKER_NOT_FOUND, conflict: NOT_MANAGER });
    }
    this.feed.emit();
  }

  async joinTokens(): Promise<{ worker: string; manager: string }> {
    try {
      const [worker, manager] = await Promise.all(
        (["worker", "manager"] as const).map(async (role) => (await this.docker.run(["swarm", "join-token", "-q", role])).trim()),
      );
      return { worker: worker!, manager: manager! };
    } catch (e) {
      throw classifyToolError(e, `join tokens on ${this.host}`, { conflict: NOT_MANAGER });
    }
  }
}
