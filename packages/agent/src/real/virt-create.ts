import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AgentErrorCode,
  CREATE_STEP_TIMEOUT_SECONDS,
  appendStepLog,
  buildDomainXml,
  cleanupPlan,
  createSteps,
  failureSummary,
  setStep,
  deleteSteps,
  DELETE_STEP_LABELS,
  virshDestroyArgs,
  virshDomifaddrArgs,
  virshStartArgs,
  virshUndefineArgs,
  virtBuilderArgs,
  virtBuilderEnv,
  ADDRESS_SOURCES,
  type CleanupAction,
  type CreateInstanceParams,
  type CreateProgress,
  type CreateStepId,
  type DeleteInstanceParams,
  type DeleteProgress,
  type Domain,
  type OperationStep,
} from "@nimbus/domain";
import type { JobContext } from "../drivers.js";
import { defineDomainXml } from "./virsh-define.js";
import { AgentError, conflict, notFound } from "../errors.js";
import type { Tool } from "./tool.js";
import { trunkVlan, untrunkVlan } from "./ovs-tunnel.js";
import { domainUuid } from "./virt-ids.js";

/** What a create or delete runs on a real hypervisor. */
export interface ProvisionTools {
  host: string;
  virsh: Tool;
  virtBuilder: Tool;
  /** null without Open vSwitch: a create that must add a VXLAN port fails at "Wire the network". */
  ovsVsctl: Tool | null;
  /** iproute2's bridge: a Linux bridge's VLAN is set on the VM's tap. */
  bridge: Tool;
  /** The domains defined now (the virt driver's own view), for "is this the tenant's last instance here". */
  domains: () => Promise<Domain[]>;
  /** kvm when /dev/kvm works, qemu (software emulation) otherwise. */
  virtType: "kvm" | "qemu";
  sysClassNet?: string;
  /** The host's ARP table (tests point it elsewhere). */
  procNetArp?: string;
}

const MAX_SECONDS = (id: CreateStepId) => CREATE_STEP_TIMEOUT_SECONDS[id] * 1000;
const linesOf = (text: string) => text.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");

/**
 * `virt.create` on a real host, the steps createSteps names: check, virt-builder from the
 * datastore's own repository, VXLAN ports on Open vSwitch, `virsh define` of a private file, start,
 * wait for an address (guest agent, else ARP: libvirt's, else the host's table read here). Each step's tool output goes into its log. On a
 * failure or cancel the cleanup plan of the step reached runs, each action idempotent.
 */
export async function createReal(t: ProvisionTools, params: CreateInstanceParams, ctx: JobContext<CreateProgress>): Promise<CreateProgress> {
  let progress: CreateProgress = { kind: "create", steps: createSteps(params), address: null, undone: [] };
  const update = (steps: OperationStep[], patch: Partial<CreateProgress> = {}) => {
    progress = { ...progress, ...patch, steps };
    ctx.report(progress);
  };
  const log = (id: CreateStepId, lines: string[]) => lines.length && update(appendStepLog(progress.steps, id, lines));
  const at = () => new Date().toISOString();
  let current: CreateStepId = "check";
  const run = async (id: CreateStepId, work: () => Promise<void>) => {
    current = id;
    if (progress.steps.find((s) => s.id === id)?.state === "skipped") return;
    update(setStep(progress.steps, id, "running", at()));
    await work();
    update(setStep(progress.steps, id, "succeeded", at()));
  };
  const opts = (id: CreateStepId) => ({ signal: ctx.signal, timeoutMs: MAX_SECONDS(id) });

  try {
    await run("check", async () => {
      if ((await domainUuid(t.virsh, params.name)) !== null) throw conflict(`domain ${params.name} already exists on ${t.host}`);
      if (await exists(params.volumePath)) throw conflict(`${params.volumePath} already exists`);
      if (!(await exists(join(t.sysClassNet ?? "/sys/class/net", params.nic.bridge)))) throw notFound(`bridge ${params.nic.bridge} on ${t.host}`);
      const index = await readFile(params.image.repositoryIndex, "utf8").catch(() => {
        throw notFound(`image repository ${params.image.repositoryIndex}`);
      });
      if (!index.split("\n").includes(`[${params.image.name}]`)) throw notFound(`image ${params.image.name} in ${params.image.repositoryIndex}`);
      log("check", [`${params.name} is free, ${params.volumePath} does not exist, ${params.nic.bridge} is present, ${params.image.name} is in the repository`]);
    });
    await run("build-volume", async () => {
      const empty = await mkdtemp(join(tmpdir(), "nimbus-vb-"));
      try {
        const env = virtBuilderEnv(empty, t.virtType === "qemu");
        const out = await t.virtBuilder.run(virtBuilderArgs(params), { ...opts("build-volume"), env, maxBytes: 4 * 1024 * 1024 }).catch((e: unknown) => {
          if (e instanceof AgentError && typeof (e.data as { stderr?: unknown })?.stderr === "string") log("build-volume", linesOf((e.data as { stderr: string }).stderr).slice(-20));
          throw e;
        });
        log("build-volume", linesOf(out));
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
    await run("wire-network", async () => {
      for (const w of params.wiring) {
        if (w.kind !== "vxlan") continue;
        if (!t.ovsVsctl) throw new AgentError(AgentErrorCode.unsupported, `VXLAN ports need Open vSwitch on ${t.host}; ${w.bridge} cannot take one`);
        for (const [port, remote] of vxlanPorts(w.vni, w.peers.map((p) => p.address))) {
          const args = ["--may-exist", "add-port", w.bridge, port, `tag=${w.vlan}`, "--", "set", "interface", port, "type=vxlan", `options:remote_ip=${remote}`, `options:key=${w.vni}`];
          await t.ovsVsctl.run(args, opts("wire-network"));
          log("wire-network", [`ovs-vsctl ${args.join(" ")}`]);
        }
        // The tenant's VLAN must also cross the bridge's uplink trunk (the topology's vlan-not-trunked rule).
        for (const port of await trunkVlan(t.ovsVsctl, w.bridge, w.vlan)) log("wire-network", [`VLAN ${w.vlan} added to the trunk of ${port}`]);
      }
    });
    await run("define", async () => {
      log("define", linesOf(await defineDomainXml(t.virsh, buildDomainXml(params, { virtType: t.virtType }), opts("define"))));
    });
    await run("start", async () => {
      log("start", linesOf(await t.virsh.run(virshStartArgs(params.name), opts("start"))));
      // A Linux bridge's VLAN is on the tap (libvirt before 11 cannot set it): tag it now that libvirt made it.
      for (const w of params.wiring) {
        if (w.kind !== "port-vlan") continue;
        const taps = parseDomiflist(await t.virsh.run(["domiflist", "--", params.name], opts("start"))).filter((i) => i.source === w.bridge);
        for (const { device } of taps) {
          const args = ["vlan", "add", "dev", device, "vid", String(w.vlan), "pvid", "untagged"];
          await t.bridge.run(args, opts("start"));
          log("start", [`bridge ${args.join(" ")}`]);
        }
      }
    });
    await run("wait-address", async () => {
      const deadline = Date.now() + MAX_SECONDS("wait-address");
      for (;;) {
        for (const source of ADDRESS_SOURCES) {
          const text = await t.virsh.run(virshDomifaddrArgs(params.name, source), opts("wait-address")).catch(() => "");
          const ip = text.match(/ipv4\s+(\d{1,3}(?:\.\d{1,3}){3})\//)?.[1];
          if (ip) {
            log("wait-address", linesOf(text).slice(-4));
            progress = { ...progress, address: ip };
            return;
          }
        }
        // libvirt 9.0's own ARP source fails on some hosts ("internal error: wrong nlmsg len", seen
        // on the real lab): read the host's ARP table for the domain's MACs ourselves.
        const macs = parseDomiflist(await t.virsh.run(["domiflist", "--", params.name], opts("wait-address")).catch(() => "")).map((i) => i.mac);
        const arp = await readFile(t.procNetArp ?? "/proc/net/arp", "utf8").catch(() => "");
        const found = arpAddress(arp, macs);
        if (found) {
          log("wait-address", [`${found.ip} is ${found.mac} in the host's ARP table (${found.device})`]);
          progress = { ...progress, address: found.ip };
          return;
        }
        if (Date.now() > deadline) throw new AgentError(AgentErrorCode.toolFailed, `${params.name} reported no address within ${CREATE_STEP_TIMEOUT_SECONDS["wait-address"]} s`);
        await cancellableSleep(2_000, ctx.signal);
      }
    });
    return progress;
  } catch (err) {
    const reason = ctx.signal.aborted ? "cancelled" : err instanceof Error ? err.message : String(err);
    let steps = appendStepLog(setStep(progress.steps, current, "failed", at()), current, [reason]);
    const undone: string[] = [];
    for (const action of cleanupPlan(params, current)) {
      try {
        const done = await undo(t, action);
        if (done) undone.push(done);
      } catch (e) {
        undone.push(`could not ${action.description}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const undoneSteps = new Set<string>(["build-volume", "wire-network", "define", "start"]);
    steps = steps.map((s) => (s.state === "succeeded" && undoneSteps.has(s.id) ? { ...s, state: "undone" } : s));
    update(steps, { undone });
    const label = progress.steps.find((s) => s.id === current)!.label;
    const summary = ctx.signal.aborted ? `cancelled during "${label}"` : failureSummary(steps);
    throw new AgentError(err instanceof AgentError ? err.code : AgentErrorCode.toolFailed, `${summary}${undone.length ? `; undone: ${undone.join(", ")}` : "; nothing to undo"}`);
  }
}

/** `virt.delete` on a real host: the server's actions in order, each skipped when there is nothing to do. */
export async function deleteReal(t: ProvisionTools, params: DeleteInstanceParams, ctx: JobContext<DeleteProgress>): Promise<DeleteProgress> {
  let steps = deleteSteps(params.actions);
  const report = () => ctx.report({ kind: "delete", steps, kept: params.kept });
  for (const [i, action] of params.actions.entries()) {
    if (ctx.signal.aborted) throw new AgentError(AgentErrorCode.toolFailed, `cancelled before "${DELETE_STEP_LABELS[action.kind]}"`);
    const id = steps[i]!.id;
    steps = setStep(steps, id, "running", new Date().toISOString());
    report();
    try {
      const done = await undo(t, action);
      steps = appendStepLog(setStep(steps, id, done ? "succeeded" : "skipped", new Date().toISOString()), id, [done ?? "nothing to do"]);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      steps = appendStepLog(setStep(steps, id, "failed", new Date().toISOString()), id, [message]);
      report();
      throw new AgentError(e instanceof AgentError ? e.code : AgentErrorCode.toolFailed, `${DELETE_STEP_LABELS[action.kind]} failed: ${message}`);
    }
    report();
  }
  return { kind: "delete", steps, kept: params.kept };
}

/** One undo action, idempotent: what it did in words, or null when there was nothing to do. */
async function undo(t: ProvisionTools, action: CleanupAction): Promise<string | null> {
  switch (action.kind) {
    case "destroy-domain": {
      const uuid = await domainUuid(t.virsh, action.name);
      if (!uuid) return null;
      const state = (await t.virsh.run(["domstate", "--", uuid])).trim();
      if (state === "shut off") return null;
      await t.virsh.run(virshDestroyArgs(uuid));
      return `forced off ${action.name}`;
    }
    case "undefine-domain": {
      const uuid = await domainUuid(t.virsh, action.name);
      if (!uuid) return null;
      await t.virsh.run(virshUndefineArgs(uuid));
      return `undefined ${action.name}`;
    }
    case "release-network": {
      if (!t.ovsVsctl) return null;
      const stillUsed = (await t.domains()).some((d) => d.nics.some((n) => n.bridge === action.bridge && n.vlan === action.vlan));
      if (stillUsed) return null;
      const ports = linesOf(await t.ovsVsctl.run(["list-ports", action.bridge])).filter((p) => p === `vx${action.vni}` || p.startsWith(`vx${action.vni}-`));
      for (const p of ports) await t.ovsVsctl.run(["--if-exists", "del-port", action.bridge, p]);
      const untrunked = await untrunkVlan(t.ovsVsctl, action.bridge, action.vlan);
      const done = [
        ...(ports.length ? [`removed VNI ${action.vni} from ${action.bridge}`] : []),
        ...untrunked.map((p) => `removed VLAN ${action.vlan} from the trunk of ${p}`),
      ];
      return done.length ? done.join(", ") : null;
    }
    case "remove-volume": {
      if (!(await exists(action.path))) return null;
      await rm(action.path, { force: true });
      return `removed ${action.path}`;
    }
  }
}

/** Port names (IFNAMSIZ: 15) and remote endpoints: one point-to-point port per peer, or one flow-based port for the first host of a VNI. */
export function vxlanPorts(vni: number, peers: readonly string[]): [string, string][] {
  if (!peers.length) return [[`vx${vni}`, "flow"]];
  return peers.map((address, i) => [`vx${vni}-${i}`.slice(0, 15), address]);
}

/** `virsh domiflist`: interface, type, source, model, MAC per line after the header. */
export function parseDomiflist(text: string): { device: string; source: string; mac: string }[] {
  return linesOf(text)
    .slice(2)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^[A-Za-z0-9_.-]{1,15}$/.test(f[0]!) && f[0] !== "-")
    .map((f) => ({ device: f[0]!, source: f[2]!, mac: f[4]!.toLowerCase() }));
}

/**
 * The first complete entry (flag ATF_COM, 0x2) of /proc/net/arp for one of `macs`: IP address,
 * HW type, Flags, HW address, Mask, Device per line after the header.
 */
export function arpAddress(table: string, macs: readonly string[]): { ip: string; mac: string; device: string } | null {
  const wanted = new Set(macs.map((m) => m.toLowerCase()).filter((m) => /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/.test(m)));
  for (const line of linesOf(table).slice(1)) {
    const [ip, , flags, mac, , device] = line.trim().split(/\s+/);
    if (!ip || !flags || !mac || !device || !/^\d{1,3}(?:\.\d{1,3}){3}$/.test(ip)) continue;
    if ((Number.parseInt(flags, 16) & 0x2) === 0) continue;
    if (wanted.has(mac.toLowerCase())) return { ip, mac: mac.toLowerCase(), device: device.slice(0, 15) };
  }
  return null;
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** A pause a cancel ends at once. Its abort listener goes when the pause ends: a wait loop added one every 2 s to the job's signal. */
export function cancellableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("cancelled"));
    const onAbort = () => (clearTimeout(timer), reject(new Error("cancelled")));
    const timer = setTimeout(() => (signal.removeEventListener("abort", onAbort), resolve()), ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
