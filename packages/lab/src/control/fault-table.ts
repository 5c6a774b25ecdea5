import { z } from "zod";
import type { LabFaults } from "../faults.js";

/**
 * Every fault by its command name, with its arguments: one table for the HTTP control endpoint
 * and the CLI, so both accept exactly the same faults. Arguments arrive as strings from the
 * command line and as JSON over HTTP; numbers are coerced either way.
 */
const host = z.string().min(1);
const num = z.coerce.number();

interface FaultSpec<A extends z.ZodTuple = z.ZodTuple> {
  args: A;
  usage: string;
  describe: string;
  run: (faults: LabFaults, args: z.infer<A>) => void | Promise<void>;
}
const spec = <A extends z.ZodTuple>(s: FaultSpec<A>) => s as unknown as FaultSpec;

export const FAULTS: Record<string, FaultSpec> = {
  "stop-host": spec({ args: z.tuple([host]), usage: "HOST", describe: "power a host off (VMs on a hypervisor stop)", run: (f, [h]) => f.stopHost(h) }),
  "start-host": spec({ args: z.tuple([host]), usage: "HOST", describe: "power a host on again", run: (f, [h]) => f.startHost(h) }),
  "cut-link": spec({
    args: z.tuple([host]).rest(num),
    usage: "HOST [FOR_MS]",
    describe: "drop a host's SSH connections and leave new ones unanswered (for FOR_MS lab ms, or until restore-link)",
    run: (f, [h, forMs]) => f.cutLink(h, forMs),
  }),
  "restore-link": spec({ args: z.tuple([host]), usage: "HOST", describe: "undo cut-link", run: (f, [h]) => f.restoreLink(h) }),
  "change-host-key": spec({ args: z.tuple([host]), usage: "HOST", describe: "give a host a new SSH host key", run: (f, [h]) => f.changeHostKey(h) }),
  "restore-host-key": spec({ args: z.tuple([host]), usage: "HOST", describe: "give a host its original host key back", run: (f, [h]) => f.restoreHostKey(h) }),
  "fail-nfs-primary": spec({ args: z.tuple([]), usage: "", describe: "stop the primary NFS server's daemon (VIP moves to the backup)", run: (f) => f.failNfsPrimary() }),
  "restore-nfs-primary": spec({ args: z.tuple([]), usage: "", describe: "start it again (VIP moves back)", run: (f) => f.restoreNfsPrimary() }),
  "fill-datastore": spec({ args: z.tuple([z.string().startsWith("/"), num]), usage: "PATH PERCENT", describe: "set a datastore's usage", run: (f, [p, pct]) => f.fillDatastore(p, pct) }),
  "restore-datastore": spec({ args: z.tuple([z.string().startsWith("/")]), usage: "PATH", describe: "back to the scenario's usage", run: (f, [p]) => f.restoreDatastore(p) }),
  "break-datastore": spec({ args: z.tuple([z.string().startsWith("/")]), usage: "PATH", describe: "make a datastore return I/O errors (disk copies to/from it fail)", run: (f, [p]) => f.breakDatastore(p) }),
  "repair-datastore": spec({ args: z.tuple([z.string().startsWith("/")]), usage: "PATH", describe: "undo break-datastore", run: (f, [p]) => f.repairDatastore(p) }),
  "unmount-datastore": spec({ args: z.tuple([host, z.string().startsWith("/")]), usage: "HOST PATH", describe: "a hypervisor loses its mount of a datastore (no migration or disk move there)", run: (f, [h, p]) => f.unmountDatastore(h, p) }),
  "mount-datastore": spec({ args: z.tuple([host, z.string().startsWith("/")]), usage: "HOST PATH", describe: "mount it again", run: (f, [h, p]) => f.mountDatastore(h, p) }),
  "fail-image-build": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "virt-builder fails on an image (creates from it fail at 'Build the volume' and clean up); images.build of that recipe fails at mmdebstrap", run: (f, [i]) => f.failImageBuild(i) }),
  "restore-image-build": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "undo fail-image-build", run: (f, [i]) => f.restoreImageBuild(i) }),
  "fail-image-import": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "imports of an image name fail their checksum (the image-import operation fails at Verify; the catalog stays as it was)", run: (f, [i]) => f.failImageImport(i) }),
  "fail-stack-deploy": spec({ args: z.tuple([z.string().min(1)]), usage: "STACK", describe: "docker refuses deploys of a stack (the stack-deploy operation fails at its deploy step)", run: (f, [s]) => f.failStackDeploy(s) }),
  "remove-node-image": spec({ args: z.tuple([z.string().min(1), z.string().min(1)]), usage: "NODE IMAGE", describe: "an image disappears from a swarm node (tasks placed there are rejected: No such image)", run: (f, [n, i]) => f.removeNodeImage(n, i) }),
  "restore-node-image": spec({ args: z.tuple([z.string().min(1), z.string().min(1)]), usage: "NODE IMAGE", describe: "undo remove-node-image", run: (f, [n, i]) => f.restoreNodeImage(n, i) }),
  "restore-stack-deploy": spec({ args: z.tuple([z.string().min(1)]), usage: "STACK", describe: "undo fail-stack-deploy", run: (f, [s]) => f.restoreStackDeploy(s) }),
  "restore-image-import": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "undo fail-image-import", run: (f, [i]) => f.restoreImageImport(i) }),
  "stop-libvirtd": spec({ args: z.tuple([host]), usage: "HOST", describe: "stop libvirtd on a hypervisor (migrations to/from it fail)", run: (f, [h]) => f.stopLibvirtd(h) }),
  "start-libvirtd": spec({ args: z.tuple([host]), usage: "HOST", describe: "start libvirtd again", run: (f, [h]) => f.startLibvirtd(h) }),
  "swarm-node-down": spec({ args: z.tuple([host]), usage: "NODE", describe: "stop dockerd on a swarm node (its tasks move elsewhere)", run: (f, [n]) => f.swarmNodeDown(n) }),
  "swarm-node-up": spec({ args: z.tuple([host]), usage: "NODE", describe: "start dockerd again", run: (f, [n]) => f.swarmNodeUp(n) }),
  "hold-service-update": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "updates to an image hold after their first new task, in progress until cancelled (the rollback runs) or released", run: (f, [i]) => f.holdServiceUpdate(i) }),
  "release-service-update": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "undo hold-service-update (a held update goes on)", run: (f, [i]) => f.releaseServiceUpdate(i) }),
  "block-port": spec({ args: z.tuple([host, z.string().min(1)]), usage: "NODE PORT/PROTO", describe: "block a swarm port on a node, e.g. 7946/tcp or 4789/udp (the nodes' port checks report it)", run: (f, [n, p]) => f.blockPort(n, p) }),
  "unblock-port": spec({ args: z.tuple([host, z.string().min(1)]), usage: "NODE PORT/PROTO", describe: "undo block-port", run: (f, [n, p]) => f.unblockPort(n, p) }),
  "fail-service-image": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "tasks of an image are rejected (No such image): a service update to it pauses", run: (f, [i]) => f.failServiceImage(i) }),
  "restore-service-image": spec({ args: z.tuple([z.string().min(1)]), usage: "IMAGE", describe: "undo fail-service-image", run: (f, [i]) => f.restoreServiceImage(i) }),
  "stuck-swarm-join": spec({ args: z.tuple([host]), usage: "VM|all", describe: "a VM that joins the swarm never becomes Ready (add-worker times out and deletes it)", run: (f, [n]) => f.stuckSwarmJoin(n) }),
  "unstick-swarm-join": spec({ args: z.tuple([host]), usage: "VM|all", describe: "undo stuck-swarm-join", run: (f, [n]) => f.unstickSwarmJoin(n) }),
  "swarm-teardown": spec({ args: z.tuple([]), usage: "", describe: "take the swarm apart: nodes leave, its VMs are deleted (their hosts go unreachable); Create swarm builds one again", run: (f) => f.swarmTeardown() }),
  "swarm-restore": spec({ args: z.tuple([]), usage: "", describe: "undo swarm-teardown: the original swarm and its VMs back (a swarm built meanwhile goes)", run: (f) => f.swarmRestore() }),
  "swarm-nodes-full": spec({ args: z.tuple([host]), usage: "NODE|all", describe: "swarm nodes have no room for another task (new tasks stay pending; a worker added later has room)", run: (f, [n]) => f.fillSwarmNodes(n) }),
  "swarm-nodes-room": spec({ args: z.tuple([host]), usage: "NODE|all", describe: "undo swarm-nodes-full", run: (f, [n]) => f.roomOnSwarmNodes(n) }),
  "break-tunnel": spec({ args: z.tuple([host, num]), usage: "HOST VNI", describe: "remove a VNI's OVS VXLAN port(s) on one hypervisor", run: (f, [h, v]) => f.breakTunnel(h, v) }),
  "repair-tunnel": spec({ args: z.tuple([host, num]), usage: "HOST VNI", describe: "put them back", run: (f, [h, v]) => f.repairTunnel(h, v) }),
  "remove-vlan": spec({ args: z.tuple([host, num]), usage: "HOST VLAN", describe: "stop carrying a VLAN on a hypervisor's OVS trunk", run: (f, [h, v]) => f.removeVlan(h, v) }),
  "restore-vlan": spec({ args: z.tuple([host, num]), usage: "HOST VLAN", describe: "carry it again", run: (f, [h, v]) => f.restoreVlan(h, v) }),
  "set-mtu": spec({ args: z.tuple([host, z.string().min(1), num]), usage: "HOST IFACE MTU", describe: "change an interface's MTU on a hypervisor", run: (f, [h, i, m]) => f.setMtu(h, i, m) }),
  "restore-mtu": spec({ args: z.tuple([host, z.string().min(1)]), usage: "HOST IFACE", describe: "back to the original MTU", run: (f, [h, i]) => f.restoreMtu(h, i) }),
  "lb-backend-down": spec({ args: z.tuple([host]), usage: "HOST", describe: "a node's published ports refuse connections (load balancers take it out after `fall` checks)", run: (f, [h]) => f.backendDown(h) }),
  "lb-backend-up": spec({ args: z.tuple([host]), usage: "HOST", describe: "undo lb-backend-down (back in rotation after `rise` checks)", run: (f, [h]) => f.backendUp(h) }),
  "rename-vm": spec({ args: z.tuple([z.string().min(1), z.string().min(1)]), usage: "VM NEW_NAME", describe: "rename a shut-off VM (virsh domrename), e.g. to a name with non-ASCII letters", run: (f, [from, to]) => f.renameVm(from, to) }),
  "power-vm": spec({
    args: z.tuple([z.string().min(1), z.enum(["on", "off"])]),
    usage: "VM on|off",
    describe: "a VM starts or stops on its host outside the console (virsh on the host; no agent job)",
    run: (f, [vm, p]) => f.powerVm(vm, p),
  }),
  "lb-requests": spec({
    args: z.tuple([host, z.string().min(1), num]),
    usage: "HOST LB COUNT",
    describe: "send COUNT requests through load balancer LB on HOST (round robin over its servers UP)",
    run: (f, [h, lb, n]) => f.lbRequests(h, lb, n),
  }),
  "fail-service-health": spec({ args: z.tuple([z.string().min(1)]), usage: "SERVICE", describe: "make a swarm service's health checks fail", run: (f, [s]) => f.failServiceHealth(s) }),
  "restore-service-health": spec({ args: z.tuple([z.string().min(1)]), usage: "SERVICE", describe: "make them pass again", run: (f, [s]) => f.restoreServiceHealth(s) }),
};

export class FaultUsageError extends Error {}

/** Validates the arguments of a named fault and applies it. */
export async function applyFault(faults: LabFaults, name: string, args: readonly unknown[]): Promise<void> {
  // Own keys only: `constructor` or `toString` must be an unknown fault, not Object.prototype's.
  const fault = Object.hasOwn(FAULTS, name) ? FAULTS[name] : undefined;
  if (!fault) throw new FaultUsageError(`unknown fault "${name}" (faults: ${Object.keys(FAULTS).join(", ")})`);
  const parsed = fault.args.safeParse(args);
  if (!parsed.success) throw new FaultUsageError(`usage: fault ${name} ${fault.usage}`.trim());
  await fault.run(faults, parsed.data);
}
