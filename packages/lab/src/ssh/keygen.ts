import ssh2 from "ssh2";

/**
 * An ed25519 keypair in OpenSSH format that ssh2 can read back. ssh2 1.17's generator drops a
 * leading zero byte of the public key (about 1 key in 256 then fails to parse with "Malformed
 * OpenSSH private key"; seen here 8 times in 3,000), so a key is only kept once it parses.
 * Upstream: https://github.com/mscdex/ssh2/issues/1390
 */
export function generateEd25519(comment?: string): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", comment ? { comment } : undefined);
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
