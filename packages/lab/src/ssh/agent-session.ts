import { PassThrough, Writable } from "node:stream";
import type { ServerChannel } from "ssh2";
import { serveAgent } from "@nimbus/agent";
import { simDriversFor } from "../drivers.js";
import { consoleRegistryOf } from "../world/console.js";
import { TIMINGS } from "../world/timings.js";
import type { World } from "../world/world.js";

/** Runs one agent protocol session over an SSH exec channel; ends when the client closes its side. */
export function runAgentSession(channel: ServerChannel, world: World, host: string, agentVersion: string): void {
  let open = true;
  // The agent reads until its input ends. A channel torn down with its connection emits
  // 'close' without 'end', so both end the input: the session never outlives the channel.
  const input = new PassThrough();
  channel.on("data", (chunk: Buffer) => input.write(chunk));
  // EOF from the client: the session ends, then we still send the exit status and close our side.
  channel.on("end", () => input.end());
  const gone = () => {
    open = false;
    input.end();
  };
  channel.on("close", gone);
  channel.on("error", gone);
  const output = new Writable({
    write(chunk, _enc, done) {
      if (open) channel.write(chunk);
      done();
    },
  });
  void serveAgent({
    input,
    output,
    drivers: simDriversFor(world, host),
    jobs: world.jobsOf(host),
    consoles: consoleRegistryOf(world, host),
    bootId: world.bootId(host),
    agentVersion,
    // Counters every 10 s of lab time, at least 2 s apart: a faster lab shows rates sooner, and a
    // host with nothing else to say still falls silent long enough for the liveness probe.
    statsIntervalMs: Math.max(2_000, TIMINGS.statsMs / world.clock.speed),
  }).then(() => {
    if (!open) return;
    open = false;
    channel.exit(0);
    channel.end();
  });
}
