import { z } from "zod";
import { boundedText } from "./bounds.js";
import { DomainName } from "./names.js";

/**
 * The serial console of a VM, through the agent of the host running it (`console.*` methods and
 * notifications in protocol.ts). The agent attaches once per domain (`virsh console` on real
 * hosts, a simulated getty in the lab) and fans that stream out to every session on it; each
 * session belongs to the protocol link that opened it and ends with that link.
 */
export const CONSOLE_LIMITS = {
  /** Sessions one host's agent holds at once (every link together). */
  sessionsPerHost: 16,
  /** Bytes of guest output in one `console.output` notification (before base64). */
  chunkBytes: 16 * 1024,
  /** Characters of one `console.input` request (a paste is cut into several). */
  inputChars: 4096,
  /** Session ids are the agent's random UUIDs; anything longer is not one. */
  sessionId: 64,
} as const;

export const ConsoleSessionId = z.string().min(1).max(CONSOLE_LIMITS.sessionId);

/** Size of the browser's terminal; a serial line has none, so the agent keeps it only as a hint. */
export const ConsoleOpenParams = z.object({
  domain: DomainName,
  cols: z.number().int().min(10).max(500).default(80),
  rows: z.number().int().min(2).max(300).default(24),
});
export type ConsoleOpenParams = z.infer<typeof ConsoleOpenParams>;

export const ConsoleInputParams = z.object({
  session: ConsoleSessionId,
  /** Keystrokes as typed (UTF-8 text, control characters included). */
  data: z.string().min(1).max(CONSOLE_LIMITS.inputChars),
});
export type ConsoleInputParams = z.infer<typeof ConsoleInputParams>;

/** base64 of at most chunkBytes bytes: the guest's bytes as they came (a UTF-8 sequence may span two chunks). */
const base64Chunk = z
  .string()
  .max(Math.ceil(CONSOLE_LIMITS.chunkBytes / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64");

export const ConsoleOutput = z.object({ session: ConsoleSessionId, data: base64Chunk });
export type ConsoleOutput = z.infer<typeof ConsoleOutput>;

/** The session ended on the host's side: the VM stopped, virsh exited, the console was closed. */
export const ConsoleClosed = z.object({ session: ConsoleSessionId, reason: boundedText() });
export type ConsoleClosed = z.infer<typeof ConsoleClosed>;
