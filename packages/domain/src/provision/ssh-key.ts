import { z } from "zod";

/**
 * An SSH public key as one authorized_keys line without options: `TYPE BASE64 [COMMENT]`. It is
 * written into the guest's /root/.ssh/authorized_keys (virt-builder --ssh-inject), so a line
 * break would add a line of the user's choosing there, and options (`command="…"`) are not
 * accepted at all: the key type must come first.
 */
export const SSH_KEY_TYPES = ["ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"] as const;
/** An RSA key of 8192 bits is about 1,400 characters; room for a comment. */
export const SSH_KEY_MAX_LENGTH = 4096;
export const SSH_KEY_COMMENT_MAX_LENGTH = 256;

const shape = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: (.*))?$/;
const control = /[\u0000-\u001f\u007f]/;

/** Why `line` is not an acceptable public key, in words; null when it is. */
export function sshKeyProblem(line: string): string | null {
  if (line.length > SSH_KEY_MAX_LENGTH) return `an SSH key is at most ${SSH_KEY_MAX_LENGTH} characters (this one has ${line.length})`;
  if (control.test(line)) return "an SSH key is one line: no line breaks or control characters";
  const first = line.split(" ", 1)[0]!;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(first)) return `SSH key type ${first.slice(0, 40)} is not accepted; use ${SSH_KEY_TYPES.join(", ")}`;
  const m = shape.exec(line);
  if (!m) return "an SSH key looks like 'ssh-ed25519 AAAA… comment'";
  const [, type, body, comment] = m;
  if ((comment ?? "").length > SSH_KEY_COMMENT_MAX_LENGTH) return `an SSH key's comment is at most ${SSH_KEY_COMMENT_MAX_LENGTH} characters`;
  const embedded = embeddedType(body!);
  if (embedded === null) return "the SSH key's data is not valid base64 key material";
  if (embedded !== type) return `the SSH key says ${type} but its data is a ${embedded.slice(0, 40)} key`;
  return null;
}

/** The key blob starts with its own type as an SSH string (RFC 4253 section 6.6): a pasted half key or random text fails here. */
function embeddedType(base64: string): string | null {
  let raw: string;
  try {
    raw = atob(base64);
  } catch {
    return null;
  }
  if (raw.length < 4) return null;
  const len = ((raw.charCodeAt(0) << 24) | (raw.charCodeAt(1) << 16) | (raw.charCodeAt(2) << 8) | raw.charCodeAt(3)) >>> 0;
  if (len === 0 || len > 64 || raw.length < 4 + len + 4) return null;
  return raw.slice(4, 4 + len);
}

export const SshPublicKey = z
  .string({ error: "an SSH key is text" })
  .trim()
  .superRefine((line, ctx) => {
    const problem = sshKeyProblem(line);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
export type SshPublicKey = z.infer<typeof SshPublicKey>;
