import { join } from "node:path";

/**
 * Where everything of one lab lives on disk. Inside a node's mount namespace some of these
 * directories are bind-mounted over the standard paths (/etc/libvirt, /run/libvirt,
 * /home/nimbus, ...), so tools inside a node use their Debian defaults.
 */
export function layout(labDir: string, repoRoot: string) {
  const node = (name: string) => {
    const dir = join(labDir, "nodes", name);
    return {
      dir,
      bin: join(dir, "bin"),
      home: join(dir, "home"),
      etcNimbus: join(dir, "etc-nimbus"),
      agentConfig: join(dir, "etc-nimbus", "agent.json"),
      sshDir: join(dir, "ssh"),
      sshdConfig: join(dir, "ssh", "sshd_config"),
      hostKey: join(dir, "ssh", "ssh_host_ed25519_key"),
      logs: join(dir, "log"),
      log: (daemon: string) => join(dir, "log", `${daemon}.log`),
      libvirt: (sub: "etc" | "run" | "lib" | "log" | "cache") => join(dir, "libvirt", sub),
      ovsEtc: join(dir, "ovs-etc"),
      dockerRoot: join(dir, "docker"),
      keepalived: join(dir, "keepalived"),
      ganesha: join(dir, "ganesha"),
      ganeshaState: join(dir, "ganesha-state"),
      /** Unix socket the in-namespace relay listens on, for the root-namespace forwarder. */
      sshRelaySocket: join(labDir, "sock", `${name}.sock`),
    };
  };
  return {
    labDir,
    repoRoot,
    state: join(labDir, "state.json"),
    fleetConfig: join(labDir, "fleet.json"),
    pids: join(labDir, "pids"),
    sockets: join(labDir, "sock"),
    keys: join(labDir, "keys"),
    clientKey: join(labDir, "keys", "id_ed25519"),
    instance: join(labDir, "instance"),
    image: join(labDir, "image"),
    nodesDir: join(labDir, "nodes"),
    node,
    /** The built agent the fleet uploads to the nodes (`pnpm --filter @nimbus/agent build`). */
    agentDist: join(repoRoot, "packages/agent/dist"),
  };
}
export type Layout = ReturnType<typeof layout>;
export type NodeLayout = ReturnType<Layout["node"]>;

/**
 * Empty directories on the host that serve only as mount points inside node namespaces
 * (bind mounts need an existing target). Created by `up`, removed by `down` when empty.
 */
export const HOST_MOUNT_POINTS = ["/instance", "/etc/nimbus"] as const;
