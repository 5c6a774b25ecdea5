import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP relay on loopback in front of one lab endpoint whose link can go silent: `mute()` keeps
 * every socket open but forwards nothing either way (a cable pulled with no FIN, which the lab's
 * own cut-link fault does not give an established session: it drops it), and holds new connections
 * unanswered. `unmute()` drops the held sockets, as a router would after an outage, and relays
 * again.
 */
export async function silentLink(target: { address: string; port: number }) {
  let muted = false;
  const pairs = new Set<{ client: Socket; upstream: Socket | null }>();

  const server = createServer((client) => {
    client.setNoDelay(true);
    const pair = { client, upstream: null as Socket | null };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);
    if (muted) return; // held: accepted, never answered
    const upstream = createConnection({ host: target.address, port: target.port });
    pair.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on("error", drop);
    upstream.on("close", drop);
    upstream.on("data", (chunk: Buffer) => {
      if (!muted) client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => {
      if (!muted) upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream?.destroy();
    }
    pairs.clear();
  };

  return {
    address: "127.0.0.1",
    port: (server.address() as { port: number }).port,
    mute() {
      muted = true;
    },
    unmute() {
      muted = false;
      dropAll();
    },
    /** Drops every relayed connection at once (an SSH link cut by a blip) and relays new ones. */
    drop() {
      dropAll();
    },
    close() {
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
