import { describe, expect, it } from "vitest";
import { deleteConfirmationProblem, deletePlan, diskSizeProblem, imageDeleteProblem, isNimbusError, virtBuilderIndex } from "../../src/index.js";
import { vm } from "../fixtures.js";
import { image } from "./fixtures.js";

describe("virt-builder repository index", () => {
  it("lists each image as a template with the fields virt-builder reads, sorted by name", () => {
    const sha = "b".repeat(128);
    const index = virtBuilderIndex([
      { image: image({ name: "zeta", file: "zeta.qcow2", format: "qcow2", checksum: { algorithm: "sha256", value: "c".repeat(64) } }) },
      { image: image({ checksum: { algorithm: "sha512", value: sha } }), compressedSizeBytes: 234_881_024, expand: "/dev/sda1" },
    ]);
    expect(index).toBe(
      [
        "[debian-12-docker]",
        "name=debian-12-docker",
        "osinfo=debian11",
        "arch=x86_64",
        "file=debian-12-docker.raw.xz",
        `checksum[sha512]=${sha}`,
        "format=raw",
        "size=2147483648",
        "compressed_size=234881024",
        "expand=/dev/sda1",
        "",
        "[zeta]",
        "name=zeta",
        "osinfo=debian11",
        "arch=x86_64",
        "file=zeta.qcow2",
        "format=qcow2",
        "size=2147483648",
        "",
      ].join("\n"),
    );
    expect(virtBuilderIndex([])).toBe("");
  });

  it("refuses a value that would add lines of its own, and an expand that is not a partition", () => {
    const errors = [
      () => virtBuilderIndex([{ image: image({ file: "x.raw\n[evil]\nfile=/etc/shadow" }) }]),
      () => virtBuilderIndex([{ image: image(), expand: "/dev/sda1\nfile=x" }]),
    ].map((f) => {
      try {
        f();
      } catch (e) {
        return isNimbusError(e) && e.code;
      }
      return "no error";
    });
    expect(errors).toEqual(["BAD_INPUT", "BAD_INPUT"]);
  });

  it("says when an image is still in use or too big for the disk asked", () => {
    expect(imageDeleteProblem(image(), [])).toBeNull();
    expect(imageDeleteProblem(image(), ["web1"])).toBe("image debian-12-docker is used by instance web1");
    expect(imageDeleteProblem(image(), ["a", "b", "c", "d", "e", "f", "g"])).toBe("image debian-12-docker is used by 7 instances: a, b, c, d, e and 2 more");
    expect(diskSizeProblem(2, image())).toBeNull();
    expect(diskSizeProblem(1, image())).toBe("image debian-12-docker needs a disk of at least 2 GiB (1 GiB asked)");
  });
});

describe("delete", () => {
  it("wants the exact name typed", () => {
    expect(deleteConfirmationProblem("web1", " web1 ")).toBeNull();
    expect(deleteConfirmationProblem("web1", "web")).toBe("type web1 to confirm the delete");
  });

  it("forces off, undefines, releases the network once per bridge and removes only volumes on datastores", () => {
    const domain = vm({
      disks: [
        { target: "vda", path: "/instance/web1.qcow2", pool: null, capacityBytes: null },
        { target: "vdb", path: "/var/lib/libvirt/images/local.qcow2", pool: null, capacityBytes: null },
        { target: "vdc", path: "/instance/../etc/passwd", pool: null, capacityBytes: null },
      ],
      nics: [vm().nics[0]!, { ...vm().nics[0]!, mac: "52:54:00:00:00:02" }],
    });
    const plan = deletePlan(domain, ["/instance/", "/"], 5001);
    expect(plan.actions.map((a) => a.description)).toEqual([
      "force off web1 if it runs",
      "undefine web1",
      "remove VNI 5001 from br-ovs unless another instance of acme uses it there",
      "remove /instance/web1.qcow2",
    ]);
    expect(plan.kept).toEqual(["/var/lib/libvirt/images/local.qcow2", "/instance/../etc/passwd"]);
    expect(deletePlan(vm({ tenant: null }), ["/instance"], null).actions.map((a) => a.kind)).toEqual(["destroy-domain", "undefine-domain", "remove-volume"]);
  });
});
