import { describe, expect, it } from "vitest";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from "../src/index.js";

describe("password policy", () => {
  it("accepts 12 to 256 characters that are not the account's name", () => {
    expect(passwordProblem("a".repeat(PASSWORD_MIN_LENGTH), { email: "ada@nimbus.local" })).toBeNull();
    expect(passwordProblem("a".repeat(PASSWORD_MAX_LENGTH))).toBeNull();
  });

  it("says how short or long a refused password is, in characters a person counts", () => {
    expect(passwordProblem("elevenchars")).toBe("Use at least 12 characters (this password has 11).");
    // Eleven emoji are 22 UTF-16 units but eleven characters.
    expect(passwordProblem("🔑".repeat(11))).toBe("Use at least 12 characters (this password has 11).");
    expect(passwordProblem("a".repeat(257))).toBe("Use at most 256 characters (this password has 257).");
  });

  it("refuses the email address, its local part and the username, whatever the case or spaces", () => {
    const owner = { email: "Operator.Jane@Example.org", username: "jane_the_operator" };
    for (const p of ["operator.jane@example.org", " OPERATOR.JANE@EXAMPLE.ORG ", "operator.jane", "Jane_The_Operator"]) {
      expect(passwordProblem(p, owner), p).toBe("The password must not be the account's email address or username.");
    }
  });
});
