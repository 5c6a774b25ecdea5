import { hostname } from "node:os";
import { pino, type DestinationStream } from "pino";

/** Agent logs go to stderr: stdout carries the protocol and must hold nothing else. */
export type Log = (level: "info" | "warn" | "error", message: string) => void;

/**
 * Structured logs, one JSON object a line (pino, as the server writes them): `time` in ISO form,
 * `level` as a word, the agent's pid and host, and `msg`; a log shipper parses them as they are.
 */
export function jsonLog(dest: DestinationStream): Log {
  const logger = pino(
    {
      base: { component: "nimbus-agent", pid: process.pid, host: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return (level, message) => logger[level](message);
}

// Synchronous writes to fd 2: a crash right after a line must not lose it.
export const stderrLog: Log = jsonLog(pino.destination({ dest: 2, sync: true }));

export const silentLog: Log = () => undefined;
