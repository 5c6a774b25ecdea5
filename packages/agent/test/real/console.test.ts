import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import type { ConsoleStream } from "../../src/console.js";
import { AgentError } from "../../src/errors.js";
import { ConsoleBanner, RealConsoleDriver, consoleArgv, consoleEndReason, shellWord } from "../../src/real/console.js";
import { Tool } from "../../src/real/tool.js";

const UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f";

describe("console argv", () => {
  it("runs virsh console by UUID under script, every word single-quoted", () => {
    const { cmd, args } = consoleArgv({ cmd: "/usr/bin/virsh", args: ["-c", "qemu+ssh://root@kvm1/system?keyfile=/k'ey"] }, UUID);
    expect(cmd).toBe("script");
    expect(args).toEqual(["-q", "-f", "-e", "-c", `'/usr/bin/virsh' '-c' 'qemu+ssh://root@kvm1/system?keyfile=/k'\\''ey' 'console' '--force' '--' '${UUID}'`, "/dev/null"]);
  });

  it("refuses anything that is not a UUID (a name never reaches the shell string)", () => {
    for (const bad of ["web1", `${UUID}; reboot`, "$(reboot)", `'${UUID}'`, ""]) {
      expect(() => consoleArgv({ cmd: "virsh", args: [] }, bad)).toThrow(AgentError);
    }
  });

  it("quotes a word with quotes, spaces and dollars so sh reads it back unchanged", () => {
    expect(shellWord(`a b'c$d"`)).toBe(`'a b'\\''c$d"'`);
  });
});

describe("console output parser", () => {
  it("drops virsh's banner (and polkit's notice) and passes the guest's bytes on", () => {
    const b = new ConsoleBanner();
    expect(b.push(Buffer.from("\r\nAuthorization not available. Check if polkit service is running.\r\nConnected to domain 'web1'\r\nEscape char"))).toBeNull();
    expect(b.push(Buffer.from("acter is ^] (Ctrl + ])\r\n\r\nweb1 login: "))?.toString()).toBe("\r\nweb1 login: ");
    expect(b.push(Buffer.from("more"))?.toString()).toBe("more");
    expect(b.unannounced).toBe("");
  });

  it("passes everything on when no banner comes within its bound, and keeps what virsh said when it failed", () => {
    const guest = new ConsoleBanner();
    expect(guest.push(Buffer.alloc(4000, 0x41))?.length).toBe(4000);
    const failed = new ConsoleBanner();
    expect(failed.push(Buffer.from("error: failed to get domain 'x'\r\n"))).toBeNull();
    expect(failed.unannounced).toMatch(/failed to get domain/);
  });

  it("says why the console ended, in words", () => {
    expect(consoleEndReason(1, "error: failed to get domain '6695'\r\n", false)).toBe("the VM is no longer on this host");
    expect(consoleEndReason(1, "error: The domain is not running\r\n", false)).toBe("the VM stopped");
    expect(consoleEndReason(1, "error: operation failed: Active console session exists for this domain\r\n", false)).toMatch(/^the console ended: .*Active console session exists/);
    expect(consoleEndReason(0, "", false)).toMatch(/disconnected/);
    expect(consoleEndReason(null, "", false)).toBe("the console was killed");
    expect(consoleEndReason(null, "", true)).toBe("closed");
    expect(consoleEndReason(1, "garbage", false)).toBe("the console ended (virsh exited with 1)");
  });
});

/**
 * The real driver through util-linux `script` and a stand-in virsh (a shell script): the pty is
 * real, so this proves virsh would get its TTY, the banner is dropped, keystrokes reach the
 * console and the process ends with the session.
 */
describe("real console driver (script + a stand-in virsh)", () => {
  let dir: string;
  let virsh: Tool;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "nimbus-console-"));
    const fake = join(dir, "virsh");
    await writeFile(
      fake,
      `#!/bin/sh
case "$1" in
  list) printf '${UUID} web1\\n11111111-2222-3333-4444-555555555555 off1\\n\\n'; exit 0;;
  domstate) if [ "$4" = "${UUID}" ]; then echo running; else echo 'shut off'; fi; exit 0;;
  console)
    [ -t 0 ] || { echo "error: Cannot run interactive console without a controlling TTY" >&2; exit 1; }
    [ "$2" = "--force" ] && [ "$3" = "--" ] && [ "$4" = "${UUID}" ] || { echo "error: failed to get domain '$4'"; exit 1; }
    printf "Connected to domain 'web1'\\nEscape character is ^] (Ctrl + ])\\n"
    stty raw -echo
    printf 'web1 login: '
    while IFS= read -r line; do
      [ "$line" = "bye" ] && { printf '\\r\\nerror: The domain is not running\\r\\n'; exit 1; }
      printf 'got:%s\\r\\n' "$line"
    done;;
esac
exit 3
`,
    );
    await chmod(fake, 0o755);
    virsh = new Tool("virsh", { path: fake, args: [], env: {} });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const collect = (s: ConsoleStream) => {
    let out = "";
    let waiters: (() => void)[] = [];
    const ended = new Promise<string>((resolve) => s.onClose(resolve));
    s.onData((b) => {
      out += b.toString("utf8");
      for (const w of waiters) w();
    });
    const until = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => out.includes(text) && (waiters = waiters.filter((w) => w !== check), resolve());
        waiters.push(check);
        check();
      });
    return { text: () => out, until, ended };
  };

  it("attaches under a pty, drops the banner, sends keystrokes and ends when closed", async () => {
    const s = await new RealConsoleDriver("kvm1", virsh).open("web1");
    const c = collect(s);
    await c.until("web1 login: ");
    expect(c.text()).not.toMatch(/Connected to domain|Escape character/);
    s.write(Buffer.from("root\n"));
    await c.until("got:root");
    s.close();
    expect(await c.ended).toBe("closed");
  });

  it("ends with libvirt's reason when virsh gives up", async () => {
    const s = await new RealConsoleDriver("kvm1", virsh).open("web1");
    const c = collect(s);
    await c.until("login: ");
    s.write(Buffer.from("bye\n"));
    expect(await c.ended).toMatch(/stopped|ended/);
  });

  it("refuses a VM that is not running, and one that is not on the host", async () => {
    const driver = new RealConsoleDriver("kvm1", virsh);
    await expect(driver.open("off1")).rejects.toMatchObject({ code: AgentErrorCode.conflict, message: expect.stringMatching(/stopped VM has no console/) });
    await expect(driver.open("nope")).rejects.toMatchObject({ code: AgentErrorCode.notFound });
  });
});
