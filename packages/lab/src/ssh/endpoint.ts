import { createServer, type Server as NetServer, type Socket } from "node:net";
import ssh2, { type Connection, type ParsedKey, type Server as SshServer } from "ssh2";
import { AGENT_COMMAND } from "@nimbus/domain";
import type { World } from "../world/world.js";
import { runAgentSession } from "./agent-session.js";
import { publicKeyAccepted } from "./client-auth.js";
import { parsedHostKey } from "./key-objects.js";

export interface EndpointOptions {
  host: string;
  address: string;
  /** 0: any free port (known after start()). */
  port: number;
  world: World;
  hostKey: Buffer;
  authorizedKeys: readonly ParsedKey[];
  user: string;
  agentVersion: string;
}

type Mode = "open" | "blackhole" | "closed";

/**
 * sshd pings its clients only when ClientAliveInterval is set (default 0, off); ssh2's server pings
 * every client every 15 s unless given an interval, and cannot be turned off per server. The
 * longest timer Node accepts (~24 days) stands for "never": 2,000 lab hosts no longer send the
 * server 133 pings a second that real hosts would not send (the server watches its own links).
 */
const NO_CLIENT_ALIVE = 2 ** 31 - 1;

/**
 * What ssh2 writes to the socket in one turn of the event loop (the version line and KEXINIT; the
 * ECDH reply and NEWKEYS) leaves as one write: with no-delay each packet was a syscall and a
 * loopback segment of its own (11 writes per connection of the server's agent session, now 9).
 * Held until the end of the turn only.
 */
export function oneWritePerTurn(socket: Socket): void {
  const original = socket.write as (...args: unknown[]) => boolean;
  let held = false;
  const release = () => {
    held = false;
    socket.uncork();
  };
  socket.write = ((...args: unknown[]) => {
    if (!held) {
      held = true;
      socket.cork();
      process.nextTick(release);
    }
    return original.apply(socket, args);
  }) as Socket["write"];
}

/**
 * One lab host's SSH endpoint. We own the TCP listener and hand accepted sockets to an ssh2
 * Server, which lets the endpoint follow the world: a powered-off host closes its listener
 * (connection refused), a cut link keeps accepting but never answers (clients time out), and
 * a new host key swaps the ssh2 Server without touching the port.
 */
export class HostEndpoint {
  readonly host: string;
  readonly address: string;
  private boundPort: number;
  private listener: NetServer | null = null;
  private ssh: SshServer;
  private readonly live = new Set<Socket>();
  private readonly held = new Set<Socket>();
  private mode: Mode = "closed";
  private queue: Promise<void> = Promise.resolve();
  private readonly unwatch: () => void;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: EndpointOptions) {
    this.host = opts.host;
    this.address = opts.address;
    this.boundPort = opts.port;
    this.ssh = this.sshServer(opts.hostKey);
    this.unwatch = opts.world.watch(opts.host, "reachability", () => void this.sync());
  }

  get port(): number {
    return this.boundPort;
  }

  /** TCP connections open to this host now (tests: which server holds a session to it). */
  get connections(): number {
    return this.live.size;
  }

  /**
   * Binds the port (even for a host that starts powered off, so its address is known), then
   * follows the world. `anyPortIfTaken`: a remembered port that is now taken gives way to a free one.
   */
  async start(anyPortIfTaken = false): Promise<void> {
    await this.enqueue(async () => {
      try {
        await this.listen();
      } catch (err) {
        if (!anyPortIfTaken || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
        this.boundPort = 0;
        await this.listen();
      }
      this.mode = "open";
      this.started = true;
    });
    await this.sync();
  }

  /** Aligns the listener and connections with the world's view of this host. */
  sync(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.started) return;
      const { world } = this.opts;
      const want: Mode = this.stopped || !world.isPoweredOn(this.host) ? "closed" : world.host(this.host).linkCut ? "blackhole" : "open";
      if (want === this.mode) return;
      this.mode = want;
      if (want !== "open") this.dropAll();
      if (want === "open") this.releaseHeld();
      if (want === "closed") await this.closeListener();
      else if (!this.listener) await this.relisten();
    });
  }

  /** New host key: new ssh2 Server, and existing sessions drop so clients reconnect and see it. */
  setHostKey(key: Buffer): Promise<void> {
    return this.enqueue(async () => {
      this.ssh = this.sshServer(key);
      this.dropAll();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch();
    await this.sync();
    await this.enqueue(async () => {
      this.dropAll();
      await this.closeListener();
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step, step);
    return this.queue;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.once("error", reject);
      server.listen({ host: this.address, port: this.boundPort, exclusive: true }, () => {
        server.off("error", reject);
        server.on("error", () => {});
        this.boundPort = (server.address() as { port: number }).port;
        this.listener = server;
        resolve();
      });
    });
  }

  /** Back on the same address and port; if something took the port meanwhile the host stays dark. */
  private async relisten(): Promise<void> {
    try {
      await this.listen();
    } catch (err) {
      this.mode = "closed";
      console.warn(`lab: ${this.host} cannot listen on ${this.address}:${this.boundPort} again: ${(err as Error).message}`);
    }
  }

  private closeListener(): Promise<void> {
    const server = this.listener;
    this.listener = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    socket.on("error", () => {});
    // Nagle + delayed ACK make each SSH handshake ~20x slower on loopback (toolchain notes).
    socket.setNoDelay(true);
    oneWritePerTurn(socket);
    if (this.mode === "blackhole") {
      this.held.add(socket);
      socket.once("close", () => this.held.delete(socket));
      return;
    }
    if (this.mode !== "open") return void socket.destroy();
    this.live.add(socket);
    socket.once("close", () => this.live.delete(socket));
    this.ssh.injectSocket(socket);
  }

  private dropAll(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
    this.releaseHeld();
  }

  private releaseHeld(): void {
    for (const s of this.held) s.destroy();
    this.held.clear();
  }

  private sshServer(hostKey: Buffer): SshServer {
    const { authorizedKeys, user, world, host, agentVersion } = this.opts;
    const hostKeys = [{ key: parsedHostKey(hostKey) as unknown as Buffer }];
    return new ssh2.Server({ hostKeys, keepaliveInterval: NO_CLIENT_ALIVE }, (client: Connection) => {
      // A client vanishing mid-handshake or mid-request is routine here, never an error.
      client.on("error", () => {});
      client.on("authentication", (ctx) => {
        if (ctx.method === "publickey" && ctx.username === user && publicKeyAccepted(ctx, authorizedKeys)) return ctx.accept();
        ctx.reject(["publickey"]);
      });
      client.on("ready", () => {
        client.on("session", (acceptSession) => {
          const session = acceptSession();
          session.on("exec", (acceptExec, _reject, info) => {
            const channel = acceptExec();
            channel.on("error", () => {});
            if (info.command.trim() === AGENT_COMMAND) return runAgentSession(channel, world, host, agentVersion);
            channel.stderr.write(`sh: 1: ${info.command.split(/\s+/)[0] ?? ""}: not found (lab host ${host} only runs "${AGENT_COMMAND}")\n`);
            channel.exit(127);
            channel.end();
          });
          session.on("shell", (_accept, reject) => reject());
          session.on("subsystem", (_accept, reject) => reject());
          session.on("pty", (accept) => accept?.());
          session.on("env", (accept) => accept?.());
        });
      });
    });
  }
}
