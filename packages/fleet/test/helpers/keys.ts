import ssh2 from "ssh2";

/**
 * A fresh ed25519 key pair (never committed). ssh2 1.17 strips leading zero bytes off the public
 * key, so about 1 key in 256 cannot be parsed back; draw again until both halves parse.
 * https://github.com/mscdex/ssh2/issues/1390
 */
export function sshKeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519");
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
