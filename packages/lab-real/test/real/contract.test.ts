import { describeDriverContract, type ContractDrivers } from "@nimbus/agent/contract";
import { docker } from "../../src/docker.js";
import { virsh } from "../../src/libvirt.js";
import { mgmtAddress, nodeByName, swarmManager } from "../../src/topology.js";
import { domainState, ensureVmOn, openLab } from "./helpers.js";
import { driversInsideNode } from "./inside-node.js";

/**
 * The agent's driver contract, run against the real drivers and the real daemons of the lab
 * (in this process, every tool entered into the node's namespaces: see inside-node.ts).
 */

async function realDrivers(node: string, cleanup: () => Promise<void> = async () => undefined): Promise<ContractDrivers> {
  const lab = await openLab();
  // The migration cases start from kvm1; an earlier suite may have left the VM elsewhere.
  if (node === "kvm1") await ensureVmOn(lab, "acme-web1", "kvm1", "kvm2");
  const drivers = await driversInsideNode(lab, node, () => undefined);
  return { ...drivers, cleanup };
}

const kvm2Uri = `qemu+tcp://${mgmtAddress(nodeByName("kvm2"))}/system`;

describeDriverContract(
  "real kvm1 (libvirt + OVS)",
  () =>
    realDrivers("kvm1", async () => {
      const lab = await openLab();
      await ensureVmOn(lab, "acme-web1", "kvm1", "kvm2");
      if ((await domainState(lab, "kvm1", "globex-db1")) !== "running") await virsh(await lab.exec("kvm1"), ["start", "globex-db1"]);
    }),
  {
    sections: ["virt", "net", "storage"],
    timeoutMs: 120_000,
    virt: {
      power: { domain: "globex-db1", stop: "destroy" },
      cancel: { domain: "acme-web1", destination: { host: "kvm2", uri: kvm2Uri }, options: { bandwidthMiBps: 1 } },
      // swarm1 runs no libvirtd: the connection is refused, as with a dead destination.
      failing: { domain: "acme-web1", destination: { host: "swarm1", uri: `qemu+tcp://${mgmtAddress(swarmManager())}/system` } },
      success: {
        domain: "acme-web1",
        destination: { host: "kvm2", uri: kvm2Uri },
        onDestination: async (domain) => (await domainState(await openLab(), "kvm2", domain)) === "running",
      },
    },
  },
);

describeDriverContract(
  "real swarm1 (docker swarm manager)",
  () =>
    realDrivers("swarm1", async () => {
      const lab = await openLab();
      await docker(await lab.exec("swarm1"), ["service", "scale", "--detach", "initech-worker=3"]);
    }),
  { sections: ["net", "swarm"], timeoutMs: 120_000, swarm: { scale: { service: "initech-worker", replicas: 4 } } },
);

describeDriverContract("real swarm2 (docker swarm worker)", () => realDrivers("swarm2"), { sections: ["net", "swarm"], timeoutMs: 60_000 });
describeDriverContract("real nfs1 (nfs-ganesha + keepalived)", () => realDrivers("nfs1"), { sections: ["net", "storage"], timeoutMs: 60_000 });
