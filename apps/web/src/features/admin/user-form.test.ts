import { describe, expect, it } from "vitest";
import { NewUser } from "./user-form";

const user = { email: "jane@nimbus.local", name: "Jane", role: "operator" as const, tenant: null };
const passwordError = (password: string) => {
  const parsed = NewUser.safeParse({ ...user, password });
  return parsed.success ? null : parsed.error.issues.find((i) => i.path[0] === "password")?.message;
};

describe("new user form", () => {
  it("holds the password to the one policy the server applies, in the same words", () => {
    expect(passwordError("short-pw")).toBe("Use at least 12 characters (this password has 8).");
    expect(passwordError("x".repeat(257))).toBe("Use at most 256 characters (this password has 257).");
    expect(passwordError("Jane@nimbus.local")).toBe("The password must not be the account's email address or username.");
    expect(passwordError("a-long-enough-password")).toBeNull();
  });
});
