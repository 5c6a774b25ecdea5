import net from "node:net";

/**
 * A loopback TCP proxy a test can cut: every open connection is destroyed and new ones are
 * dropped until restore(). Stands for a replica partitioned from PostgreSQL.
 */
export class TcpProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private cutOff = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.cutOff) {
        // Hangs like a dead route: no answer, no reset.
        this.sockets.add(client);
        client.on("error", () => undefined);
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  /** Rewrites a postgres:// URL to go through this proxy. */
  url(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.toString();
  }

  /** Silent partition: open connections stall (no FIN, no RST reaches the client) and new ones hang. */
  cut(): void {
    this.cutOff = true;
    for (const s of this.sockets) {
      s.pause();
      s.unpipe();
    }
  }

  restore(): void {
    this.cutOff = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
