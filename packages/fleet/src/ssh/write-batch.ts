import type { Socket } from "node:net";

/**
 * Makes a socket send what is written to it in one turn of the event loop as one write (one
 * syscall, one loopback segment, one read at the peer), however many packets ssh2 wrote. With
 * no-delay on, ssh2's packets of a turn (two requests, a window adjust and data) would each be a
 * write of their own: 10 writes per connection to the agent became 8. Nothing is held past the turn, so no latency is added.
 */
export function batchWritesPerTick(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(flush);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket["write"];
}
