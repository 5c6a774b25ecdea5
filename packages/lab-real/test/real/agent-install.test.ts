import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Fleet } from "@nimbus/fleet";
import type { RealLab } from "../../src/lab.js";
import { openLab, startFleet, waitForHost, waitOnline } from "./helpers.js";

/**
 * The server installs the agent itself: lab nodes get no agent from `up`, the fleet uploads the
 * built bundle over SFTP into the nimbus user's home. These tests break that on one node (a
 * worker whose agent nothing else needs meanwhile) and restore it before they end.
 */
describe("real lab: the server installs the agent", () => {
  const host = "swarm3";
  let lab: RealLab;
  let fleet: Fleet;
  let manifest: { version: string; sha256: string };

  beforeAll(async () => {
    lab = await openLab();
    manifest = JSON.parse(await readFile(join(lab.layout.agentDist, "nimbus-agent.json"), "utf8"));
    fleet = await startFleet(lab, [host]);
    await waitOnline(fleet, [host]);
  });
  afterAll(() => fleet?.stop());

  it("agent gone from the node: reconnecting uploads this build again and the host comes online running it", async () => {
    const home = lab.layout.node(host).home;
    // ~/.nimbus/agent/nimbus-agent-VERSION.cjs as the nimbus user sees it; here through the bind mount's source.
    const uploaded = join(home, ".nimbus", "agent", `nimbus-agent-${manifest.version}.cjs`);
    expect(existsSync(uploaded)).toBe(true);
    await rm(join(home, ".nimbus"), { recursive: true, force: true });

    fleet.reconnect(host);
    const [rec] = await waitOnline(fleet, [host]);
    expect(rec!.connection.agentVersion).toBe(manifest.version);
    expect(createHash("sha256").update(await readFile(uploaded)).digest("hex")).toBe(manifest.sha256);
    // Written over SFTP as the SSH user, not by the lab (root).
    expect((await stat(uploaded)).uid).toBe((await stat(home)).uid);
  });

  it("Node.js too old on the node: the host is agent-missing and its row says what to install", async () => {
    // The node's /usr/local/bin comes before /usr/bin on sshd's PATH for the nimbus user.
    const fakeNode = join(lab.layout.node(host).bin, "node");
    await writeFile(fakeNode, '#!/bin/sh\n# a Node.js 18 as old distributions ship it\n[ "$1" = --version ] && echo v18.19.0 && exit 0\nexit 1\n');
    await chmod(fakeNode, 0o755);
    try {
      fleet.reconnect(host);
      const rec = await waitForHost(fleet, host, "agent-missing", (h) => h.connection.state === "agent-missing", 30_000);
      expect(rec.connection.message).toContain(`${host}: Node.js 20 or newer is needed to run the Nimbus agent (found: v18.19.0)`);
      expect(rec.connection.message).toContain("apt-get install nodejs");
    } finally {
      await rm(fakeNode, { force: true });
    }
    fleet.reconnect(host);
    await waitOnline(fleet, [host]);
  });
});
