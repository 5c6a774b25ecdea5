import { timingSafeEqual } from "node:crypto";
import ssh2, { type AuthContext, type Connection, type Session } from "ssh2";

export function parsePublicKey(key: string) {
  const parsed = ssh2.utils.parseKey(key);
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? parsed[0]! : parsed;
}

/** An ssh2 Server 'authentication' listener that accepts exactly one public key (with a valid signature). */
export function acceptOnlyKey(publicKey: string): (ctx: AuthContext) => void {
  const allowed = parsePublicKey(publicKey);
  const pub = allowed.getPublicSSH();
  return (ctx) => {
    if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
    const sameKey = ctx.key.algo === allowed.type && ctx.key.data.length === pub.length && timingSafeEqual(ctx.key.data, pub);
    if (!sameKey) return ctx.reject();
    if (ctx.signature && !allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)) return ctx.reject();
    ctx.accept();
  };
}

/** Keeps `client` in `clients` while it is connected, admits only `publicKey`, and hands over each session it opens. */
export function serveClient(client: Connection, clients: Set<Connection>, publicKey: string, onSession: (session: Session) => void): void {
  clients.add(client);
  client.on("close", () => clients.delete(client));
  client.on("error", () => {});
  client.on("authentication", acceptOnlyKey(publicKey));
  client.on("ready", () => client.on("session", (accept) => onSession(accept())));
}
