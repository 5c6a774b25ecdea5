import { describe, expect, it } from "vitest";
import { pinnedKeyOf, sha256Fingerprint } from "../src/ssh/index.js";

// A public key and what `ssh-keygen -lf` printed for it on this machine.
const PUBLIC = "AAAAC3NzaC1lZDI1NTE5AAAAIFLzrBj/KcMT6nVMKLOABEAcMnE1X9HdphyNqu0NPFG9";
const OPENSSH_SAYS = "SHA256:5vzf5Veo+ElxPCujxKgE+Ek2ivF/wJu2Wl4+apVCC8I";

describe("host key fingerprints", () => {
  it("match ssh-keygen's SHA256 format (base64, no padding)", () => {
    expect(sha256Fingerprint(Buffer.from(PUBLIC, "base64"))).toBe(OPENSSH_SAYS);
  });

  it("pin the key in known_hosts form with its type", () => {
    expect(pinnedKeyOf(Buffer.from(PUBLIC, "base64"))).toEqual({ fingerprint: OPENSSH_SAYS, key: `ssh-ed25519 ${PUBLIC}` });
  });
});
