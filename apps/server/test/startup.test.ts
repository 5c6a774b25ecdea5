import { describe, expect, it } from "vitest";
import { startupBanner } from "../src/banner.js";
import { loadEnv } from "../src/env.js";

describe("startup banner", () => {
  it("prints a generated first-admin password once", () => {
    const text = startupBanner({ url: "http://127.0.0.1:3000", hosts: "lab", firstAdmin: { email: "admin@nimbus.local", password: "Gen3ratedPassw0rdXyz" } });
    expect(text).toContain("with password Gen3ratedPassw0rdXyz");
  });

  it("never prints a password that came from NIMBUS_ADMIN_PASSWORD", async () => {
    // The app hands it on as null (ensureFirstAdmin); the banner says where it came from instead.
    const text = startupBanner({ url: "http://127.0.0.1:3000", hosts: "lab", firstAdmin: { email: "admin@nimbus.local", password: null } });
    expect(text).toContain("the password set in NIMBUS_ADMIN_PASSWORD");
    expect(text).not.toMatch(/with password /);
  });
});

describe("environment", () => {
  it("holds NIMBUS_ADMIN_PASSWORD to the one password policy, without echoing it", () => {
    expect(() => loadEnv({ NIMBUS_ADMIN_PASSWORD: "short-pw" })).toThrow(/NIMBUS_ADMIN_PASSWORD: Use at least 12 characters \(this password has 8\)/);
    expect(() => loadEnv({ NIMBUS_ADMIN_PASSWORD: "admin@nimbus.local" })).toThrow(/must not be the account's email address/);
    try {
      loadEnv({ NIMBUS_ADMIN_PASSWORD: "short-pw" });
    } catch (e) {
      expect((e as Error).message).not.toContain("short-pw");
    }
    expect(loadEnv({ NIMBUS_ADMIN_PASSWORD: "a-long-enough-password" }).NIMBUS_ADMIN_PASSWORD).toBe("a-long-enough-password");
  });

  it("reads trusted proxies as addresses and CIDR ranges, none by default", () => {
    expect(loadEnv({}).NIMBUS_TRUSTED_PROXIES.has("127.0.0.1")).toBe(false);
    const proxies = loadEnv({ NIMBUS_TRUSTED_PROXIES: "127.0.0.1, 10.1.0.0/16" }).NIMBUS_TRUSTED_PROXIES;
    expect(proxies.has("10.1.200.3")).toBe(true);
    expect(proxies.clientAddress("127.0.0.1", "198.51.100.4")).toBe("198.51.100.4");
    expect(() => loadEnv({ NIMBUS_TRUSTED_PROXIES: "proxy.local" })).toThrow(/NIMBUS_TRUSTED_PROXIES: "proxy.local" is not an IP address/);
  });
});
