import { pino } from "pino";

/** A debug logger for a Fleet that counts the liveness probes it sends, per host. */
export function probeLog() {
  const probes = new Map<string, number>();
  const logger = pino(
    { level: "debug" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; host?: string };
        if (entry.msg === "agent silent, probing" && entry.host) probes.set(entry.host, (probes.get(entry.host) ?? 0) + 1);
      },
    },
  );
  return { logger, probesOf: (host: string) => probes.get(host) ?? 0 };
}
