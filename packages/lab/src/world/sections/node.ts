import type { NodeFacts } from "@nimbus/domain";
import type { World } from "../world.js";

const HOST_BASE_MEMORY_MIB = 2_048;
const GUEST_BASE_MEMORY_MIB = 600;
const TASK_MEMORY_MIB = 160;
const GUEST_CPU_MODEL = "QEMU Virtual CPU version 2.5+";

/** `NodeFacts` of one lab host; memory used follows running VMs (hypervisors) or tasks (swarm VMs). */
export function nodeFacts(world: World, name: string): NodeFacts {
  const h = world.host(name);
  const common = {
    hostname: name,
    os: world.scenario.os.name,
    kernel: world.scenario.os.kernel,
    cpuUsagePct: h.cpuUsagePct,
    uptimeSeconds: Math.max(0, Math.floor((Date.now() - h.bootedAt) / 1000)),
  };
  if (h.kind === "hypervisor") {
    const hv = world.hypervisor(name);
    const vmMiB = [...hv.domains.values()].filter((d) => d.state === "running" || d.state === "paused").reduce((s, d) => s + d.spec.memoryMiB, 0);
    return {
      ...common,
      cpuModel: hv.hardware.cpuModel,
      cpuFeatures: hv.hardware.cpuFeatures,
      cpuCount: hv.hardware.cpuCount,
      memoryTotalMiB: hv.hardware.memoryMiB,
      memoryUsedMiB: Math.min(hv.hardware.memoryMiB, HOST_BASE_MEMORY_MIB + vmMiB),
      diskTotalBytes: hv.hardware.diskBytes,
      diskUsedBytes: Math.round(hv.hardware.diskBytes * 0.18),
    };
  }
  if (h.kind === "storage") {
    const s = world.nfs.servers.find((x) => x.name === name)!;
    return {
      ...common,
      cpuModel: s.hardware.cpuModel,
      cpuFeatures: s.hardware.cpuFeatures,
      cpuCount: s.hardware.cpuCount,
      memoryTotalMiB: s.hardware.memoryMiB,
      // nfs-ganesha caches: most of the RAM is in use on a busy file server.
      memoryUsedMiB: Math.round(s.hardware.memoryMiB * (s.nfsRunning ? 0.62 : 0.08)),
      diskTotalBytes: s.hardware.diskBytes,
      diskUsedBytes: Math.round(s.hardware.diskBytes * 0.12),
    };
  }
  const vm = world.vms.get(name);
  // A swarm VM torn down (swarm-lifecycle.ts) answers nothing; a push already on its way says it has nothing.
  if (!vm) return { ...common, cpuModel: GUEST_CPU_MODEL, cpuFeatures: [], cpuCount: 1, memoryTotalMiB: 1, memoryUsedMiB: 0, diskTotalBytes: 0, diskUsedBytes: 0 };
  const tasks = world.swarm?.tasks.filter((t) => t.node === name && (t.state === "running" || t.state === "starting")).length ?? 0;
  const diskBytes = vm.spec.diskGiB * 1024 ** 3;
  return {
    ...common,
    cpuModel: GUEST_CPU_MODEL,
    cpuFeatures: [],
    cpuCount: vm.spec.vcpus,
    memoryTotalMiB: vm.spec.memoryMiB,
    memoryUsedMiB: Math.min(vm.spec.memoryMiB, GUEST_BASE_MEMORY_MIB + tasks * TASK_MEMORY_MIB),
    diskTotalBytes: diskBytes,
    diskUsedBytes: Math.round(diskBytes * 0.35),
  };
}
