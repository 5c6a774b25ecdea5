import { ConsoleRegistry, conflict, notFound, type ConsoleDriver, type ConsoleStream } from "@nimbus/agent";
import type { VmState } from "./model.js";
import { requireLibvirtd } from "./power.js";
import type { World } from "./world.js";

/**
 * The serial console of a lab VM: what a Debian guest's ttyS0 shows. Attaching to a VM that just
 * booted shows its boot lines, then the getty's `<hostname> login: `; a user name is answered with
 * `Password:` (no echo), any password opens a shell whose prompt answers a few commands from the
 * VM's lab state (hostname, uname -a, ip -br a, whoami, id, uptime, date, echo, pwd, exit).
 * The screen state lives on the VM (two sessions see one console, as with a real serial line) and
 * starts over with each boot. A VM that is not running has no console; one that stops or leaves
 * the host closes its sessions with the reason.
 */

const LINE_MAX = 256;
const KERNEL = "6.1.0-28-amd64";

interface GuestConsole {
  mode: "login" | "password" | "shell";
  user: string;
  line: string;
  /** Boot lines were shown once for this boot. */
  bootShown: boolean;
  /** Inside an escape sequence (arrow keys): the rest of it is swallowed. */
  escape: "" | "esc" | "csi";
  listeners: Set<(text: string) => void>;
}

const guests = new WeakMap<VmState, GuestConsole>();
const registries = new WeakMap<World, Map<string, ConsoleRegistry>>();

/** The console sessions of one lab host, shared by its SSH channels (the cap is per host, as on a real agent). */
export function consoleRegistryOf(world: World, host: string): ConsoleRegistry {
  let byHost = registries.get(world);
  if (!byHost) registries.set(world, (byHost = new Map()));
  let reg = byHost.get(host);
  if (!reg) byHost.set(host, (reg = new ConsoleRegistry()));
  return reg;
}

/** The VM's screen; a guest that is booting again (or was seen stopping) starts a new one. */
const guestOf = (vm: VmState): GuestConsole => {
  let g = guests.get(vm);
  if (!g || (!vm.guestReady && g.bootShown)) {
    g = { mode: "login", user: "", line: "", bootShown: false, escape: "", listeners: g?.listeners ?? new Set() };
    guests.set(vm, g);
  }
  return g;
};

export function labConsoleDriver(world: World, host: string): ConsoleDriver {
  return { open: async (domain) => openConsole(world, host, domain) };
}

function openConsole(world: World, host: string, domain: string): ConsoleStream {
  requireLibvirtd(world, host);
  const vm = world.hypervisor(host).domains.get(domain);
  if (!vm) throw notFound(`domain ${domain} on ${host}`);
  if (vm.state !== "running" && vm.state !== "paused")
    throw conflict(`domain ${domain} on ${host} is ${vm.state}: a stopped VM has no console; start it first`);
  const g = guestOf(vm);
  const data = new Set<(b: Buffer) => void>();
  const closers = new Set<(reason: string) => void>();
  let ended = false;
  const timers: (() => void)[] = [];
  const send = (text: string) => {
    if (!ended) for (const l of data) l(Buffer.from(text, "utf8"));
  };
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    unwatch();
    g.listeners.delete(send);
    for (const t of timers) t();
    for (const l of closers) l(reason);
  };
  const unwatch = world.watch(host, "virt", () => {
    const now = world.hypervisor(host).domains.get(domain);
    if (now !== vm) end("the VM is no longer on this host");
    else if (vm.state !== "running" && vm.state !== "paused") {
      guests.delete(vm);
      end("the VM stopped");
    }
    else if (!world.hypervisor(host).libvirtdUp) end("the console ended: libvirtd stopped");
  });
  g.listeners.add(send);
  // What the screen shows on attach: the boot (first attach of this boot), else a fresh prompt.
  const later = (ms: number, fn: () => void) => timers.push(world.clock.after(ms, fn));
  if (!g.bootShown) {
    g.bootShown = true;
    bootLines(vm).forEach((line, i) => later(40 * (i + 1), () => send(`${line}\r\n`)));
    later(40 * (bootLines(vm).length + 1), () => send(`\r\n${issue(vm)}\r\n\r\n${prompt(vm, g)}`));
  } else later(1, () => send(`\r\n${g.mode === "shell" ? "" : `${issue(vm)}\r\n\r\n`}${prompt(vm, g)}`));
  return {
    write: (bytes) => {
      if (ended) return;
      // virsh console's stream runs through libvirtd: without it, the console is gone.
      if (!world.hypervisor(host).libvirtdUp) return end("the console ended: libvirt could not be reached (End of file while reading data)");
      const out = typeBytes(world, vm, g, bytes.toString("utf8"));
      for (const l of g.listeners) l(out);
    },
    close: () => end("closed"),
    onData: (l) => void data.add(l),
    onClose: (l) => void closers.add(l),
  };
}

const issue = (vm: VmState) => `Debian GNU/Linux 12 ${vm.spec.name} ttyS0`;

function prompt(vm: VmState, g: GuestConsole): string {
  if (g.mode === "password") return "Password: ";
  if (g.mode === "shell") return `${g.user}@${vm.spec.name}:~${g.user === "root" ? "#" : "$"} `;
  return `${vm.spec.name} login: `;
}

function bootLines(vm: VmState): string[] {
  const t = (s: number) => `[${s.toFixed(6).padStart(12)}]`;
  return [
    `${t(0)} Linux version ${KERNEL} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)`,
    `${t(0)} Command line: BOOT_IMAGE=/vmlinuz-${KERNEL} root=LABEL=rootfs ro console=ttyS0,115200n8`,
    `${t(0.412)} virtio_blk virtio1: [vda] ${vm.spec.diskGiB * 2097152} 512-byte logical blocks (${(vm.spec.diskGiB * 1.07374).toFixed(1)} GB/${vm.spec.diskGiB} GiB)`,
    `${t(1.903)} EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.`,
    `${t(2.871)} systemd[1]: systemd 252.33-1~deb12u1 running in system mode`,
    `${t(3.114)} systemd[1]: Hostname set to <${vm.spec.name}>.`,
    `[  OK  ] Started systemd-networkd.service - Network Configuration.`,
    `[  OK  ] Started ssh.service - OpenBSD Secure Shell server.`,
    `[  OK  ] Started serial-getty@ttyS0.service - Serial Getty on ttyS0.`,
    `[  OK  ] Reached target multi-user.target - Multi-User System.`,
  ];
}

/** Keystrokes in, what the line discipline and the guest print back. */
function typeBytes(world: World, vm: VmState, g: GuestConsole, text: string): string {
  let out = "";
  for (const ch of text) {
    if (g.escape === "esc") {
      g.escape = ch === "[" || ch === "O" ? "csi" : "";
      continue;
    }
    if (g.escape === "csi") {
      if (/[A-Za-z~]/.test(ch)) g.escape = "";
      continue;
    }
    if (ch === "\x1b") {
      g.escape = "esc";
      continue;
    }
    if (ch === "\r" || ch === "\n") {
      out += "\r\n" + submit(world, vm, g);
      continue;
    }
    if (ch === "\x7f" || ch === "\b") {
      if (g.line.length) {
        g.line = g.line.slice(0, -1);
        if (g.mode !== "password") out += "\b \b";
      }
      continue;
    }
    if (ch === "\x03") {
      g.line = "";
      if (g.mode === "password") g.mode = "login";
      out += `^C\r\n${g.mode === "login" ? "\r\n" : ""}${prompt(vm, g)}`;
      continue;
    }
    if (ch === "\x04") {
      if (g.mode === "shell" && !g.line) out += `logout\r\n${logout(vm, g)}`;
      continue;
    }
    if (ch < " ") continue;
    if (g.line.length >= LINE_MAX) continue;
    g.line += ch;
    if (g.mode !== "password") out += ch;
  }
  return out;
}

function logout(vm: VmState, g: GuestConsole): string {
  g.mode = "login";
  g.user = "";
  return `\r\n${issue(vm)}\r\n\r\n${prompt(vm, g)}`;
}

function submit(world: World, vm: VmState, g: GuestConsole): string {
  const line = g.line.trim();
  g.line = "";
  if (g.mode === "login") {
    if (!line) return prompt(vm, g);
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(line)) return `\r\nLogin incorrect\r\n${prompt(vm, g)}`;
    g.user = line;
    g.mode = "password";
    return prompt(vm, g);
  }
  if (g.mode === "password") {
    // The lab's guests have no accounts to check: any password that is not empty opens a shell.
    if (!line) {
      g.mode = "login";
      return `\r\nLogin incorrect\r\n${prompt(vm, g)}`;
    }
    g.mode = "shell";
    return `Linux ${vm.spec.name} ${KERNEL} #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64\r\n\r\n${prompt(vm, g)}`;
  }
  const said = run(world, vm, g, line);
  if (g.mode !== "shell") return said;
  return `${said}${prompt(vm, g)}`;
}

function run(world: World, vm: VmState, g: GuestConsole, line: string): string {
  const [cmd = "", ...args] = line.split(/\s+/).filter(Boolean);
  const lines = (...ls: string[]) => ls.map((l) => `${l}\r\n`).join("");
  switch (cmd) {
    case "":
      return "";
    case "hostname":
      return lines(vm.spec.name);
    case "uname":
      return lines(args.includes("-a") ? `Linux ${vm.spec.name} ${KERNEL} #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22) x86_64 GNU/Linux` : "Linux");
    case "whoami":
      return lines(g.user);
    case "id": {
      const uid = g.user === "root" ? 0 : 1000;
      return lines(`uid=${uid}(${g.user}) gid=${uid}(${g.user}) groups=${uid}(${g.user})`);
    }
    case "pwd":
      return lines(g.user === "root" ? "/root" : `/home/${g.user}`);
    case "echo":
      return lines(args.join(" "));
    case "date":
      return lines(new Date().toUTCString().replace("GMT", "UTC"));
    case "uptime": {
      const mins = Math.max(0, Math.floor((world.clock.now() % 86_400_000) / 60_000));
      return lines(` ${new Date().toISOString().slice(11, 19)} up ${mins} min,  1 user,  load average: 0.08, 0.03, 0.01`);
    }
    case "ip":
      if (args.join(" ") === "-br a" || args.join(" ") === "-br addr" || args.join(" ") === "-brief address")
        return lines(
          `${"lo".padEnd(17)}${"UNKNOWN".padEnd(15)}127.0.0.1/8 ::1/128`,
          ...vm.spec.nics.map((nic, i) => `${`enp${i + 1}s0`.padEnd(17)}${"UP".padEnd(15)}${nic.ip && vm.addressed !== false ? `${nic.ip}/24` : ""}`.trimEnd()),
        );
      return lines(`Usage: ip -br a (the lab's guests know only this form)`);
    case "clear":
      return "\x1b[H\x1b[2J";
    case "exit":
    case "logout":
      return `${logout(vm, g)}`;
    case "help":
      return lines("hostname, uname -a, ip -br a, whoami, id, pwd, echo, date, uptime, clear, exit");
    default:
      return lines(`-bash: ${cmd.slice(0, 64)}: command not found`);
  }
}
