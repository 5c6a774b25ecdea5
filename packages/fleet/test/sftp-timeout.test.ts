import { EventEmitter } from "node:events";
import type { SFTPWrapper } from "ssh2";
import { describe, expect, it } from "vitest";
import { SshFailure } from "../src/ssh/errors.js";
import { sftpSession } from "../src/ssh/sftp.js";

/** An SFTP channel whose host went silent: requests are sent and never answered. */
function silentSftp() {
  const sent: string[] = [];
  const sftp = Object.assign(new EventEmitter(), {
    stat: (path: string) => sent.push(`stat ${path}`),
    mkdir: (path: string) => sent.push(`mkdir ${path}`),
    end: () => {},
  });
  return { sftp: sftp as unknown as SFTPWrapper, sent };
}

describe("SFTP on a link that went silent", () => {
  it("fails a request that gets no answer, as a timeout naming the host and the request", async () => {
    const { sftp, sent } = silentSftp();
    const session = sftpSession("kvm1", sftp, 50);
    const err = await session.stat("/opt/nimbus/agent").then(
      () => expect.unreachable("stat should time out"),
      (e: unknown) => e,
    );
    expect(sent).toEqual(["stat /opt/nimbus/agent"]);
    expect(err).toBeInstanceOf(SshFailure);
    expect(err).toMatchObject({ reason: "timeout", message: "kvm1: no answer to SFTP stat /opt/nimbus/agent within 0.05 s" });
  });

  it("keeps an answer that arrives in time", async () => {
    const sftp = Object.assign(new EventEmitter(), {
      mkdir: (_path: string, _attrs: unknown, cb: (err: Error | null) => void) => setTimeout(() => cb(null), 10),
    }) as unknown as SFTPWrapper;
    await expect(sftpSession("kvm1", sftp, 200).mkdir("/opt/nimbus", 0o755)).resolves.toBeUndefined();
  });
});
