export { connectHost, parsePrivateKey, type ConnectOptions, type ExecChannel, type SshSession } from "./connect.js";
export { HostKeyChanged, SshFailure, sshFailureFrom, type SshFailureReason } from "./errors.js";
export { pinnedKeyOf, sha256Fingerprint, type PinnedKey } from "./fingerprint.js";
export { SftpError, type SftpSession } from "./sftp.js";
