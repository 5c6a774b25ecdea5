import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FleetConfig } from "@nimbus/domain";
import type { Lab } from "./lab.js";
import { generateEd25519 } from "./ssh/keygen.js";

/**
 * A client keypair for a standalone lab: the server reading fleet.json authenticates with it.
 * Kept in the data dir (owner-only) so restarts do not invalidate a running server's key.
 */
export function ensureClientKey(dataDir: string): { privateKeyPath: string; publicKey: string } {
  const privateKeyPath = join(dataDir, "client_ed25519");
  const publicKeyPath = `${privateKeyPath}.pub`;
  // `lab serve --data DIR` with a DIR that does not exist yet: make it (owner-only, it holds a key).
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(privateKeyPath) || !existsSync(publicKeyPath)) {
    const pair = generateEd25519("nimbus-lab-client");
    writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
    writeFileSync(publicKeyPath, pair.public + "\n", { mode: 0o644 });
  }
  return { privateKeyPath, publicKey: readFileSync(publicKeyPath, "utf8").trim() };
}

/** Writes `fleet.json` (the domain's FleetConfig) describing a running lab; returns its path. */
export function writeFleetConfig(lab: Lab, privateKeyPath: string): string {
  const config = FleetConfig.parse({
    ssh: { user: lab.hosts[0]?.user ?? "nimbus", privateKeyPath },
    // Simulated hosts run the agent in the lab process: there is nothing to upload.
    agent: { install: "preinstalled" },
    hosts: lab.hosts.map((h) => ({ name: h.name, address: h.address, port: h.port })),
    tenants: lab.tenants,
    lab: { controlUrl: lab.controlUrl, tokenPath: lab.tokenPath },
  });
  const path = join(lab.dataDir, "fleet.json");
  writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
  return path;
}
