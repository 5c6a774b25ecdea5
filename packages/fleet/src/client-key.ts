import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import ssh2 from "ssh2";

const { utils } = ssh2;

/**
 * The server's own SSH identity. Generated on first start (ed25519; ssh2 cannot parse the PKCS8
 * keys node:crypto writes) and kept private in the data directory; never committed.
 */
export function ensureClientKey(privateKeyPath: string): { privateKey: string; publicKey: string } {
  const publicPath = `${privateKeyPath}.pub`;
  if (!existsSync(privateKeyPath)) {
    mkdirSync(dirname(privateKeyPath), { recursive: true, mode: 0o700 });
    const pair = generateParseableKey();
    writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
    writeFileSync(publicPath, pair.public + "\n", { mode: 0o644 });
  }
  chmodSync(privateKeyPath, 0o600);
  const privateKey = readFileSync(privateKeyPath, "utf8");
  const publicKey = existsSync(publicPath) ? readFileSync(publicPath, "utf8").trim() : publicKeyOf(privateKey);
  return { privateKey, publicKey };
}

function publicKeyOf(privateKey: string): string {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  return `${key.type} ${key.getPublicSSH().toString("base64")}`;
}

/**
 * ssh2 occasionally writes an ed25519 key it cannot parse back (about 1 in 256,
 * https://github.com/mscdex/ssh2/issues/1390): keep only one that parses.
 */
function generateParseableKey() {
  for (;;) {
    const pair = utils.generateKeyPairSync("ed25519", { comment: "nimbus-server" });
    if (!(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}
