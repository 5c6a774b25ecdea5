import { readFile } from "node:fs/promises";
import { z } from "zod";
import { Capability } from "@nimbus/domain";
import { AgentError, unparseable } from "../errors.js";
import { AgentErrorCode } from "@nimbus/domain";

/**
 * The agent's own config file, `/etc/nimbus/agent.json` (or `--config PATH`). Every field is
 * optional: on an ordinary host the defaults (tools on PATH, system daemons) are right. The real
 * lab runs each daemon with its own socket inside a namespace, so it points tools at them here.
 * Documented in packages/agent/README.md.
 */
const toolConfig = (path: string) =>
  z
    .object({
      /** Executable (name on PATH or absolute path). */
      path: z.string().min(1).default(path),
      /** Arguments put before every call, e.g. ["-c", "qemu:///system"] or ["-H", "unix:///run/d1.sock"]. */
      args: z.array(z.string()).default([]),
      /** Extra environment, e.g. { "OVS_RUNDIR": "/run/lab/ovs-kvm1" }. */
      env: z.record(z.string(), z.string()).default({}),
    })
    .prefault({});
export type ToolConfig = z.infer<ReturnType<typeof toolConfig>>;

export const AgentConfig = z.object({
  /** Name reported in hello; default os.hostname(). Lab hosts share one kernel's hostname. */
  hostname: z.string().min(1).optional(),
  /** Capabilities to enable; default: probe which tools answer. */
  capabilities: z.array(Capability).optional(),
  tools: z
    .object({
      virsh: toolConfig("virsh"),
      ip: toolConfig("ip"),
      bridge: toolConfig("bridge"),
      ovsVsctl: toolConfig("ovs-vsctl"),
      ovsdbClient: toolConfig("ovsdb-client"),
      docker: toolConfig("docker"),
      showmount: toolConfig("showmount"),
      rpcinfo: toolConfig("rpcinfo"),
      df: toolConfig("df"),
      /** Disk moves of VMs that are off (convert, compare) and image facts (info). */
      qemuImg: toolConfig("qemu-img"),
      /** Builds each new instance's volume from the datastore's template repository. */
      virtBuilder: toolConfig("virt-builder"),
    })
    .prefault({}),
  virt: z
    .object({
      /**
       * Pass --unsafe to virsh migrate. Only for a lab whose hypervisors see the disk path
       * without shared storage that libvirt recognises; never on a real cloud.
       */
      allowUnsafeMigration: z.boolean().default(false),
      /** How often domjobinfo is sampled while a migration runs. */
      progressIntervalMs: z.number().int().min(100).default(500),
      /** Give up on a migration after this long (the job is aborted). */
      migrationTimeoutMs: z.number().int().positive().default(30 * 60_000),
      /**
       * Domain type of new instances: kvm, qemu (software emulation, for nested hosts where KVM
       * cannot run a stock guest kernel), or auto (kvm when /dev/kvm exists).
       */
      domainType: z.enum(["auto", "kvm", "qemu"]).default("auto"),
    })
    .prefault({}),
  net: z
    .object({
      /** Used only when no event tool (ip monitor, ovsdb-client monitor) is available. */
      fallbackIntervalMs: z.number().int().min(1000).default(30_000),
    })
    .prefault({}),
  swarm: z
    .object({
      scaleTimeoutMs: z.number().int().positive().default(5 * 60_000),
      /** How often `docker service ls` is sampled while a scale job converges. */
      scalePollMs: z.number().int().min(100).default(1000),
      /** How often a stack deploy or remove samples `docker stack services/ps` while it follows the stack. */
      stackPollMs: z.number().int().min(100).default(1000),
      /** `docker stack deploy --resolve-image`: "never" by default (nodes use their own images, or pull by tag themselves). */
      stackResolveImage: z.enum(["always", "changed", "never"]).default("never"),
    })
    .prefault({}),
  storage: z
    .object({
      /** Host showmount/rpcinfo ask; the NFS server runs on this host. */
      nfsHost: z.string().default("127.0.0.1"),
      /** Exports as clients mount them, with the local directory df measures. */
      exports: z.array(z.object({ path: z.string().min(1), localPath: z.string().min(1).optional() })).default([]),
      /** The floating address keepalived moves between the storage servers. */
      vip: z.string().optional(),
      /** File a keepalived notify script writes MASTER/BACKUP/FAULT into. */
      keepalivedStateFile: z.string().optional(),
      /** Mount points to report as shared storage whatever their filesystem type (see SHARED_FSTYPES). */
      sharedMounts: z.array(z.string().startsWith("/")).default([]),
      /** df and VIP ownership have no events; they are re-read this often. */
      pollIntervalMs: z.number().int().min(1000).default(15_000),
    })
    .prefault({}),
  daemon: z
    .object({
      /**
       * Where the agent daemon's socket and log live (a directory private to the agent's user);
       * default ~/.nimbus/run. The daemon keeps jobs running when the server's link drops.
       */
      runDir: z.string().startsWith("/").optional(),
      /** How long an idle daemon (no server connected, no job running) waits before it ends. */
      lingerMs: z.number().int().min(0).default(10 * 60_000),
    })
    .prefault({}),
  node: z
    .object({
      procRoot: z.string().default("/proc"),
      osReleasePath: z.string().default("/etc/os-release"),
      diskPath: z.string().default("/"),
      sampleIntervalMs: z.number().int().min(500).default(5000),
    })
    .prefault({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;

export const DEFAULT_CONFIG_PATH = "/etc/nimbus/agent.json";

export const parseAgentConfig = (raw: unknown, source: string): AgentConfig => {
  const res = AgentConfig.safeParse(raw);
  if (!res.success) {
    const issues = res.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new AgentError(AgentErrorCode.invalidParams, `agent config ${source} is invalid: ${issues}`);
  }
  return res.data;
};

/** Reads the config; a missing default file means "all defaults", a missing explicit one is an error. */
export async function loadAgentConfig(path: string | undefined): Promise<AgentConfig> {
  const file = path ?? DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if (!path && (e as NodeJS.ErrnoException).code === "ENOENT") return parseAgentConfig({}, "(defaults)");
    throw new AgentError(AgentErrorCode.invalidParams, `agent config ${file} cannot be read: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw unparseable(file, "not JSON", text);
  }
  return parseAgentConfig(raw, file);
}
