import { describe, expect, it } from "vitest";
import {
  CreateInstanceParams,
  NIMBUS_XMLNS,
  buildDomainXml,
  createInstanceParams,
  escapeXml,
  isNimbusError,
  virshDefineArgs,
  virshDomifaddrArgs,
  virshStartArgs,
  virshUndefineArgs,
  virtBuilderArgs,
  virtBuilderEnv,
} from "../../src/index.js";
import { KEYS, image, request } from "./fixtures.js";

const chosen = { mountTarget: "/instance", bridge: { name: "br-ovs", type: "ovs" as const }, wiring: [] };
const params = (over: Partial<CreateInstanceParams> = {}): CreateInstanceParams => ({ ...createInstanceParams("op-1", request(), image(), chosen), ...over });

/** Element paths in document order (domain/devices/disk/…): the shape of the XML, whatever its values. */
function elementPaths(xml: string): string[] {
  const stack: string[] = [];
  const out: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([A-Za-z_][\w:.-]*)[^<>]*?(\/?)>/g)) {
    const [, close, name, selfClosing] = m;
    if (close) {
      expect(stack.pop()).toBe(name);
      continue;
    }
    out.push([...stack, name].join("/"));
    if (!selfClosing) stack.push(name!);
  }
  expect(stack).toEqual([]);
  // Nothing but the builder's elements: no comment, CDATA, processing instruction or doctype.
  expect(xml).not.toMatch(/<[!?]/);
  return out;
}

const unescape = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_m, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!);

describe("create job parameters", () => {
  it("puts the volume at the root of the datastore's mount and reads images from its repository", () => {
    expect(params()).toMatchObject({
      jobId: "op-1",
      name: "web2",
      tenant: "acme",
      image: { name: "debian-12-docker", os: "debian11", repositoryIndex: "/instance/.nimbus-images/index" },
      volumePath: "/instance/web2.qcow2",
      nic: { bridge: "br-ovs", bridgeType: "ovs", vlan: 10 },
    });
  });

  it("refuses a mount path a host reported that tools cannot take safely", () => {
    let error: unknown;
    try {
      createInstanceParams("op-1", request(), image(), { ...chosen, mountTarget: "/mnt/in stance" });
    } catch (e) {
      error = e;
    }
    expect(isNimbusError(error) && error.code).toBe("PRECONDITION_FAILED");
    expect((error as Error).message).toMatch(/^cannot create web2 there: image.repositoryIndex: /);
  });

  it("is re-validated by the agent: a hostile job cannot name an option, a path outside, or a second line", () => {
    const ok = params();
    for (const bad of [
      { name: "--output=/etc/passwd" },
      { volumePath: "/instance/../etc/cron.d/x.qcow2" },
      { volumePath: "/instance/web2.raw" },
      { image: { ...ok.image, name: "-x" } },
      { firstBoot: ["a\nb"] },
      { sshKeys: [`${KEYS.ed25519}\nssh-rsa AAAA evil`] },
      { nic: { ...ok.nic, bridge: "br0;reboot" } },
    ])
      expect(CreateInstanceParams.safeParse({ ...ok, ...bad }).success, JSON.stringify(bad)).toBe(false);
  });
});

describe("virt-builder arguments", () => {
  it("builds offline from the datastore's repository, with host name, keys and first-boot commands", () => {
    const p = params({ sshKeys: [KEYS.ed25519, KEYS.rsa], firstBoot: ["mkdir -p /nfs", "mount -t nfs 10.10.0.100:/instance /nfs"] });
    expect(virtBuilderArgs(p)).toEqual([
      "--source=file:///instance/.nimbus-images/index",
      "--no-check-signature",
      "--no-network",
      "--format=qcow2",
      "--size=20G",
      "--output=/instance/web2.qcow2",
      "--hostname=web2",
      `--ssh-inject=root:string:${KEYS.ed25519}`,
      `--ssh-inject=root:string:${KEYS.rsa}`,
      "--firstboot-command=mkdir -p /nfs",
      "--firstboot-command=mount -t nfs 10.10.0.100:/instance /nfs",
      "--",
      "debian-12-docker",
    ]);
  });

  it("keeps a command that looks like an option inside its own argument", () => {
    const hostile = ["--run=/tmp/x", "-o", "/etc/passwd", "--", "--output=/etc/shadow"];
    const args = virtBuilderArgs(params({ firstBoot: hostile }));
    const options = args.slice(0, args.indexOf("--"));
    // Every argument before "--" is one of the builder's own options, with the value glued on.
    const names = new Set(options.map((a) => /^--([a-z-]+)(?:=|$)/.exec(a)?.[1]));
    expect([...names].sort()).toEqual(["firstboot-command", "format", "hostname", "no-check-signature", "no-network", "output", "size", "source", "ssh-inject"]);
    expect(options.filter((a) => a.startsWith("--firstboot-command="))).toEqual(hostile.map((c) => `--firstboot-command=${c}`));
    expect(options.filter((a) => a.startsWith("--output="))).toEqual(["--output=/instance/web2.qcow2"]);
    expect(args.slice(-2)).toEqual(["--", "debian-12-docker"]);
  });

  it("runs libguestfs under software emulation without reading other repositories", () => {
    expect(virtBuilderEnv("/var/lib/nimbus/empty", true)).toEqual({
      LIBGUESTFS_BACKEND_SETTINGS: "force_tcg",
      VIRT_BUILDER_DIRS: "/var/lib/nimbus/empty",
      XDG_CONFIG_HOME: "/var/lib/nimbus/empty",
      XDG_CACHE_HOME: "/var/lib/nimbus/empty",
    });
    expect(virtBuilderEnv("/e", false)).not.toHaveProperty("LIBGUESTFS_BACKEND_SETTINGS");
  });

  it("names the domain after '--' in virsh commands", () => {
    expect(virshDefineArgs("/run/nimbus-define-x/domain.xml")).toEqual(["define", "--validate", "--", "/run/nimbus-define-x/domain.xml"]);
    expect(virshStartArgs("web2")).toEqual(["start", "--", "web2"]);
    expect(virshUndefineArgs("web2")).toEqual(["undefine", "--managed-save", "--snapshots-metadata", "--", "web2"]);
    expect(virshDomifaddrArgs("web2", "arp")).toEqual(["domifaddr", "--source", "arp", "--", "web2"]);
  });
});

describe("domain XML", () => {
  it("plugs a virtio NIC into the Open vSwitch bridge with the tenant's VLAN tag", () => {
    const xml = buildDomainXml(params(), { virtType: "qemu" });
    expect(xml).toContain(
      ["<interface type='bridge'>", "  <source bridge='br-ovs'/>", "  <virtualport type='openvswitch'/>", "  <vlan>", "    <tag id='10'/>", "  </vlan>", "  <model type='virtio'/>", "</interface>"]
        .map((l) => `    ${l}`)
        .join("\n"),
    );
    expect(xml).toMatch(/^<domain type='qemu'>\n  <name>web2<\/name>/);
    expect(xml).toContain(`<nimbus:instance xmlns:nimbus='${NIMBUS_XMLNS}' tenant='acme' image='debian-12-docker'/>`);
    expect(xml).toContain("<memory unit='MiB'>2048</memory>");
    expect(xml).toContain("<vcpu placement='static'>2</vcpu>");
    expect(xml).toContain("<source file='/instance/web2.qcow2'/>");
    expect(xml).toContain("<target dev='vda' bus='virtio'/>");
    expect(xml).toContain("<driver name='qemu' type='qcow2' cache='none' discard='unmap'/>");
    expect(elementPaths(xml)).toEqual(expect.arrayContaining(["domain/devices/serial/target", "domain/devices/console/target"]));
    expect(xml).not.toContain("<graphics");
  });

  it("leaves the NIC untagged on a Linux bridge (the agent tags the port), and can use KVM, a role and a MAC", () => {
    const xml = buildDomainXml(params({ nic: { bridge: "br0", bridgeType: "linux", vlan: 10 } }), { virtType: "kvm", role: "swarm-worker", mac: "52:54:00:12:34:56" });
    expect(xml).toMatch(/^<domain type='kvm'>/);
    expect(xml).toContain("<mac address='52:54:00:12:34:56'/>");
    expect(xml).toContain("role='swarm-worker'");
    expect(xml).not.toMatch(/virtualport|<vlan>/);
  });

  it("writes no tenant attribute for an infrastructure VM", () => {
    expect(buildDomainXml(params({ tenant: null }), { virtType: "qemu" })).toContain(`<nimbus:instance xmlns:nimbus='${NIMBUS_XMLNS}' image='debian-12-docker'/>`);
  });

  it("cannot be broken by hostile values: each stays inside its own attribute or text", () => {
    // The builder's own escaping, with the schema bypassed (as a bug upstream would).
    const evil = "x'/></source><disk type='block'><source dev='/dev/sda'/></disk><!-- ]]> & \"";
    const spec = (v: string) =>
      params({ name: v, tenant: v, volumePath: v, image: { ...params().image, name: v }, nic: { bridge: v, bridgeType: "ovs", vlan: 10 } });
    const benign = buildDomainXml(spec("SAFE"), { virtType: "qemu", role: "SAFE" });
    const hostile = buildDomainXml(spec(evil), { virtType: "qemu", role: evil });
    expect(elementPaths(hostile)).toEqual(elementPaths(benign));
    expect(hostile.split(escapeXml(evil)).join("SAFE")).toBe(benign);
    expect(unescape(escapeXml(evil))).toBe(evil);
    expect(hostile).not.toContain("<disk type='block'");
  });

  it("refuses characters XML cannot hold instead of writing a broken document", () => {
    for (const bad of ["a\u0001b", "a\u0000", "\ud800x"]) {
      let error: unknown;
      try {
        buildDomainXml(params({ name: bad }), { virtType: "qemu" });
      } catch (e) {
        error = e;
      }
      expect(isNimbusError(error) && error.code).toBe("BAD_INPUT");
    }
  });
});
