import { describe, expect, it } from "vitest";
import { policyBoundsNote } from "./scale-dialog";

const policy = { service: "web", enabled: true, minReplicas: 3, maxReplicas: 6 };

describe("policyBoundsNote", () => {
  it("says the autoscaler brings a count above the maximum back down", () => {
    expect(policyBoundsNote(policy, 7)).toBe("web's autoscaling policy keeps it between 3 and 6 replicas: the autoscaler will bring 7 back to 6. Raise the policy's maximum to keep more.");
  });
  it("says the autoscaler brings a count below the minimum back up", () => {
    expect(policyBoundsNote(policy, 1)).toMatch(/bring 1 back up to 3/);
  });
  it("is silent inside the bounds, for a disabled policy, without a policy and for a count that is not whole", () => {
    expect(policyBoundsNote(policy, 3)).toBeNull();
    expect(policyBoundsNote(policy, 6)).toBeNull();
    expect(policyBoundsNote({ ...policy, enabled: false }, 9)).toBeNull();
    expect(policyBoundsNote(undefined, 9)).toBeNull();
    expect(policyBoundsNote(policy, Number.NaN)).toBeNull();
    expect(policyBoundsNote(policy, 7.5)).toBeNull();
  });
});
