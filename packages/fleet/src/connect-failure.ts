import { NimbusError, type ConnectionState } from "@nimbus/domain";
import { HostKeyChanged, SshFailure } from "./ssh/index.js";
import type { PinnedKey } from "./ssh/index.js";

/** A failed attempt to bring a host online, and the state it leaves the host in. */
export interface ConnectFailure {
  state: Exclude<ConnectionState, "online" | "connecting">;
  message: string;
  pinned?: string;
  offered?: PinnedKey;
}

/** Raised inside the handshake when the outcome is already known (agent missing, wrong protocol). */
export class HandshakeFailure extends Error {
  constructor(readonly failure: ConnectFailure) {
    super(failure.message);
  }
}

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function classifyFailure(err: unknown): ConnectFailure {
  if (err instanceof HandshakeFailure) return err.failure;
  if (err instanceof HostKeyChanged) return { state: "key-changed", message: err.message, pinned: err.pinned, offered: err.offered };
  if (err instanceof SshFailure && err.reason === "auth-failed") return { state: "auth-failed", message: err.message };
  if (err instanceof NimbusError && err.code === "PROTOCOL_MISMATCH") return { state: "protocol-mismatch", message: err.message };
  return { state: "unreachable", message: errText(err) };
}
