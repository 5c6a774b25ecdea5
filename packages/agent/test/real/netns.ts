import { execFileSync } from "node:child_process";

/**
 * A network namespace owned by one test file: created empty, filled with `ip -n NS ...`
 * commands, deleted (with every link in it) by `remove()`.
 */
export function createNetns(tag: string) {
  const name = `nimbus-agent-${tag}-${process.pid}`;
  execFileSync("ip", ["netns", "add", name]);
  const ip = (...args: string[]) => execFileSync("ip", ["-n", name, ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  ip("link", "set", "lo", "up");
  return { name, ip, remove: () => execFileSync("ip", ["netns", "delete", name]) };
}
