import { AgentError, type LbDriver } from "@nimbus/agent";
import {
  AgentErrorCode,
  applyCheckResult,
  describeCheckState,
  LbApplyParams,
  renderHaproxyConfig,
  type CheckState,
  type LbApplyInput,
  type LbRuntime,
  type LbSection,
  type LbServerStat,
} from "@nimbus/domain";
import type { World } from "./world.js";

/**
 * A simulated HAProxy per load balancer on a lab host: the same steps as the real driver
 * (write renders the same haproxy.cfg; validate refuses what HAProxy would, an address that does
 * not resolve; reload keeps the master), and `show stat` from the world: each server is checked
 * every `inter` against the simulated node behind it, with HAProxy's rise/fall, and takes its
 * share of a steady trickle of requests while it is UP and enabled.
 */
interface SimServer {
  name: string;
  address: string;
  port: number;
  disabled: boolean;
  check: CheckState;
  checkStatus: string;
  checkCode: string | null;
  checkDescription: string;
  lastChangeAt: string;
  selected: number;
  statusWord: string;
}
interface SimBalancer {
  params: LbApplyParams;
  candidate: LbApplyParams | null;
  configHash: string | null;
  pid: number;
  running: boolean;
  servers: SimServer[];
  stopTick: () => void;
  next: number;
  ticks: number;
}

interface LabLbState {
  /** Per host, per load balancer. */
  hosts: Map<string, Map<string, SimBalancer>>;
  /** lb-backend-down: these hosts' published ports refuse connections. */
  refusing: Set<string>;
}
const states = new WeakMap<World, LabLbState>();
export function labLb(world: World): LabLbState {
  let s = states.get(world);
  if (!s) states.set(world, (s = { hosts: new Map(), refusing: new Set() }));
  return s;
}

/** A fault: the host's published ports refuse connections (its routing mesh broke), or accept again. */
export function setPortsRefused(world: World, host: string, refused: boolean) {
  const s = labLb(world);
  if (refused) s.refusing.add(host);
  else s.refusing.delete(host);
  // Checks see it at their next probe; nothing else to announce.
}

const LAB_PATHS = { statsSocket: "/run/nimbus/lb/stats.sock", pidFile: "/run/nimbus/lb/haproxy.pid" };
const ipv4 = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Traffic through a load balancer: `count` requests (at most 100,000 at once), round robin over
 * its servers UP and enabled, as HAProxy's `balance roundrobin` hands them out; the counts
 * (`lbtot`, `stot`) move and the edge host pushes its section at once, as a real agent's next
 * `show stat` would find. Refuses an unknown host or load balancer and one with no server up.
 */
export function sendLbRequests(world: World, host: string, name: string, count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new Error(`a request count is 1 … 100000, not ${count}`);
  const b = labLb(world).hosts.get(host)?.get(name);
  if (!b || !b.running) throw new Error(`no load balancer ${name} runs on ${host}`);
  if (!world.isPoweredOn(host)) throw new Error(`${host} is powered off`);
  const eligible = b.servers.filter((s) => !s.disabled && s.check.status === "up");
  if (!eligible.length) throw new Error(`load balancer ${name} has no server UP: HAProxy answers 503`);
  for (let i = 0; i < count; i++) eligible[b.next++ % eligible.length]!.selected++;
  world.changed(host, "lb");
}

/** The lab host an address or server name stands for. */
function labHostFor(world: World, s: { name: string; address: string }): string | null {
  for (const h of world.hosts.values()) if (h.name === s.name || h.address === s.address || h.name === s.address) return h.name;
  return null;
}

/** What a lab service answers a GET with (nginx's welcome page): HTTP checks compare against it. */
export const LAB_HTTP_ANSWER = { status: 200, body: "<h1>Welcome to nginx!</h1>" } as const;
export interface LabHttpExpect {
  expectStatus: number;
  expectBody: string | null;
}

/**
 * Whether a TCP connection from anywhere to `host`:`port` would be accepted right now, and if not,
 * why (HAProxy's words). With `http`, the answer to a GET is judged too: a service failing its
 * health answers 503, a healthy one LAB_HTTP_ANSWER, against the expected status and body.
 */
export function labPortAnswers(world: World, host: string | null, port: number, http?: LabHttpExpect): { ok: boolean; status: string; description: string; code?: number } {
  const refused = { ok: false, status: "L4CON", description: "Layer4 connection problem" };
  if (!host) return refused;
  if (!world.isPoweredOn(host)) return { ok: false, status: "L4TOUT", description: "Layer4 timeout" };
  if (labLb(world).refusing.has(host)) return refused;
  const node = world.swarm?.nodes.get(host);
  if (node) {
    if (!node.engineUp) return refused;
    // The routing mesh answers on every node for a published port with a running task anywhere.
    const svc = [...world.swarm!.services.values()].find((s) => s.spec.ports.some((p) => p.published === port && p.protocol === "tcp"));
    if (!svc || !world.swarm!.tasks.some((t) => t.service === svc.spec.name && t.state === "running" && t.desiredState === "running")) return refused;
    if (svc.healthFault) return { ok: false, status: "L7STS", description: "Layer7 wrong status", code: 503 };
    if (http && http.expectStatus !== LAB_HTTP_ANSWER.status) return { ok: false, status: "L7STS", description: "Layer7 wrong status", code: LAB_HTTP_ANSWER.status };
    if (http?.expectBody && !LAB_HTTP_ANSWER.body.includes(http.expectBody)) return { ok: false, status: "L7RSP", description: "Layer7 invalid response", code: LAB_HTTP_ANSWER.status };
    return { ok: true, status: "L7OK", description: "Layer7 check passed", code: LAB_HTTP_ANSWER.status };
  }
  const storage = world.nfs.servers.find((s) => s.name === host);
  if (storage && port === 2049) return storage.nfsRunning ? { ok: true, status: "L4OK", description: "Layer4 check passed" } : refused;
  return refused;
}

export class LabHaproxyDriver implements LbDriver {
  constructor(
    private readonly world: World,
    private readonly host: string,
  ) {}

  private get balancers() {
    const s = labLb(this.world);
    let m = s.hosts.get(this.host);
    if (!m) s.hosts.set(this.host, (m = new Map()));
    return m;
  }

  private changed() {
    this.world.changed(this.host, "lb");
  }

  async write(input: LbApplyInput) {
    const params = LbApplyParams.parse(input);
    const text = renderHaproxyConfig(params, LAB_PATHS);
    const b = this.balancers.get(params.name);
    if (b) b.candidate = params;
    else this.balancers.set(params.name, { params, candidate: params, configHash: null, pid: 0, running: false, servers: [], stopTick: () => undefined, next: 0, ticks: 0 });
    return { path: `/var/lib/nimbus/lb/${params.name}/haproxy.cfg.next`, bytes: text.length, configHash: simHash(text) };
  }

  async validate(name: string) {
    const b = this.need(name);
    const bad = b.candidate!.servers.find((s) => !ipv4.test(s.address) && !labHostFor(this.world, s));
    if (bad)
      throw new AgentError(
        AgentErrorCode.toolFailed,
        `haproxy -c -f /var/lib/nimbus/lb/${name}/haproxy.cfg.next exited with 1: [ALERT] config : parsing [haproxy.cfg.next:21] : '${bad.name}' : could not resolve address '${bad.address}'.`,
      );
    return { ok: true as const, output: "Configuration file is valid" };
  }

  async reload(name: string) {
    const b = this.need(name);
    const params = b.candidate!;
    b.candidate = null;
    b.params = params;
    b.configHash = simHash(renderHaproxyConfig(params, LAB_PATHS));
    const now = new Date().toISOString();
    const top = params.check.rise + params.check.fall - 1;
    const old = new Map(b.servers.map((s) => [s.name, s]));
    // As HAProxy: a server new to the configuration starts UP, not yet checked (INI); one it had keeps its state.
    b.servers = params.servers.map((s) => {
      const prev = old.get(s.name);
      if (prev && prev.address === s.address && prev.port === s.port) return { ...prev, disabled: s.disabled };
      return { name: s.name, address: s.address, port: s.port, disabled: s.disabled, check: { status: "up", health: top, streak: 0, since: now }, checkStatus: "INI", checkCode: null, checkDescription: "Initializing", lastChangeAt: now, selected: 0, statusWord: "UP" };
    });
    for (const s of b.servers) s.statusWord = statusWord(s, params);
    const how = b.running ? ("reloaded" as const) : ("started" as const);
    if (!b.running) {
      b.running = true;
      b.pid = 20_000 + (this.balancers.size * 37) % 9_000;
    }
    b.stopTick();
    b.stopTick = this.world.clock.every(params.check.interMs, () => this.tick(b), 0);
    this.changed();
    return { pid: b.pid, how };
  }

  async stat(name: string): Promise<LbRuntime> {
    const b = this.balancers.get(name);
    if (!b) return { name, running: false, pid: null, configHash: null, frontend: null, servers: [], error: "not configured" };
    return runtime(name, b);
  }

  async remove(name: string) {
    const b = this.balancers.get(name);
    if (!b) return;
    b.stopTick();
    this.balancers.delete(name);
    this.changed();
  }

  async snapshot(): Promise<LbSection> {
    return { balancers: [...this.balancers.entries()].filter(([, b]) => b.configHash !== null).map(([name, b]) => runtime(name, b)) };
  }

  watch(onChange: () => void): () => void {
    return this.world.watch(this.host, "lb", onChange);
  }

  /** One round of checks and a few requests, round robin over the servers UP and enabled. */
  private tick(b: SimBalancer) {
    if (!this.world.isPoweredOn(this.host)) return;
    const at = new Date().toISOString();
    let news = false;
    for (const s of b.servers) {
      if (s.disabled) continue;
      const http = b.params.mode === "http" && b.params.check.httpPath !== null ? { expectStatus: b.params.check.expectStatus, expectBody: null } : undefined;
      const probe = labPortAnswers(this.world, labHostFor(this.world, s), s.port, http);
      const before = s.statusWord;
      s.check = applyCheckResult(s.check, probe.ok, at, b.params.check);
      const checkBefore = s.checkStatus;
      s.checkStatus = b.params.mode === "http" && b.params.check.httpPath !== null ? probe.status : probe.ok ? "L4OK" : probe.status === "L7STS" ? "L4OK" : probe.status;
      s.checkCode = s.checkStatus.startsWith("L7") && probe.code ? String(probe.code) : null;
      s.checkDescription = s.checkStatus === "L4OK" ? "Layer4 check passed" : probe.description;
      s.statusWord = statusWord(s, b.params);
      if (s.statusWord.split(" ")[0] !== before.split(" ")[0]) s.lastChangeAt = at;
      if (s.statusWord !== before || s.checkStatus !== checkBefore) news = true;
    }
    const eligible = b.servers.filter((s) => !s.disabled && s.check.status === "up");
    for (let i = 0; i < 2 && eligible.length; i++) eligible[b.next++ % eligible.length]!.selected++;
    // The request counts move every tick; they are news every fifth (about 10 s at inter 2 s), as a real agent's poll would find.
    if (news || ++b.ticks % 5 === 0) this.changed();
  }

  private need(name: string): SimBalancer {
    const b = this.balancers.get(name);
    if (!b?.candidate) throw new AgentError(AgentErrorCode.notFound, `no candidate configuration for ${name}: write it first`);
    return b;
  }
}

function statusWord(s: SimServer, params: LbApplyParams): string {
  if (s.disabled) return "MAINT";
  return describeCheckState(s.check, params.check);
}

function runtime(name: string, b: SimBalancer): LbRuntime {
  const servers: LbServerStat[] = b.servers.map((s) => ({
    name: s.name,
    address: `${s.address}:${s.port}`,
    status: s.statusWord,
    state: s.disabled ? "maint" : s.check.status === "up" ? "up" : s.check.status === "down" ? "down" : "unknown",
    checkStatus: s.disabled ? null : s.checkStatus,
    checkCode: s.disabled ? null : s.checkCode,
    checkDescription: s.disabled ? null : s.checkDescription,
    lastChangeAt: s.lastChangeAt,
    sessionsCurrent: 0,
    sessionsTotal: s.selected,
    selected: s.selected,
  }));
  const total = servers.reduce((n, s) => n + s.selected, 0);
  return {
    name,
    running: b.running,
    pid: b.running ? b.pid : null,
    configHash: b.configHash,
    frontend: { status: "OPEN", sessionsCurrent: 0, sessionsTotal: total },
    servers,
    error: null,
  };
}

/** A stable stand-in for sha256 (the lab needs equality, not security), 64 hex characters like the real one. */
function simHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(8);
}

