import type { FleetConfig } from "@nimbus/domain";
import { SSH_LOOPBACK, SSH_USER, migrationUri, nodes, sshPort, tenants } from "./topology.js";

/**
 * The Nimbus config that points the server at the real lab: every node through its loopback
 * forwarder, hypervisors with the URI the other hypervisor's libvirtd migrates to (reachable
 * from inside the source node's namespace, not from the root namespace). The nodes have no
 * agent installed: the server uploads its bundled agent over SFTP, as it does for a real host,
 * so every lab run proves the install path. Type-only use of the
 * domain schema (its unit test validates the result against it), so `up` runs even while the
 * domain package is mid-change.
 */
export function buildFleetConfig(privateKeyPath: string): FleetConfig {
  return {
    ssh: { user: SSH_USER, privateKeyPath },
    agent: { install: "upload" },
    hosts: nodes.map((n) => ({
      name: n.name,
      address: SSH_LOOPBACK,
      port: sshPort(n),
      ...(n.role === "hypervisor" ? { migrationUri: migrationUri(n) } : {}),
    })),
    tenants: tenants.map((t) => ({ slug: t.slug, name: t.name, vni: t.vni })),
  };
}
