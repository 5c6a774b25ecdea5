import { describe, expect, it } from "vitest";
import { emptyValues, quotaProblem, requestOf, tenantNetworkOf, validate, withPreset, withSizeField, type CreateFormValues } from "./create-values";

const ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd0S5+KcLhzXsOU7nYbaR8vSZqQtn1y0WHd4n3t4xTN alice@laptop";
const filled = (over: Partial<CreateFormValues> = {}): CreateFormValues => ({
  ...emptyValues("acme", { vlan: 110, vni: 10010 }),
  name: "acme-web-2",
  image: "debian-12",
  ...over,
});

describe("create form values", () => {
  it("makes the request the server takes: MiB from GiB, one key and one command per line, blank lines dropped", () => {
    const v = validate(filled({ memoryGiB: "1.5", sshKeys: `${ED25519}\n\n`, firstBoot: "apt-get update\n  mount -a  \n" }));
    expect(v.ok).toBe(true);
    expect(v.request).toMatchObject({ memoryMiB: 1536, sshKeys: [ED25519], firstBoot: ["apt-get update", "mount -a"], network: { vlan: 110, vni: 10010 } });
    expect(v.request).not.toHaveProperty("host");
  });

  it("pins a host and a bridge only when chosen", () => {
    expect(requestOf(filled({ host: "kvm2", bridge: "br-ovs" }))).toMatchObject({ host: "kvm2", network: { bridge: "br-ovs" } });
    expect((requestOf(filled()) as { network: object }).network).not.toHaveProperty("bridge");
  });

  it("says each field's problem in words next to it", () => {
    const v = validate(filled({ name: "-web", image: "", vcpus: "0", memoryGiB: "0.1", diskGiB: "lots" }));
    expect(v.ok).toBe(false);
    expect(v.errors.name).toMatch(/letters, digits/);
    expect(v.errors.image).toBeTruthy();
    expect(v.errors.vcpus).toBe("vCPUs is at least 1");
    // The schema counts MiB; the form asks GiB, and says so.
    expect(v.errors.memoryGiB).toBe("memory is at least 0.25 GiB");
    expect(v.errors.diskGiB).toBe("disk size is a number");
  });

  it("names the line of a refused SSH key or first-boot command", () => {
    const v = validate(filled({ sshKeys: `${ED25519}\nssh-dss AAAAB3Nza oldkey`, firstBoot: "echo ok" }));
    expect(v.errors.sshKeys).toMatch(/^line 2: SSH key type ssh-dss is not accepted/);
  });

  it("a preset fills the size; the numbers stay editable as custom", () => {
    const large = withPreset(filled(), "large");
    expect([large.vcpus, large.memoryGiB, large.diskGiB]).toEqual(["4", "8", "40"]);
    expect(withPreset(large, "custom")).toMatchObject({ size: "custom", vcpus: "4" });
    expect(withSizeField(large, "vcpus", "3")).toMatchObject({ size: "custom", vcpus: "3" });
    // Typed back to a preset's numbers: that preset again.
    expect(withSizeField(withSizeField(large, "vcpus", "0"), "vcpus", "4")).toMatchObject({ size: "large" });
  });

  it("says why a request is over the tenant's quota, with what is left", () => {
    const rows = [
      { dimension: "instances" as const, used: 2, limit: 3, percent: 67 },
      { dimension: "vcpus" as const, used: 6, limit: 8, percent: 75 },
      { dimension: "memoryMiB" as const, used: 4096, limit: null, percent: null },
      { dimension: "diskGiB" as const, used: 40, limit: 100, percent: 40 },
    ];
    expect(quotaProblem("acme", rows, { vcpus: 2, memoryMiB: 2048, diskGiB: 20 })).toBeNull();
    expect(quotaProblem("acme", rows, { vcpus: 4, memoryMiB: 2048, diskGiB: 20 })).toBe("over acme's quota: needs 4 vCPU, 2 of 8 left");
  });
});

describe("a tenant's network", () => {
  it("is the VLAN most of its instances use, with their VNI; unknown without instances", () => {
    const vms = [
      { tenant: "acme", vlans: [110], vni: 10010 },
      { tenant: "acme", vlans: [110, 111], vni: 10010 },
      { tenant: "globex", vlans: [120], vni: 10020 },
      { tenant: "acme", vlans: [111], vni: 10010 },
      { tenant: "acme", vlans: [110], vni: 10010 },
    ];
    expect(tenantNetworkOf(vms, "acme")).toEqual({ vlan: 110, vni: 10010 });
    expect(tenantNetworkOf(vms, "initech")).toEqual({ vlan: null, vni: null });
  });
});
