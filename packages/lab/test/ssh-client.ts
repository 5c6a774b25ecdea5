import { createInterface } from "node:readline";
import ssh2, { type ClientChannel, type Client as SshClient } from "ssh2";
import { AGENT_COMMAND } from "@nimbus/domain";
import type { LabHostConfig } from "../src/lab.js";

export interface Connected {
  client: SshClient;
  hostKey: Buffer;
}

/** Connects like the fleet does: key auth, TCP_NODELAY; records the host key it was offered. */
export function connect(host: LabHostConfig, privateKey: Buffer | string, opts: { readyTimeout?: number } = {}): Promise<Connected> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let hostKey: Buffer = Buffer.alloc(0);
    client.on("error", reject);
    client.on("ready", () => resolve({ client, hostKey }));
    client.connect({
      host: host.address,
      port: host.port,
      username: host.user,
      privateKey,
      readyTimeout: opts.readyTimeout ?? 10_000,
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
    });
  });
}

export function exec(client: SshClient, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** Runs a command to its end (listeners attached before any data can arrive). */
export function execToEnd(client: SshClient, command: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) =>
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      let stderr = "";
      let code: number | null = null;
      ch.stderr.on("data", (d: Buffer) => (stderr += d));
      ch.on("exit", (c: number | null) => (code = c));
      ch.on("close", () => resolve({ code, stderr }));
      ch.resume();
    }),
  );
}

/** A minimal agent-protocol client over one exec channel, for tests. */
export class AgentChannel {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly notifications: { method: string; params: any }[] = [];

  private constructor(readonly channel: ClientChannel) {
    createInterface({ input: channel }).on("line", (line) => {
      const msg = JSON.parse(line);
      if (msg.id === undefined) return void this.notifications.push(msg);
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error) w?.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else w?.resolve(msg.result);
    });
  }

  static async open(client: SshClient): Promise<AgentChannel> {
    return new AgentChannel(await exec(client, AGENT_COMMAND));
  }

  request(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++;
    this.channel.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }
}
