import { describeDriverContract } from "@nimbus/agent/contract";
import { simDriversFor } from "../src/drivers.js";
import { placesOf, testWorld } from "./helpers.js";

/**
 * The driver contract the real drivers are held to (packages/agent/test/contract), run against
 * the simulated drivers of the lab, so the simulator cannot drift from what real hosts do.
 */
const world = testWorld();
const drivers = (host: string) => async () => ({ ...simDriversFor(world, host), cleanup: async () => {} });
const toKvm2 = { host: "kvm2", uri: "qemu+ssh://kvm2/system" };

describeDriverContract("lab kvm1 (simulated hypervisor)", drivers("kvm1"), {
  sections: ["virt", "net", "storage"],
  stats: true,
  virt: {
    power: { domain: "globex-app1", stop: "destroy" },
    console: { running: "initech-ci", stopped: "initech-legacy" },
    cancel: { domain: "acme-web1", destination: toKvm2, options: { bandwidthMiBps: 1 } },
    // nfs1 runs no libvirtd: like a destination whose libvirtd is down.
    failing: { domain: "acme-web1", destination: { host: "nfs1", uri: "qemu+ssh://nfs1/system" } },
    success: {
      domain: "acme-web1",
      destination: toKvm2,
      onDestination: async (vm) => placesOf(world, vm).some((p) => p.host === "kvm2" && p.state === "running"),
    },
  },
});
describeDriverContract("lab manager (simulated swarm manager)", drivers("manager"), {
  sections: ["net", "swarm"],
  swarm: { scale: { service: "web", replicas: 4 } },
});
describeDriverContract("lab worker1 (simulated swarm worker)", drivers("worker1"), { sections: ["net", "swarm"], stats: true });
describeDriverContract("lab nfs1 (simulated NFS server)", drivers("nfs1"), { sections: ["net", "storage"], stats: true });
