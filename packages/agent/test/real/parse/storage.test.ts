import { describe, expect, it } from "vitest";
import { NFS_PROGRAM, parseDf, parseKeepalivedState, parseNfsMounts, parseRpcinfo, parseShowmount } from "../../../src/real/parse/storage.js";
import { sample } from "../../fixtures/samples.js";
import { expectUnparseable } from "../expect-unparseable.js";

describe("showmount -e", () => {
  it("reads nfs-ganesha's export list", () => {
    expect(parseShowmount(sample("ganesha-showmount-e.txt"))).toEqual([{ path: "/tmp/nimbus-nfs/instance", clients: ["*"] }]);
  });
  it("reads client lists", () => {
    expect(parseShowmount("Export list for kvm-nfs1:\n/instance 10.0.0.0/24,10.0.1.5\n/empty\n")).toEqual([
      { path: "/instance", clients: ["10.0.0.0/24", "10.0.1.5"] },
      { path: "/empty", clients: ["*"] },
    ]);
  });
  it("rejects output without the header", () => expectUnparseable(() => parseShowmount("/instance *\n"), "showmount", /Export list/));
  it("rejects a line that is not an export", () => expectUnparseable(() => parseShowmount("Export list for x:\nclnt_create: RPC\n"), "showmount", /not an export/));
});

describe("rpcinfo -p", () => {
  it("reads nfs-ganesha's registered programs", () => {
    const progs = parseRpcinfo(sample("ganesha-rpcinfo-p.txt"));
    expect(progs.filter((p) => p.program === NFS_PROGRAM).map((p) => p.version)).toEqual([3, 3, 4, 4]);
    expect(progs[0]).toEqual({ program: 100000, version: 4, proto: "tcp", port: 111, service: "portmapper" });
  });
  it("rejects output without the header", () => expectUnparseable(() => parseRpcinfo("100003 3 tcp 2049 nfs\n"), "rpcinfo", /header/));
  it("rejects a port that is not a number", () =>
    expectUnparseable(() => parseRpcinfo("   program vers proto   port  service\n 100003 3 tcp x nfs\n"), "rpcinfo", /port/));
});

describe("df -B1 --output=size,used,target", () => {
  it("reads one line per path", () => {
    const rows = parseDf(sample("df-b1-output-size-used-target.txt"));
    expect(rows).toHaveLength(2);
    expect(rows[0]!.target).toBe("/");
    expect(rows[0]!.totalBytes).toBeGreaterThan(rows[0]!.usedBytes);
  });
  it("keeps mount points with spaces", () => {
    expect(parseDf("   1B-blocks        Used Mounted on\n100 50 /mnt/my disk\n")[0]!.target).toBe("/mnt/my disk");
  });
  it("rejects output in another block size", () => expectUnparseable(() => parseDf("1K-blocks Used Mounted on\n1 1 /\n"), "df", /header/));
  it("rejects a row without sizes", () => expectUnparseable(() => parseDf("1B-blocks Used Mounted on\n- - /\n"), "df", /size used target/));
});

describe("/proc/mounts", () => {
  it("keeps only NFS mounts and unescapes paths", () => {
    const text = [
      "proc /proc proc rw,relatime 0 0",
      "10.0.0.100:/instance /instance nfs4 rw,relatime,vers=4.2,addr=10.0.0.100 0 0",
      "nfs1:/srv/old\\040disks /mnt/old\\040disks nfs rw,vers=3 0 0",
    ].join("\n");
    expect(parseNfsMounts(text)).toEqual([
      { source: "10.0.0.100:/instance", target: "/instance", fstype: "nfs4" },
      { source: "nfs1:/srv/old disks", target: "/mnt/old disks", fstype: "nfs" },
    ]);
  });
  it("reads this machine's mounts (no NFS here)", () => expect(parseNfsMounts(sample("proc-mounts.txt"))).toEqual([]));
  it("reports other shared filesystems, and mount points the config declares shared", () => {
    const text = "gluster1:/vol /instance2 fuse.glusterfs rw 0 0\n/dev/vdb /instance ext4 rw 0 0\n/dev/vda1 / ext4 rw 0 0\n";
    expect(parseNfsMounts(text).map((m) => m.target)).toEqual(["/instance2"]);
    expect(parseNfsMounts(text, ["/instance"]).map((m) => m.target)).toEqual(["/instance2", "/instance"]);
  });
  it("rejects a line with too few fields", () => expectUnparseable(() => parseNfsMounts("garbage\n"), "/proc/mounts"));
});

describe("keepalived state file", () => {
  it("reads a bare state and notify arguments", () => {
    expect(parseKeepalivedState("MASTER\n")).toBe("master");
    expect(parseKeepalivedState("INSTANCE VI_1 BACKUP 100\n")).toBe("backup");
    expect(parseKeepalivedState("STOP")).toBe("stopped");
  });
  it("rejects a file without a state", () => expectUnparseable(() => parseKeepalivedState("hello"), "keepalived state file"));
});
