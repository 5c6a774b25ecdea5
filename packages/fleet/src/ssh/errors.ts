import { NimbusError, type NimbusErrorCode } from "@nimbus/domain";

/** Why an SSH connection to a host could not be made or was lost. */
export type SshFailureReason = "unreachable" | "timeout" | "key-changed" | "auth-failed";

const codes: Record<SshFailureReason, NimbusErrorCode> = {
  unreachable: "HOST_UNREACHABLE",
  timeout: "HOST_UNREACHABLE",
  "key-changed": "HOST_KEY_CHANGED",
  "auth-failed": "HOST_UNREACHABLE",
};

/** A typed SSH failure; the message starts with the host's name, details carry it too. */
export class SshFailure extends NimbusError {
  constructor(
    readonly host: string,
    readonly reason: SshFailureReason,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(codes[reason], `${host}: ${message}`, { host, reason, ...details });
    this.name = "SshFailure";
  }
}

export class HostKeyChanged extends SshFailure {
  constructor(
    host: string,
    readonly pinned: string,
    readonly offered: { fingerprint: string; key: string },
  ) {
    super(
      host,
      "key-changed",
      `host key changed: pinned ${pinned}, offered ${offered.fingerprint}; an admin must accept the new key`,
      { pinned, offered: offered.fingerprint },
    );
    this.name = "HostKeyChanged";
  }
}

/** Maps ssh2's errors (which carry a `level`) to a reason a person can act on. */
export function sshFailureFrom(host: string, err: unknown): SshFailure {
  if (err instanceof SshFailure) return err;
  const e = err as Error & { level?: string; code?: string };
  const message = e?.message ?? String(err);
  if (e?.level === "client-authentication") return new SshFailure(host, "auth-failed", `authentication refused (${message})`);
  if (e?.level === "client-timeout") return new SshFailure(host, "timeout", message);
  return new SshFailure(host, "unreachable", message, e?.code ? { errno: e.code } : {});
}
