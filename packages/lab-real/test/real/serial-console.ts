import type { Fleet } from "@nimbus/fleet";
import { GiveUp, waitFor } from "../../src/wait.js";

/** Console events as the fleet forwards the agent's console.output / console.closed pushes. */
type ConsoleEvent = { type: "console-output"; host: string; session: string; data: string } | { type: "console-closed"; host: string; session: string; reason: string };

/**
 * A serial console session through the agent, as the server opens one (`console.open` on the
 * VM's host, output as pushed `console.output` chunks, keystrokes with `console.input`). `expect`
 * sends `line` (every few seconds when `repeat`, e.g. Enter until a getty answers) until what
 * the console printed since matches `pattern`.
 */
export async function openAgentConsole(fleet: Fleet, host: string, domain: string) {
  const output = new Map<string, string>();
  const closed = new Map<string, string>();
  const off = fleet.subscribe((e) => {
    const ev = e as unknown as ConsoleEvent;
    if (ev.host !== host) return;
    if (ev.type === "console-output") output.set(ev.session, (output.get(ev.session) ?? "") + Buffer.from(ev.data, "base64").toString("utf8"));
    if (ev.type === "console-closed") closed.set(ev.session, ev.reason);
  });
  const { session } = await fleet.request(host, "console.open", { domain });
  const screen = () => (output.get(session) ?? "").replace(/\r/g, "");
  return {
    session,
    screen,
    async expect(pattern: RegExp, line: string, timeoutMs: number, repeat = true): Promise<string> {
      const from = screen().length;
      let lastSent = 0;
      return waitFor(`${pattern} on ${domain}'s console (it printed ${JSON.stringify(screen().slice(-300))})`, async () => {
        const reason = closed.get(session);
        if (reason) throw new GiveUp(`the console closed: ${reason}; it printed ${JSON.stringify(screen().slice(-300))}`);
        const fresh = screen().slice(from);
        if (pattern.test(fresh)) return fresh;
        if (lastSent === 0 || (repeat && Date.now() - lastSent > 4000)) {
          lastSent = Date.now();
          await fleet.request(host, "console.input", { session, data: line });
        }
        return null;
      }, { timeoutMs, intervalMs: 500 });
    },
    async close() {
      off();
      await fleet.request(host, "console.close", { session }).catch(() => undefined);
    },
  };
}
