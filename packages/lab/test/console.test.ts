import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { serveAgent } from "@nimbus/agent";
import { AgentErrorCode, CONSOLE_LIMITS } from "@nimbus/domain";
import { simDriversFor } from "../src/drivers.js";
import { consoleRegistryOf } from "../src/world/console.js";
import { powerDomain } from "../src/world/power.js";
import type { World } from "../src/world/world.js";
import { testWorld, waitFor } from "./helpers.js";

let world: World;
afterEach(() => world?.stop());

/** One agent link to a lab host, as its SSH channel runs it (same drivers and per-host console registry). */
function link(host: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  const done = serveAgent({ input, output, drivers: simDriversFor(world, host), jobs: world.jobsOf(host), consoles: consoleRegistryOf(world, host), agentVersion: "t" });
  const messages: any[] = [];
  createInterface({ input: output }).on("line", (l) => messages.push(JSON.parse(l)));
  let id = 0;
  const call = async (method: string, params: unknown) => {
    const n = ++id;
    input.write(JSON.stringify({ jsonrpc: "2.0", id: n, method, params }) + "\n");
    await waitFor(() => messages.some((m) => m.id === n), `answer to ${method}`);
    return messages.find((m) => m.id === n);
  };
  const screen = (session: string) =>
    messages
      .filter((m) => m.method === "console.output" && m.params.session === session)
      .map((m) => Buffer.from(m.params.data, "base64").toString("utf8"))
      .join("");
  const until = (session: string, text: string | RegExp) =>
    waitFor(() => (typeof text === "string" ? screen(session).includes(text) : text.test(screen(session))), `console to show ${text}`);
  const open = async (domain: string) => {
    const res = await call("console.open", { domain, cols: 80, rows: 24 });
    if (res.error) throw Object.assign(new Error(res.error.message), { code: res.error.code });
    return res.result.session as string;
  };
  const type = (session: string, data: string) => call("console.input", { session, data });
  return { call, screen, until, open, type, messages, end: () => input.end(), done };
}

describe("lab serial console", () => {
  it("shows the boot, a login prompt, asks for the password without echo, then answers commands from the VM's state", async () => {
    world = testWorld();
    const a = link("kvm1");
    const s = await a.open("acme-web1");
    await a.until(s, "acme-web1 login: ");
    expect(a.screen(s)).toMatch(/Linux version 6\.1\.0-28-amd64/);
    expect(a.screen(s)).toMatch(/Debian GNU\/Linux 12 acme-web1 ttyS0/);
    await a.type(s, "alice\r");
    await a.until(s, "alice\r\nPassword: ");
    await a.type(s, "s3cret\r");
    await a.until(s, "alice@acme-web1:~$ ");
    expect(a.screen(s)).not.toContain("s3cret");
    await a.type(s, "hostname\r");
    await a.until(s, "hostname\r\nacme-web1\r\n");
    await a.type(s, "ip -br a\r");
    await a.until(s, /enp1s0\s+UP\s+192\.168\.10\.11\/24/);
    await a.type(s, "uname -a\r");
    await a.until(s, "Linux acme-web1 6.1.0-28-amd64");
    await a.type(s, "rm -rf /\r");
    await a.until(s, "-bash: rm: command not found");
    await a.type(s, "exit\r");
    await a.until(s, /exit\r\n\r\nDebian GNU\/Linux 12 acme-web1 ttyS0\r\n\r\nacme-web1 login: $/);
  });

  it("echoes typing, handles backspace, Ctrl-C and arrow keys like a terminal line", async () => {
    world = testWorld();
    const a = link("kvm1");
    const s = await a.open("acme-web1");
    await a.until(s, "login: ");
    await a.type(s, "roox\x7ft\x1b[A\r");
    await a.until(s, "roox\b \bt\r\nPassword: ");
    await a.type(s, "\x03");
    await a.until(s, /\^C\r\n\r\nacme-web1 login: $/);
  });

  it("a second session joins the same console (one serial line: the agent attaches once); a later attach shows the prompt again", async () => {
    world = testWorld();
    const a = link("kvm1");
    const b = link("kvm1");
    const s1 = await a.open("acme-web1");
    await a.until(s1, "login: ");
    const s2 = await b.open("acme-web1");
    await a.type(s1, "root\r");
    await b.until(s2, "root\r\nPassword: ");
    await a.call("console.close", { session: s1 });
    await b.call("console.close", { session: s2 });
    // A new attachment after the boot was shown: the getty's prompt again (the state is the VM's).
    const s3 = await a.open("acme-web1");
    await a.until(s3, /\r\nPassword: $/);
    expect(a.screen(s3)).not.toMatch(/Linux version/);
  });

  it("a stopped VM has no console; stopping a VM closes its sessions with the reason", async () => {
    world = testWorld();
    const a = link("kvm1");
    await expect(a.open("initech-legacy")).rejects.toMatchObject({ code: AgentErrorCode.conflict, message: expect.stringMatching(/shutoff: a stopped VM has no console/) });
    await expect(a.open("no-such-vm")).rejects.toMatchObject({ code: AgentErrorCode.notFound });
    const s = await a.open("acme-web1");
    await a.until(s, "login: ");
    await powerDomain(world, "kvm1", "acme-web1", "destroy");
    await waitFor(() => a.messages.some((m) => m.method === "console.closed"), "console.closed");
    expect(a.messages.find((m) => m.method === "console.closed").params).toEqual({ session: s, reason: "the VM stopped" });
    expect(consoleRegistryOf(world, "kvm1").size).toBe(0);
    expect((await a.type(s, "x")).error.code).toBe(AgentErrorCode.notFound);
  });

  it("caps sessions per host across links; a link that goes takes its sessions with it", async () => {
    world = testWorld();
    const a = link("kvm1");
    const b = link("kvm1");
    for (let i = 0; i < CONSOLE_LIMITS.sessionsPerHost; i++) await (i % 2 ? a : b).open("acme-web1");
    await expect(a.open("acme-web1")).rejects.toMatchObject({ code: AgentErrorCode.conflict, message: expect.stringMatching(/already has 16 console sessions/) });
    // Other hosts have their own cap.
    const other = link("kvm2");
    const vmOnKvm2 = [...world.hypervisor("kvm2").domains.values()].find((v) => v.state === "running")!.spec.name;
    await other.open(vmOnKvm2);
    b.end();
    await b.done;
    expect(consoleRegistryOf(world, "kvm1").size).toBe(CONSOLE_LIMITS.sessionsPerHost / 2);
    await a.open("acme-web1");
  });
});
