import type { FleetEvent, FleetView } from "@nimbus/fleet";
import { planActiveChecks, type CheckSpec, type HttpCheckHint } from "@nimbus/domain";

/**
 * Hands each agent its active checks (`checks.configure`): the plan follows the inventory (a
 * service publishes a port, a node joins, the NFS pair's VIP), recomputed at most once per
 * `delayMs` after a swarm, storage or connection change, and sent only to hosts whose list
 * changed or that came (back) online. A host with nothing to check and nothing sent before is
 * not asked at all, so a fleet of plain hypervisors costs no request.
 */
export class ActiveCheckPlanner {
  /** The list each host was last sent (JSON), by host. */
  private readonly sent = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly fresh = new Set<string>();

  constructor(
    private readonly fleet: FleetView,
    private readonly opts: {
      delayMs?: number;
      log?: (msg: string, err?: unknown) => void;
      /** Service ports known to speak HTTP from elsewhere (load balancers in http mode): checked with HTTP. */
      httpHints?: () => HttpCheckHint[];
    } = {},
  ) {}

  start(): void {
    this.unsubscribe = this.fleet.subscribe((e) => this.onFleet(e));
    this.schedule();
  }

  stop(): void {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Plans again soon (what the hints say changed: a load balancer was created, changed or deleted). */
  refresh(): void {
    this.schedule();
  }

  private onFleet(e: FleetEvent) {
    if (e.type !== "host") return;
    if (e.changed.includes("connection")) {
      // Whatever the agent had may be gone (a new daemon): send again once it is online.
      if (e.host.connection.state === "online") this.fresh.add(e.host.name);
      this.schedule();
    } else if (e.changed.includes("swarm") || e.changed.includes("storage")) this.schedule();
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync();
    }, this.opts.delayMs ?? 1_000);
    this.timer.unref?.();
  }

  /** Sends every host whose plan differs from what it was sent; resolves when the requests are answered. */
  async sync(): Promise<void> {
    const hosts = this.fleet.hosts();
    const plan = planActiveChecks(hosts, this.opts.httpHints?.() ?? []);
    const jobs: Promise<void>[] = [];
    for (const h of hosts) {
      if (h.connection.state !== "online") continue;
      const checks: CheckSpec[] = plan.get(h.name) ?? [];
      const text = JSON.stringify(checks);
      const before = this.sent.get(h.name);
      const fresh = this.fresh.delete(h.name);
      if (before === text && !fresh) continue;
      if (before === undefined && !checks.length) continue;
      this.sent.set(h.name, text);
      jobs.push(
        this.fleet.request(h.name, "checks.configure", { checks }).then(
          () => undefined,
          (err) => {
            // Tried again at the next change or reconnect.
            this.sent.delete(h.name);
            this.opts.log?.(`could not hand ${h.name} its active checks`, err);
          },
        ),
      );
    }
    await Promise.all(jobs);
  }
}
