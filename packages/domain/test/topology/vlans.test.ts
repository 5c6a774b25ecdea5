import { describe, expect, it } from "vitest";
import { carriesVlan } from "../../src/index.js";

describe("carriesVlan (Open vSwitch port semantics)", () => {
  it("an access port carries its tag only", () => {
    expect(carriesVlan({ vlan: 10, trunks: [] }, 10)).toBe(true);
    expect(carriesVlan({ vlan: 10, trunks: [] }, 20)).toBe(false);
    expect(carriesVlan({ vlan: 10, trunks: [] }, null)).toBe(false);
  });
  it("a trunk carries its listed VLANs and its native tag, not untagged frames", () => {
    expect(carriesVlan({ vlan: null, trunks: [10, 20] }, 20)).toBe(true);
    expect(carriesVlan({ vlan: 5, trunks: [10, 20] }, 5)).toBe(true);
    expect(carriesVlan({ vlan: null, trunks: [10, 20] }, 30)).toBe(false);
    expect(carriesVlan({ vlan: null, trunks: [10, 20] }, null)).toBe(false);
  });
  it("a port with neither tag nor list carries everything", () => {
    expect(carriesVlan({ vlan: null, trunks: [] }, 4094)).toBe(true);
    expect(carriesVlan({ vlan: null, trunks: [] }, null)).toBe(true);
  });
});
