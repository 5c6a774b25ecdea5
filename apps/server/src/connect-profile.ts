import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import type { HostRecord } from "@nimbus/domain";
import type { Logger } from "pino";

/**
 * Diagnostics for the replicas benchmark (`NIMBUS_CONNECT_PROFILE_DIR`): a V8 CPU profile of this
 * process from the moment its fleet starts connecting until every host is online in its view (at
 * most 60 s), written as `<dir>/<name>.cpuprofile` (open it in Chrome's DevTools, or summarise it
 * with `bench/profile-summary.ts`); with NIMBUS_STEADY_PROFILE_MS also `<name>-steady.cpuprofile`, that long
 * from 5 s after it. Off unless asked for: the profiler costs a few percent.
 */
export function profileConnect(dir: string, name: string, hosts: () => readonly HostRecord[] | null, logger: Logger): void {
  const session = new Session();
  session.connect();
  const started = Date.now();
  void (async () => {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 500 });
    await session.post("Profiler.start");
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      const list = hosts();
      if ((list && list.length > 0 && list.every((h) => h.connection.state === "online")) || Date.now() - started > 60_000) break;
    }
    const file = (suffix: string) => join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, "-")}${suffix}.cpuprofile`);
    const { profile } = await session.post("Profiler.stop");
    mkdirSync(dir, { recursive: true });
    writeFileSync(file(""), JSON.stringify(profile));
    logger.info({ dir, ms: Date.now() - started }, "connect profile written");
    // And the steady state after it (NIMBUS_STEADY_PROFILE_MS: how long, starting 5 s after the connect).
    const steadyMs = Number(process.env.NIMBUS_STEADY_PROFILE_MS ?? 0);
    if (steadyMs > 0) {
      await new Promise((r) => setTimeout(r, 5_000));
      await session.post("Profiler.start");
      await new Promise((r) => setTimeout(r, steadyMs));
      writeFileSync(file("-steady"), JSON.stringify((await session.post("Profiler.stop")).profile));
    }
    session.disconnect();
  })().catch((err: unknown) => logger.warn({ err }, "connect profile not written"));
}
