import { AgentError, meaningfulChange, type AgentDrivers, type SectionSource } from "@nimbus/agent";
import { AgentErrorCode, type NodeFacts, type SectionName } from "@nimbus/domain";
import { buildImage, deleteImage, importImage, importImageJob } from "./world/images.js";
import { migrateDomain } from "./world/migration.js";
import { powerDomain } from "./world/power.js";
import { createSnapshot, deleteSnapshot, listSnapshots, revertSnapshot } from "./world/snapshots.js";
import { labPreflight } from "./world/preflight.js";
import { labChecks } from "./world/checks.js";
import { LabHaproxyDriver } from "./world/haproxy.js";
import { labConsoleDriver } from "./world/console.js";
import { moveDisk } from "./world/storage-move.js";
import { createInstance, deleteInstance, labTunnel } from "./world/provision.js";
import { netSection } from "./world/sections/net.js";
import { nodeFacts } from "./world/sections/node.js";
import { storageSection } from "./world/sections/storage.js";
import { swarmSection } from "./world/sections/swarm.js";
import { labStacks } from "./world/swarm-stacks.js";
import { labSwarmNodes } from "./world/swarm-nodes.js";
import { labServiceLogs } from "./world/swarm-logs.js";
import { startLabPortChecks } from "./world/swarm-ports.js";
import { labStats } from "./world/stats.js";
import { labServiceUpdate } from "./world/swarm-services.js";
import { virtSection } from "./world/sections/virt.js";
import type { World } from "./world/world.js";

/**
 * The agent drivers of one lab host, reading the shared world. What a host has follows its
 * kind, as on real machines: hypervisors node+virt+net+storage (mounts), storage servers
 * node+net+storage (nfs), swarm VMs node+net+swarm.
 */
export function simDriversFor(world: World, host: string): AgentDrivers {
  const kind = world.host(host).kind;
  const source = <T>(section: SectionName, build: (w: World, h: string) => T): SectionSource<T> => ({
    snapshot: async () => build(world, host),
    watch: (onChange) => world.watch(host, section, onChange),
  });
  const drivers: AgentDrivers = { hostname: host, node: nodeSource(world, host), stats: labStats(world, host), net: source("net", netSection), checks: labChecks(world, host) };
  if (kind === "hypervisor") {
    drivers.net = {
      ...drivers.net!,
      ensureTunnel: async (params) => labTunnel(world, host, params, true),
      releaseTunnel: async (params) => labTunnel(world, host, params, false),
    };
    drivers.virt = {
      ...source("virt", virtSection),
      migrate: (params, ctx) => migrateDomain(world, host, params, ctx),
      power: (domain, action) => powerDomain(world, host, domain, action),
      preflight: async (params) => labPreflight(world, host, params),
      moveDisk: (params, ctx) => moveDisk(world, host, params, ctx),
      create: (params, ctx) => createInstance(world, host, params, ctx),
      delete: (params, ctx) => deleteInstance(world, host, params, ctx),
      console: labConsoleDriver(world, host),
      snapshots: {
        list: async (domain) => listSnapshots(world, host, domain),
        create: (params) => createSnapshot(world, host, params),
        revert: (params) => revertSnapshot(world, host, params),
        delete: (params) => deleteSnapshot(world, host, params),
      },
    };
    drivers.storage = source("storage", storageSection);
  }
  if (kind === "storage")
    drivers.storage = {
      ...source("storage", storageSection),
      imageRepository: {
        import: (req) => importImage(world, host, req),
        importJob: (params, ctx) => importImageJob(world, host, params, ctx),
        delete: async (req) => deleteImage(world, host, req),
        build: (params, ctx) => buildImage(world, host, params, ctx),
      },
    };
  if (kind === "swarm-vm") {
    // The swarm's VMs double as edge hosts: each has HAProxy installed.
    drivers.lb = new LabHaproxyDriver(world, host);
    startLabPortChecks(world);
    // Read at each call: the lab's swarm can be torn down and created again (swarm-teardown, create swarm).
    const asManager = () => {
      const node = world.swarm?.nodes.get(host);
      if (!node) throw new AgentError(AgentErrorCode.toolFailed, `docker on ${host}: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.`);
      if (!node.engineUp) throw new AgentError(AgentErrorCode.toolFailed, `docker on ${host}: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?`);
      if (node.role !== "manager")
        throw new AgentError(AgentErrorCode.toolFailed, `docker on ${host}: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state.`);
    };
    drivers.swarm = {
      ...source("swarm", swarmSection),
      scale: async (params, ctx) => {
        asManager();
        return world.swarmSim!.scale(params, ctx);
      },
      setAvailability: async (ref, availability) => {
        asManager();
        world.swarmSim!.setAvailability(ref, availability);
      },
      joinTokens: async () => {
        asManager();
        return { ...world.swarm!.tokens };
      },
      serviceUpdate: async (params, ctx) => {
        asManager();
        return labServiceUpdate(world, params, ctx as never) as never;
      },
      serviceRollback: async (params, ctx) => {
        asManager();
        return labServiceUpdate(world, params, ctx as never) as never;
      },
      logs: (params, sink) => {
        asManager();
        return labServiceLogs(world, params, sink);
      },
      stackDeploy: async (params, ctx) => {
        asManager();
        return labStacks(world).deploy(params, ctx);
      },
      stackRemove: async (params, ctx) => {
        asManager();
        return labStacks(world).remove(params, ctx);
      },
      nodes: labSwarmNodes(world, host, asManager),
    };
  }
  return drivers;
}

/**
 * Node facts reported the way the real node driver reports them: only a meaningful change (CPU
 * by 5 points, memory or disk by 1 %) is news. Without this, 2,000 simulated hosts would push
 * every CPU wobble, traffic no real fleet of Nimbus agents sends.
 */
function nodeSource(world: World, host: string): SectionSource<NodeFacts> {
  let reported: NodeFacts | null = null;
  return {
    snapshot: async () => (reported = nodeFacts(world, host)),
    watch: (onChange) =>
      world.watch(host, "node", () => {
        const now = nodeFacts(world, host);
        if (reported && !meaningfulChange(reported, now)) return;
        onChange();
      }),
  };
}
