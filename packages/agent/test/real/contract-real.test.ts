import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentConfig } from "../../src/real/config.js";
import { silentLog } from "../../src/real/log.js";
import { RealNetDriver } from "../../src/real/net.js";
import { RealNodeDriver } from "../../src/real/node.js";
import { RealStatsDriver } from "../../src/real/stats.js";
import { RealStorageDriver } from "../../src/real/storage.js";
import { Tool } from "../../src/real/tool.js";
import { RealVirtDriver } from "../../src/real/virt.js";
import { describeDriverContract } from "../contract/driver-contract.js";
import { createNetns } from "./netns.js";

// The shared driver contract against the real drivers on what this machine can run without the
// real lab: /proc, libvirt's test driver (reads and a refused migration), a namespace of real
// links, and an NFS datastore directory with no server running (a state, not an error).
describeDriverContract(
  "real drivers on local tools",
  async () => {
    const ns = createNetns("contract");
    ns.ip("link", "add", "br0", "type", "bridge");
    const dir = mkdtempSync(join(tmpdir(), "nimbus-agent-ds-"));
    const cfg = AgentConfig.parse({ storage: { exports: [{ path: "/instance", localPath: dir }], nfsHost: "127.0.0.1" } });
    const tool = (path: string, args: string[]) => new Tool(path, { path, args, env: {} });
    const net = new RealNetDriver("local-test", { ip: tool("ip", ["-n", ns.name]), bridge: tool("bridge", ["-n", ns.name]), ovsVsctl: null, ovsdbClient: null }, cfg.net, async () => [], silentLog);
    return {
      hostname: "local-test",
      node: new RealNodeDriver(cfg.node, "local-test"),
      virt: new RealVirtDriver("local-test", tool("virsh", ["-c", "test:///default"]), cfg.virt, silentLog, {
        qemuImg: tool("qemu-img", []),
        procRoot: "/proc",
        bridges: async () => (await net.snapshot()).bridges,
      }),
      net,
      stats: new RealStatsDriver({ ip: tool("ip", ["-n", ns.name]), virsh: tool("virsh", ["-c", "test:///default"]) }, "/proc"),
      storage: new RealStorageDriver({ showmount: tool("showmount", []), rpcinfo: tool("rpcinfo", []), df: tool("df", []), ip: tool("ip", ["-n", ns.name]) }, cfg.storage, "/proc", true),
      cleanup: async () => {
        ns.remove();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  // A destination that cannot be opened stands for "destination libvirtd down". (Migrating
  // test:///default into itself can hang inside virsh after earlier calls; it proves nothing more.)
  { sections: ["virt", "net", "storage"], stats: true, virt: { failing: { domain: "test", destination: { host: "kvm2", uri: "test:///nonexistent/nimbus-missing.xml" } } } },
);
