/** Agent logs go to stderr: stdout carries the protocol and must hold nothing else. */
export type Log = (level: "info" | "warn" | "error", message: string) => void;

export const stderrLog: Log = (level, message) => {
  process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
};

export const silentLog: Log = () => undefined;
