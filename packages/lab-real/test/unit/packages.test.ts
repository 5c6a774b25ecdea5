import { describe, expect, it } from "vitest";
import { APPLIANCE_KERNEL_NEED, IMAGE_BUILD_NEEDS } from "@nimbus/agent/real";
import { REQUIRED_PACKAGES } from "../../src/packages.js";

describe("packages the lab installs", () => {
  it("include everything the agent's base-image build and virt-builder need (mount comes with every Debian)", () => {
    const needed = [...IMAGE_BUILD_NEEDS, APPLIANCE_KERNEL_NEED].map((n) => n.package).filter((p) => p !== "mount");
    expect((REQUIRED_PACKAGES as readonly string[]).filter((p) => needed.includes(p)).sort()).toEqual([...new Set(needed)].sort());
  });
});
