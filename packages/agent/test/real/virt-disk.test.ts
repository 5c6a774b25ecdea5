import { describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { parseDomainXml } from "../../src/real/parse/domain-xml.js";
import { blockcopyArgs, convertArgs, parseBlockjobRaw, parseQemuImgInfo, withDiskSource } from "../../src/real/virt-disk-parse.js";
import { expectUnparseable } from "./expect-unparseable.js";
import { sample } from "../fixtures/samples.js";

const params = (bandwidthMiBps: number | null = 50) => ({ jobId: "j", domain: "pa-vm2", disk: "vda", destinationPath: "/srv/nfs/instance2/pa-vm2.qcow2", bandwidthMiBps });

describe("virsh blockjob --raw", () => {
  it("reads a copy's progress (the shape virsh prints with --raw)", () => {
    expect(parseBlockjobRaw(" type=Copy\n bandwidth=52428800\n cur=1073741824\n end=4294967296\n")).toEqual({ type: "Copy", bandwidth: 52428800, cur: 1073741824, end: 4294967296 });
  });

  it("is null when the disk has no block job (virsh prints nothing)", () => {
    expect(parseBlockjobRaw("")).toBeNull();
    expect(parseBlockjobRaw("\n")).toBeNull();
  });

  it("refuses output without the byte counts", () => {
    expectUnparseable(() => parseBlockjobRaw(" type=Copy\n bandwidth=0\n"), "virsh blockjob");
  });
});

describe("qemu-img info --output=json", () => {
  const info = JSON.stringify({ "virtual-size": 21474836480, filename: "/srv/nfs/instance/pa-vm2.qcow2", format: "qcow2", "actual-size": 1442840576, "dirty-flag": false });

  it("gives the format to keep and the bytes the copy moves", () => {
    expect(parseQemuImgInfo(info)).toEqual({ format: "qcow2", virtualSize: 21474836480, actualSize: 1442840576 });
  });

  it("refuses what is not qemu-img's JSON", () => {
    expectUnparseable(() => parseQemuImgInfo("qemu-img: Could not open"), "qemu-img info");
    expectUnparseable(() => parseQemuImgInfo(JSON.stringify({ format: "qcow2; rm" , "virtual-size": 1 })), "qemu-img info");
  });
});

describe("disk move arguments", () => {
  it("live: a transient block copy that waits, pivots and keeps the format, rate-limited in MiB/s", () => {
    expect(blockcopyArgs(params(), "qcow2", "60e025f5-28a4-48d2-89b6-08076bc1fa91")).toEqual([
      "blockcopy", "--dest", "/srv/nfs/instance2/pa-vm2.qcow2", "--format", "qcow2", "--wait", "--verbose", "--pivot", "--transient-job", "--bandwidth", "50", "--", "60e025f5-28a4-48d2-89b6-08076bc1fa91", "vda",
    ]);
    expect(blockcopyArgs(params(null), "raw")).not.toContain("--bandwidth");
  });

  it("offline: qemu-img convert keeping the format, with a rate limit only when asked", () => {
    expect(convertArgs(params(), "/srv/nfs/instance/pa-vm2.qcow2", "qcow2")).toEqual(["convert", "-f", "qcow2", "-O", "qcow2", "-r", "50M", "/srv/nfs/instance/pa-vm2.qcow2", "/srv/nfs/instance2/pa-vm2.qcow2"]);
    expect(convertArgs(params(null), "/a", "raw")).toEqual(["convert", "-f", "raw", "-O", "raw", "/a", "/srv/nfs/instance2/pa-vm2.qcow2"]);
  });
});

describe("rewriting a disk's source in the domain XML", () => {
  const xml = sample("virsh-qemu-dumpxml-inactive-tcg.xml");

  it("changes only that disk's file, everything else byte for byte", () => {
    const out = withDiskSource(xml, "vda", "/srv/nfs/instance2/pa-vm2.qcow2");
    expect(parseDomainXml(out).disks).toEqual([expect.objectContaining({ target: "vda", path: "/srv/nfs/instance2/pa-vm2.qcow2" })]);
    expect(out.replace("/srv/nfs/instance2/pa-vm2.qcow2", "/srv/nfs/instance/pa-vm2.qcow2")).toBe(xml);
  });

  it("escapes the path as an XML attribute", () => {
    expect(withDiskSource(xml, "vda", "/data/it's&new.qcow2")).toContain(`<source file='/data/it&apos;s&amp;new.qcow2'/>`);
  });

  it("refuses a target the domain has no file disk for", () => {
    expect(() => withDiskSource(xml, "vdz", "/x")).toThrow(expect.objectContaining({ code: AgentErrorCode.unparseable }));
  });
});
