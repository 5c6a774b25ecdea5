import { parseArgs } from "node:util";
import { serveAgent } from "./serve.js";
import { loadAgentConfig } from "./real/config.js";
import { createRealDrivers } from "./real/index.js";
import { stderrLog } from "./real/log.js";
import { probe, toolsFrom } from "./real/probe.js";
import { AGENT_VERSION } from "./real/version.js";

const USAGE = `usage:
  nimbus-agent serve --stdio [--config PATH]   speak the agent protocol on stdin/stdout
  nimbus-agent probe [--config PATH]           print the detected capabilities as JSON
  nimbus-agent version                         print the agent version
config: ${"/etc/nimbus/agent.json"} unless --config is given (see packages/agent/README.md)`;

/** Stdout carries the protocol (serve) or the command's answer; everything else goes to stderr. */
async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { stdio: { type: "boolean" }, config: { type: "string" }, help: { type: "boolean" } },
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
      const drivers = await createRealDrivers(cfg, stderrLog);
      stderrLog("info", `nimbus-agent ${AGENT_VERSION} on ${drivers.hostname}: ${drivers.probe.capabilities.join(", ") || "node only"}`);
      // Closing stdin ends the session, which stops every watcher child before we exit.
      for (const sig of ["SIGTERM", "SIGHUP", "SIGINT"] as const) process.once(sig, () => process.stdin.destroy());
      // One driver's stray promise must not end the session (and a migration's progress with it):
      // log it where the operator can see it and keep serving.
      process.on("unhandledRejection", (err) => process.stderr.write(`nimbus-agent: unhandled rejection: ${err instanceof Error ? err.stack : String(err)}\n`));
      await serveAgent({ input: process.stdin, output: process.stdout, drivers, agentVersion: AGENT_VERSION });
      return 0;
    }
    default:
      process.stderr.write(`nimbus-agent: unknown command ${command}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`nimbus-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
