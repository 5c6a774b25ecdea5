import { AGENT_COMMAND, NimbusError, PROTOCOL_VERSION, type HelloResult, type HostInventory } from "@nimbus/domain";
import { HandshakeFailure } from "./connect-failure.js";
import type { HostConfig } from "./contract.js";
import { ProtocolClient, type AgentNotification } from "./protocol-client.js";
import { SshFailure, type ExecChannel, type SshSession } from "./ssh/index.js";
import { captureTail } from "./stderr-tail.js";

/**
 * Hook run after SSH is up and before the agent starts (e.g. to upload or update the agent).
 * Resolves with the command that starts the agent, or nothing for AGENT_COMMAND. A
 * HandshakeFailure it throws is the row's message as is.
 */
export type EnsureAgent = (session: SshSession, config: HostConfig) => Promise<string | void>;

export interface AgentStartOptions {
  config: HostConfig;
  /** Sent in hello so the agent can log who connected. */
  serverName: string;
  requestTimeoutMs: number;
  /** Bounds hello and the first inventory snapshot. */
  handshakeTimeoutMs: number;
  /** How long to wait for an ended agent's exit status, to tell "agent missing" from a lost link. */
  exitGraceMs: number;
  ensureAgent?: EnsureAgent;
}

/** Where the protocol client's traffic goes; each call names the client, so stale ones can be ignored. */
export interface AgentHooks {
  attached(client: ProtocolClient): void;
  notification(client: ProtocolClient, n: AgentNotification): void;
  protocolError(client: ProtocolClient, err: NimbusError): void;
  closed(client: ProtocolClient): void;
}

/**
 * Starts the agent on an open SSH session and greets it: hello (protocol version check) and the
 * first inventory snapshot, asked together. Failures whose cause is known become
 * HandshakeFailures: the agent is missing (could not start, or exited before answering: its stderr
 * is quoted) or speaks another protocol.
 */
export async function startAgent(
  session: SshSession,
  opts: AgentStartOptions,
  hooks: AgentHooks,
): Promise<{ client: ProtocolClient; hello: HelloResult; inventory: HostInventory }> {
  const host = opts.config.name;
  let command = AGENT_COMMAND;
  try {
    command = (await opts.ensureAgent?.(session, opts.config)) ?? AGENT_COMMAND;
  } catch (err) {
    if (err instanceof SshFailure || err instanceof HandshakeFailure) throw err;
    // Errors from the host's own checks already start with its name.
    const said = (err as Error).message;
    const reason = said.startsWith(`${host}: `) ? said.slice(host.length + 2) : said;
    throw new HandshakeFailure({ state: "agent-missing", message: `${host}: could not install the agent: ${reason}` });
  }

  let channel: ExecChannel;
  try {
    channel = await session.exec(command);
  } catch (err) {
    throw new HandshakeFailure({ state: "agent-missing", message: `${host}: could not start the agent: ${(err as Error).message}` });
  }
  const stderr = captureTail(channel.stderr);
  const client: ProtocolClient = new ProtocolClient({
    host,
    input: channel.stdout,
    output: channel.stdin,
    requestTimeoutMs: opts.requestTimeoutMs,
    onNotification: (n) => hooks.notification(client, n),
    onProtocolError: (e) => hooks.protocolError(client, e),
    onClose: () => hooks.closed(client),
  });
  hooks.attached(client);

  const timeoutMs = opts.handshakeTimeoutMs;
  // Both asked at once: they leave in one write (the socket is corked per turn) with no round trip
  // between them, and the agent's two answers usually come back in one. hello still decides first:
  // an agent of another protocol is a mismatch whatever its snapshot says, or if it never answers it.
  const greeting = client.request("hello", { protocol: PROTOCOL_VERSION, server: opts.serverName }, { timeoutMs });
  const snapshot = client.request("inventory.snapshot", {}, { timeoutMs });
  snapshot.catch(() => undefined); // read below, once hello passed; never an unhandled rejection
  try {
    const hello = await greeting;
    if (hello.protocol !== PROTOCOL_VERSION)
      throw new HandshakeFailure({
        state: "protocol-mismatch",
        message: `${host}: agent ${hello.agentVersion} speaks protocol ${hello.protocol}, this server speaks ${PROTOCOL_VERSION}; install a matching agent`,
      });
    const inventory = await snapshot;
    return { client, hello, inventory };
  } catch (err) {
    if (err instanceof HandshakeFailure) throw err;
    const exit = await Promise.race([channel.exit, delay(opts.exitGraceMs).then(() => null)]);
    if (exit) {
      const status = exit.code !== null ? `exit ${exit.code}` : `signal ${exit.signal}`;
      throw new HandshakeFailure({
        state: "agent-missing",
        message: `${host}: the agent ended before answering (${status}): ${stderr() || "no output on stderr"}`,
      });
    }
    if (err instanceof NimbusError && err.code === "UNPARSEABLE_OUTPUT" && err.details?.method === "hello")
      throw new HandshakeFailure({ state: "protocol-mismatch", message: err.message });
    throw err;
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());
