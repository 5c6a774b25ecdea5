import { describe, expect, it } from "vitest";
import { Tool } from "../../src/real/tool.js";
import { resolveExecutable } from "../../src/real/which.js";

const fs = (...files: string[]) => (path: string) => files.includes(path);
const SSH_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/games";

describe("resolveExecutable (where a configured tool is run from)", () => {
  it("keeps a bare name that PATH has, so spawn finds the same file", () => {
    expect(resolveExecutable("ip", SSH_PATH, fs("/usr/bin/ip", "/usr/sbin/ip"))).toBe("ip");
  });
  it("finds a tool off PATH in /usr/sbin (bridge on Debian under a non-root SSH PATH)", () => {
    expect(resolveExecutable("bridge", SSH_PATH, fs("/usr/sbin/bridge"))).toBe("/usr/sbin/bridge");
  });
  it("tries /usr/local/sbin, then /usr/sbin, then /sbin", () => {
    expect(resolveExecutable("showmount", SSH_PATH, fs("/sbin/showmount", "/usr/local/sbin/showmount"))).toBe("/usr/local/sbin/showmount");
    expect(resolveExecutable("showmount", SSH_PATH, fs("/sbin/showmount"))).toBe("/sbin/showmount");
  });
  it("leaves a configured path with a slash alone, even when it does not exist", () => {
    expect(resolveExecutable("/opt/ovs/bin/ovs-vsctl", SSH_PATH, fs())).toBe("/opt/ovs/bin/ovs-vsctl");
  });
  it("returns the bare name when the tool is nowhere, so the run fails as not installed", () => {
    expect(resolveExecutable("virsh", SSH_PATH, fs())).toBe("virsh");
    expect(resolveExecutable("virsh", undefined, fs())).toBe("virsh");
  });
});

describe("Tool with a non-root SSH PATH", () => {
  it("runs a /usr/sbin tool named bare in the config", async () => {
    const bridge = new Tool("bridge", { path: "bridge", args: [], env: { PATH: SSH_PATH } });
    expect(await bridge.run(["-V"])).toMatch(/^bridge utility/);
    expect(bridge.command(["monitor"]).cmd).toMatch(/^\/(usr\/)?(local\/)?sbin\/bridge$/);
  });
  it("says where it looked when the tool is nowhere", async () => {
    const missing = new Tool("bridge", { path: "nimbus-no-such-tool", args: [], env: { PATH: SSH_PATH } });
    await expect(missing.run(["-V"])).rejects.toThrow(/bridge -V is not installed \(not found on PATH, \/usr\/local\/sbin, \/usr\/sbin or \/sbin\)/);
  });
});
