import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DaemonAlreadyRunning, startAgentDaemon } from "./daemon.js";
import { daemonPaths, prepareRunDir, relayStdio, spawnDaemon } from "./relay.js";
import { serveAgent } from "./serve.js";
import { loadAgentConfig, type AgentConfig } from "./real/config.js";
import { createRealDrivers } from "./real/index.js";
import { stderrLog } from "./real/log.js";
import { probe, toolsFrom } from "./real/probe.js";
import { AGENT_VERSION } from "./real/version.js";
import { IMAGE_USAGE, imageCommand } from "./real/image-build-command.js";

const USAGE = `usage:
  nimbus-agent serve --stdio [--config PATH]   speak the agent protocol on stdin/stdout (through the agent daemon)
  nimbus-agent probe [--config PATH]           print the detected capabilities as JSON
  nimbus-agent version                         print the agent version
  nimbus-agent daemon --socket PATH [--config PATH]
                                               the daemon serve starts by itself: drivers and jobs that outlive a link
${IMAGE_USAGE}
config: ${"/etc/nimbus/agent.json"} unless --config is given (see packages/agent/README.md)`;

const runDirOf = (cfg: AgentConfig) => cfg.daemon.runDir ?? join(homedir(), ".nimbus", "run");

/** Stdout carries the protocol (serve) or the command's answer; everything else goes to stderr. */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stdio: { type: "boolean" },
      config: { type: "string" },
      socket: { type: "string" },
      help: { type: "boolean" },
      // image build
      out: { type: "string" },
      cache: { type: "string" },
      mirror: { type: "string" },
      rebuild: { type: "boolean" },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  switch (command) {
    case "version":
      process.stdout.write(`${AGENT_VERSION}\n`);
      return 0;
    case "probe": {
      const cfg = await loadAgentConfig(values.config);
      const p = await probe(cfg, toolsFrom(cfg));
      process.stdout.write(`${JSON.stringify({ agentVersion: AGENT_VERSION, ...p }, null, 2)}\n`);
      return 0;
    }
    case "serve": {
      if (!values.stdio) {
        process.stderr.write("nimbus-agent serve: only --stdio is supported\n");
        return 2;
      }
      const cfg = await loadAgentConfig(values.config);
      // Closing stdin ends the session (the relay's, or the in-process one's watchers) before we exit.
      for (const sig of ["SIGTERM", "SIGHUP", "SIGINT"] as const) process.once(sig, () => process.stdin.destroy());
      let paths;
      try {
        paths = daemonPaths(runDirOf(cfg), AGENT_VERSION);
        await prepareRunDir(paths.runDir);
      } catch (err) {
        stderrLog("warn", `no agent daemon (${(err as Error).message}); serving in this process: jobs end if the link drops`);
        return serveHere(cfg);
      }
      const { socket, log } = paths;
      const daemonArgs = [process.argv[1]!, "daemon", "--socket", socket, ...(values.config ? ["--config", values.config] : [])];
      await relayStdio({ socket, input: process.stdin, output: process.stdout, startDaemon: () => spawnDaemon({ args: daemonArgs, logPath: log }) });
      return 0;
    }
    case "daemon": {
      if (!values.socket) {
        process.stderr.write("nimbus-agent daemon: --socket PATH is required\n");
        return 2;
      }
      const cfg = await loadAgentConfig(values.config);
      const drivers = await startDrivers(cfg);
      let daemon;
      try {
        daemon = await startAgentDaemon({ socketPath: values.socket, drivers, agentVersion: AGENT_VERSION, lingerMs: cfg.daemon.lingerMs, log: stderrLog });
      } catch (err) {
        if (!(err instanceof DaemonAlreadyRunning)) throw err;
        stderrLog("info", err.message);
        return 0;
      }
      // The relay that started us reads this line, then lets go of our stdout.
      process.stdout.end("ready\n");
      process.once("SIGTERM", () => daemon.close());
      process.once("SIGINT", () => daemon.close());
      process.on("SIGHUP", () => undefined);
      await daemon.ended;
      return 0;
    }
    case "image":
      return imageCommand(positionals[1], values);
    default:
      process.stderr.write(`nimbus-agent: unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

/** Without a daemon (no usable run directory): the session and its jobs live in this process. */
async function serveHere(cfg: AgentConfig): Promise<number> {
  await serveAgent({ input: process.stdin, output: process.stdout, drivers: await startDrivers(cfg), agentVersion: AGENT_VERSION });
  return 0;
}

async function startDrivers(cfg: AgentConfig) {
  // One driver's stray promise must not end the agent (and a migration's progress with it): log
  // it where the operator can see it and keep serving.
  process.on("unhandledRejection", (err) => process.stderr.write(`nimbus-agent: unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`));
  const drivers = await createRealDrivers(cfg, stderrLog);
  stderrLog("info", `nimbus-agent ${AGENT_VERSION} on ${drivers.hostname}: ${drivers.probe.capabilities.join(", ") || "node only"}`);
  return drivers;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nimbus-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
