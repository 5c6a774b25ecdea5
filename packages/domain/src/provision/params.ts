import { z } from "zod";
import { DomainName, HostName, TenantSlug, VlanId, Vni } from "../names.js";
import { NimbusError } from "../errors.js";
import { HostFilePath, ImageName, OsinfoId, imageRepositoryIndex, type ImageEntry } from "./image.js";
import type { PlacementCandidate } from "./placement.js";
import { BridgeName, CreateInstanceRequest, FIRST_BOOT_MAX_COMMANDS, FirstBootCommand, InstanceName, SSH_MAX_KEYS, firstIssue } from "./request.js";
import { SshPublicKey } from "./ssh-key.js";
import type { CleanupAction } from "./steps.js";

/**
 * What the server sends the chosen host's agent to create an instance (a job named by the
 * operation id). The agent parses it with this same schema before it builds any command line,
 * so a bug or a compromised server still cannot hand a tool an option or a second line.
 */
const WiringActionSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("vxlan"),
    bridge: BridgeName,
    vni: Vni,
    vlan: VlanId,
    peers: z.array(z.object({ host: HostName, address: z.string().regex(/^[0-9A-Fa-f.:]{2,45}$/, "a tunnel peer is an IP address") })).max(4096),
  }),
  z.object({ kind: z.literal("port-vlan"), bridge: BridgeName, vlan: VlanId }),
]);

export const CreateInstanceParams = z.object({
  jobId: z.string().min(1).max(64),
  name: InstanceName,
  tenant: TenantSlug.nullable(),
  image: z.object({ name: ImageName, os: OsinfoId, repositoryIndex: HostFilePath }),
  /** The new volume on the datastore's mount; the agent refuses to build over an existing file. */
  volumePath: HostFilePath.refine((p) => p.endsWith(".qcow2"), "the volume is a .qcow2 file"),
  vcpus: CreateInstanceRequest.shape.vcpus,
  memoryMiB: CreateInstanceRequest.shape.memoryMiB,
  diskGiB: CreateInstanceRequest.shape.diskGiB,
  nic: z.object({ bridge: BridgeName, bridgeType: z.enum(["linux", "ovs"]), vlan: VlanId }),
  wiring: z.array(WiringActionSchema).max(8),
  sshKeys: z.array(SshPublicKey).max(SSH_MAX_KEYS),
  firstBoot: z.array(FirstBootCommand).max(FIRST_BOOT_MAX_COMMANDS),
});
export type CreateInstanceParams = z.infer<typeof CreateInstanceParams>;

/** The job for the host placement chose. The volume is named after the instance, at the root of the datastore's mount (as the lab's disks are). */
export function createInstanceParams(
  jobId: string,
  request: CreateInstanceRequest,
  image: Pick<ImageEntry, "name" | "os">,
  chosen: Pick<PlacementCandidate, "mountTarget" | "bridge" | "wiring">,
): CreateInstanceParams {
  if (!chosen.mountTarget || !chosen.bridge) throw new NimbusError("PRECONDITION_FAILED", "the chosen host has no mount of the image's datastore or no bridge");
  const root = chosen.mountTarget.replace(/\/+$/, "");
  const params = CreateInstanceParams.safeParse({
    jobId,
    name: request.name,
    tenant: request.tenant,
    image: { name: image.name, os: image.os, repositoryIndex: imageRepositoryIndex(root) },
    volumePath: `${root}/${request.name}.qcow2`,
    vcpus: request.vcpus,
    memoryMiB: request.memoryMiB,
    diskGiB: request.diskGiB,
    nic: { bridge: chosen.bridge.name, bridgeType: chosen.bridge.type, vlan: request.network.vlan },
    wiring: chosen.wiring,
    sshKeys: request.sshKeys,
    firstBoot: request.firstBoot,
  });
  // The mount target comes from the host's report: a path tools cannot take safely stops here.
  if (!params.success) throw new NimbusError("PRECONDITION_FAILED", `cannot create ${request.name} there: ${firstIssue(params.error)}`);
  return params.data;
}

/** An undo action as the server sends it (a delete's plan); the agent parses it like a create's params. */
export const CleanupActionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("destroy-domain"), name: DomainName, description: z.string().max(512) }),
  z.object({ kind: z.literal("undefine-domain"), name: DomainName, description: z.string().max(512) }),
  z.object({
    kind: z.literal("release-network"),
    tenant: TenantSlug.nullable(),
    bridge: BridgeName,
    vni: Vni,
    vlan: VlanId,
    description: z.string().max(512),
  }),
  z.object({ kind: z.literal("remove-volume"), path: HostFilePath, description: z.string().max(512) }),
]);
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const _cleanupActionShape: SameShape<z.infer<typeof CleanupActionSchema>, CleanupAction> = true;
void _cleanupActionShape;

/** The delete job: deletePlan's actions for the domain as the server saw it; the agent runs them in order, each idempotent. */
export const DeleteInstanceParams = z.object({
  jobId: z.string().min(1).max(64),
  name: DomainName,
  actions: z.array(CleanupActionSchema).min(1).max(64),
  kept: z.array(z.string().max(1024)).max(64).default([]),
});
export type DeleteInstanceParams = z.infer<typeof DeleteInstanceParams>;

/**
 * `net.ensureTunnel` / `net.releaseTunnel`: the reverse direction of a new host's tunnels. A
 * host that joins a VNI adds ports to its peers; each peer is then asked for a port back to it,
 * else point-to-point tunnels carry one direction only and the mesh is incomplete.
 */
export const TunnelParams = z.object({
  bridge: BridgeName,
  vni: Vni,
  vlan: VlanId,
  remoteIp: z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, "a tunnel remote is an IPv4 address"),
});
export type TunnelParams = z.infer<typeof TunnelParams>;
export const TunnelResult = z.object({ port: z.string().max(64).nullable(), changed: z.boolean() });
export type TunnelResult = z.infer<typeof TunnelResult>;
