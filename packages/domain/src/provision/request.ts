import { z } from "zod";
import { DomainName, HostName, TenantSlug } from "../names.js";
import { ImageName } from "./image.js";
import { SshPublicKey } from "./ssh-key.js";

/**
 * What a create form sends. Every string that reaches a host is validated here: names are plain
 * identifiers (never a leading '-'), keys and commands are single lines of bounded length.
 */

/**
 * An instance's name is its libvirt domain name (the existing VM name rule) and its guest's
 * host name, so it also follows RFC 1123: no '_', no label starting or ending with '-'.
 */
export const InstanceName = DomainName.refine(
  (n) => n.split(".").every((label) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)),
  { error: "an instance name is also the guest's host name: letters, digits and '-' (not at either end), parts separated by '.'" },
  // The console's page for a new instance is /instances/new: an instance of that name would have no page.
).refine((n) => n !== "new", { error: "'new' is reserved; pick another name" });

/** A Linux or Open vSwitch bridge name (IFNAMSIZ: 15 characters). */
export const BridgeName = z
  .string({ error: "a bridge name is text" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, { error: "bridge names are up to 15 letters, digits, '.', '_' and '-'" });

export const FIRST_BOOT_MAX_COMMANDS = 32;
export const FIRST_BOOT_MAX_LENGTH = 1024;
export const SSH_MAX_KEYS = 16;

/**
 * One shell command run once at the guest's first boot (virt-builder --firstboot-command). It
 * runs inside the user's own guest, so its content is theirs; it only has to stay one argument:
 * one line, no NUL (which would cut it), no other control character but tab.
 */
export const FirstBootCommand = z
  .string({ error: "a first-boot command is text" })
  .min(1, { error: "a first-boot command cannot be empty" })
  .max(FIRST_BOOT_MAX_LENGTH, { error: `a first-boot command is at most ${FIRST_BOOT_MAX_LENGTH} characters` })
  .refine((c) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(c), { error: "a first-boot command is one line: no line breaks, NUL or other control characters" });

const int = (what: string, min: number, max: number, unit = "") =>
  z
    .number({ error: `${what} is a number` })
    .int({ error: `${what} is a whole number` })
    .min(min, { error: `${what} is at least ${min}${unit}` })
    .max(max, { error: `${what} is at most ${max}${unit}` });

export const VCPUS = { min: 1, max: 64 } as const;
export const MEMORY_MIB = { min: 256, max: 262_144 } as const;
export const DISK_GIB = { min: 1, max: 4096 } as const;

export const InstanceNetwork = z.object({
  /** Admins may pick the bridge; otherwise placement picks one per host. */
  bridge: BridgeName.optional(),
  vlan: int("the VLAN", 1, 4094),
  vni: int("the VNI", 1, 16_777_215),
}, { error: "a network (VLAN and VNI) is required" });
export type InstanceNetwork = z.infer<typeof InstanceNetwork>;

/** Reused name rules, with a human message when the field is missing or not text at all. */
const text = <T extends z.ZodType<string, string>>(what: string, rule: T) => z.string({ error: `${what} is required` }).pipe(rule);

export const CreateInstanceRequest = z.object({
  name: text("a name", InstanceName),
  image: text("an image", ImageName),
  vcpus: int("vCPUs", VCPUS.min, VCPUS.max),
  memoryMiB: int("memory", MEMORY_MIB.min, MEMORY_MIB.max, " MiB"),
  diskGiB: int("disk size", DISK_GIB.min, DISK_GIB.max, " GiB"),
  tenant: text("a tenant", TenantSlug),
  network: InstanceNetwork,
  sshKeys: z.array(SshPublicKey, { error: "SSH keys are a list of lines" }).max(SSH_MAX_KEYS, { error: `at most ${SSH_MAX_KEYS} SSH keys` }).default([]),
  firstBoot: z.array(FirstBootCommand, { error: "first-boot commands are a list of lines" }).max(FIRST_BOOT_MAX_COMMANDS, { error: `at most ${FIRST_BOOT_MAX_COMMANDS} first-boot commands` }).default([]),
  /** Admins may pin the hypervisor; it is checked with the same rules as an automatic choice. */
  host: text("a host", HostName).optional(),
}, { error: "a create request is an object" });
export type CreateInstanceRequest = z.infer<typeof CreateInstanceRequest>;

/**
 * The request's network must be its tenant's: the VNI is the tenant's own (another VNI would
 * join another tenant's network). Null when it is; the reason otherwise.
 */
export function networkProblem(network: Pick<InstanceNetwork, "vni">, tenant: { slug: string; vni: number | null }): string | null {
  if (tenant.vni === null) return `tenant ${tenant.slug} has no VNI yet; an admin must give it one first`;
  if (network.vni !== tenant.vni) return `VNI ${network.vni} is not ${tenant.slug}'s network (its VNI is ${tenant.vni})`;
  return null;
}

/** The first issue of a failed parse, as one sentence for a form or an API error. */
export const firstIssue = (error: z.ZodError): string => {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const where = issue.path.map(String).join(".");
  return where ? `${where}: ${issue.message}` : issue.message;
};
