import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AgentErrorCode } from "@nimbus/domain";
import { AgentError } from "../../../src/errors.js";
import * as docker from "../../../src/real/parse/docker.js";
import { parseImageLs } from "../../../src/real/swarm-stacks.js";
import { parseDomainXml } from "../../../src/real/parse/domain-xml.js";
import * as ip from "../../../src/real/parse/ip.js";
import { classifyLibvirt } from "../../../src/real/parse/libvirt-errors.js";
import { buildNetSection } from "../../../src/real/parse/net.js";
import * as ovs from "../../../src/real/parse/ovs.js";
import { parsePoolXml } from "../../../src/real/parse/pool-xml.js";
import { parseDiskFormats, parseSnapshotXml } from "../../../src/real/parse/snapshot-xml.js";
import * as proc from "../../../src/real/parse/proc.js";
import { parseDiskstats, parseDomainCounters, parseLinkCounters } from "../../../src/real/parse/stats.js";
import * as storage from "../../../src/real/parse/storage.js";
import * as virsh from "../../../src/real/parse/virsh.js";
import { parseBlockjobRaw, parseQemuImgInfo, withDiskSource } from "../../../src/real/virt-disk-parse.js";
import { parseHaproxyStat } from "../../../src/real/haproxy.js";
import { parseServiceLogLine } from "../../../src/real/swarm-logs.js";
import { parseNetworkInspect, parseOverlayLs } from "../../../src/real/swarm-networks.js";
import { parseSsListeningUdp } from "../../../src/real/swarm-ports.js";
import { parseServiceUpdateInspect, parseTaskTimestamps } from "../../../src/real/swarm-update-parse.js";
import { mutatedJson, mutatedText, randomText, samples } from "./fuzz-inputs.js";

/**
 * Every parser of tool output in the agent, fed random text and mutated real outputs: it
 * returns plain data with only finite numbers, or throws the typed unparseable error with a short
 * message and a bounded excerpt. Nothing else: no TypeError, no RangeError, no NaN, no 4 MB
 * message. Fixed seeds and run counts keep CI deterministic and the suite to a few seconds; a
 * failure prints the input that broke it (shrunk by fast-check).
 */

const SEED = 20261207;
const RUNS = { random: 40, text: 100, json: 100 };
const MAX_MESSAGE = 500;
const MAX_DATA = 1000;

interface Target {
  name: string;
  parse: (text: string) => unknown;
  seeds: string[];
  /** JSON outputs: also mutated as trees ("lines": one document per line). */
  json?: "document" | "lines";
}

/** Plain data: finite numbers, no functions (a lookup of "constructor" in a table returns one). */
function assertPlainData(v: unknown, path = "result", seen = new Set<unknown>()): void {
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new Error(`${path} is ${v}`);
  } else if (typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") {
    throw new Error(`${path} is a ${typeof v}`);
  } else if (v && typeof v === "object" && !seen.has(v)) {
    seen.add(v);
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    for (const [k, x] of entries) assertPlainData(x, `${path}.${String(k)}`, seen);
  }
}

function check(parse: (text: string) => unknown, input: string): void {
  let out: unknown;
  try {
    out = parse(input);
  } catch (e) {
    if (!(e instanceof AgentError) || e.code !== AgentErrorCode.unparseable) throw new Error(`not a typed parse error: ${String(e)}`);
    if (e.message.length > MAX_MESSAGE) throw new Error(`message of ${e.message.length} characters`);
    if (JSON.stringify(e.data).length > MAX_DATA) throw new Error(`error data of ${JSON.stringify(e.data).length} characters`);
    return;
  }
  assertPlainData(out);
}

const UUID_LIST = "60e025f5-28a4-48d2-89b6-08076bc1fa91 pa-vm1\n0b4e1a52-0000-4000-8000-000000000001 café\n\n";
const DOMAIN_XML = samples("virsh-qemu-dumpxml-running-kvm.xml", "virsh-qemu-dumpxml-inactive-tcg.xml", "virsh-test-dumpxml.xml", "virsh-test-dumpxml-ovs-vlan-metadata.xml", "kvm1/virsh-dumpxml-acme-web1.xml", "kvm2/virsh-dumpxml-initech-app1.xml");
const [OVS_BRIDGES, OVS_PORTS, OVS_IFACES] = samples("ovs-vsctl-format-json-list-Bridge.json", "ovs-vsctl-format-json-list-Port.json", "ovs-vsctl-format-json-list-Interface.json");
const LINKS = ip.parseIpLink(samples("kvm1/ip-j-d-link.json")[0]!);

const TARGETS: Target[] = [
  {
    name: "virsh list --uuid --name",
    parse: (t) => virsh.parseUuidList("virsh list", t),
    // The tables are seeds too: what an older or misbehaving virsh could print instead.
    seeds: [UUID_LIST, "60e025f5-28a4-48d2-89b6-08076bc1fa91\n\n", ...samples("virsh-qemu-list-all.txt", "kvm1/virsh-list-all.txt")],
  },
  { name: "virsh dominfo", parse: virsh.parseDominfo, seeds: samples("virsh-qemu-dominfo-kvm.txt", "virsh-qemu-dominfo-tcg.txt", "virsh-test-dominfo.txt", "kvm1/virsh-dominfo-acme-web1.txt", "kvm2/virsh-dominfo-initech-app1.txt") },
  { name: "virsh nodeinfo", parse: virsh.parseNodeinfo, seeds: samples("virsh-qemu-nodeinfo.txt", "virsh-test-nodeinfo.txt", "kvm1/virsh-nodeinfo.txt") },
  {
    name: "virsh domjobinfo",
    parse: virsh.parseDomjobinfo,
    seeds: samples("virsh-qemu-domjobinfo-idle.txt", ...[1, 2, 3, 4].map((i) => `kvm1/virsh-domjobinfo-migrating-${i}.txt`)),
  },
  { name: "virsh domstate --reason", parse: virsh.parseDomstate, seeds: samples("virsh-qemu-domstate-reason.txt", "virsh-test-domstate-reason.txt", "virsh-test-domstate-reason-shutoff.txt") },
  {
    name: "virsh domstats --block (and block capacities)",
    parse: (t) => [...virsh.parseDomstats(t).values()].map((stats) => virsh.blockCapacities(stats, t)),
    seeds: samples("virsh-qemu-domstats.txt", "virsh-test-domstats.txt", "kvm1/virsh-domstats-acme-web1.txt", "kvm2/virsh-domstats-initech-app1.txt"),
  },
  { name: "/proc/diskstats", parse: parseDiskstats, seeds: samples("proc-diskstats.txt") },
  { name: "virsh domstats (counters)", parse: parseDomainCounters, seeds: samples("virsh-qemu-domstats.txt", "virsh-test-domstats.txt") },
  { name: "ip -s -d -j link (counters)", parse: parseLinkCounters, seeds: samples("iproute2-ip-s-d-j-link-show.merged.json", "iproute2-ip-s-d-j-link-show-host.json"), json: "document" },
  { name: "virsh version", parse: virsh.parseVersion, seeds: samples("virsh-qemu-version.txt", "virsh-test-version.txt") },
  { name: "virsh dumpxml", parse: parseDomainXml, seeds: DOMAIN_XML },
  { name: "virsh dumpxml with a new disk path", parse: (t) => withDiskSource(t, "vda", "/srv/nfs/instance2/x.qcow2"), seeds: DOMAIN_XML },
  { name: "virsh dumpxml (disk formats for snapshots)", parse: parseDiskFormats, seeds: DOMAIN_XML },
  {
    name: "virsh snapshot-dumpxml",
    parse: parseSnapshotXml,
    // Captured from libvirt 9.0's test driver (domain element cut to its uuid).
    seeds: [
      "<domainsnapshot>\n  <name>s1</name>\n  <description>hi</description>\n  <state>running</state>\n  <creationTime>1796628474</creationTime>\n  <memory snapshot='internal'/>\n  <disks>\n    <disk name='vda' snapshot='internal'/>\n  </disks>\n  <domain type='test'>\n    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n  </domain>\n</domainsnapshot>\n",
    ],
  },
  { name: "virsh pool-dumpxml", parse: parsePoolXml, seeds: samples("virsh-test-pool-dumpxml.xml") },
  {
    name: "haproxy show stat",
    parse: (t) => parseHaproxyStat(t, "web", new Date("2026-12-07T09:00:00Z")),
    // Captured from HAProxy 2.6 (packages/domain/test/lb).
    seeds: ["show-stat.csv", "show-stat-down.csv", "show-stat-rising.csv"].map((f) => readFileSync(fileURLToPath(new URL(`../../../../domain/test/lb/${f}`, import.meta.url)), "utf8")),
  },
  { name: "virsh blockjob --raw", parse: parseBlockjobRaw, seeds: [" type=Copy\n bandwidth=0\n cur=5\n end=10\n", ""] },
  {
    name: "qemu-img info --output=json",
    parse: parseQemuImgInfo,
    seeds: [JSON.stringify({ "virtual-size": 1073741824, filename: "/srv/nfs/instance/pa-vm2.qcow2", format: "qcow2", "actual-size": 200704, "dirty-flag": false })],
    json: "document",
  },
  { name: "docker info", parse: docker.parseDockerInfo, seeds: samples("docker-info-format-json-manager.json", "docker-info-format-json-worker.json", "swarm1/docker-info.json", "swarm2/docker-info.json"), json: "document" },
  { name: "docker node ls", parse: docker.parseNodeLs, seeds: samples("docker-node-ls-format-json.jsonl", "swarm1/docker-node-ls.jsonl", "swarm2/docker-node-ls.jsonl"), json: "lines" },
  { name: "docker node inspect", parse: docker.parseNodeAddresses, seeds: samples("docker-node-inspect-self.json", "docker-node-inspect-worker.json"), json: "document" },
  // The services slice (H5): update status, task times, logs, overlays, ss.
  { name: "docker service inspect (update)", parse: parseServiceUpdateInspect, seeds: samples("docker-service-inspect-update-paused.json", "docker-service-inspect-rollback-completed.json", "docker-service-inspect-pa-web.json"), json: "document" },
  { name: "docker inspect --type task", parse: parseTaskTimestamps, seeds: samples("docker-inspect-task-timestamps.txt") },
  { name: "docker service logs", parse: (t) => t.split("\n").map(parseServiceLogLine), seeds: samples("docker-service-logs-timestamps.txt", "docker-service-logs-timestamps.stderr.txt") },
  { name: "docker network ls (overlay)", parse: parseOverlayLs, seeds: samples("docker-network-ls-format-json.jsonl", "docker-network-ls-overlay.jsonl"), json: "lines" },
  { name: "docker network inspect", parse: parseNetworkInspect, seeds: samples("docker-network-inspect-ingress.json"), json: "document" },
  { name: "ss -Hlun", parse: parseSsListeningUdp, seeds: samples("ss-Hlun-swarm-node.txt") },
  { name: "docker image ls", parse: (t) => parseImageLs(t, 64), seeds: ['{"Repository":"nimbus/busybox","Tag":"lab","ID":"sha256:1"}\n{"Repository":"<none>","Tag":"<none>","ID":"sha256:2"}\n'], json: "lines" },
  { name: "docker service ls", parse: docker.parseServiceLs, seeds: samples("docker-service-ls-format-json.jsonl", "swarm1/docker-service-ls.jsonl"), json: "lines" },
  {
    name: "docker service inspect",
    parse: docker.parseServiceInspect,
    seeds: samples("docker-service-inspect-pa-http-ingress.json", "docker-service-inspect-pa-web.json", "swarm1/docker-service-inspect-acme-web.json"),
    json: "document",
  },
  {
    name: "docker service ps",
    parse: (t) => docker.parseServicePs(t, new Map([["pa-web", "t38uzurup31u"]])),
    seeds: samples("docker-service-ps-format-json.jsonl", "swarm1/docker-service-ps-initech-worker.jsonl"),
    json: "lines",
  },
  {
    name: "swarm section from service ps",
    parse: (t) => {
      const nodes = docker.parseNodeLs(samples("docker-node-ls-format-json.jsonl")[0]!);
      const services = docker.parseServiceLs(samples("docker-service-ls-format-json.jsonl")[0]!);
      const info = docker.parseDockerInfo(samples("docker-info-format-json-manager.json")[0]!);
      return docker.buildSwarmSection({ info, nodes, addresses: new Map(), services, details: new Map(), tasks: docker.parseServicePs(t, new Map()) });
    },
    seeds: samples("docker-service-ps-format-json.jsonl"),
    json: "lines",
  },
  {
    name: "ip -j -d link show",
    parse: ip.parseIpLink,
    seeds: samples("iproute2-ip-j-d-link-show.json", "iproute2-ip-j-d-link-show-type-vxlan.json", "iproute2-ip-j-s-link-show.json", "kvm1/ip-j-d-link.json", "nfs1/ip-j-d-link.json"),
    json: "document",
  },
  { name: "ip -j addr show", parse: ip.parseIpAddr, seeds: samples("iproute2-ip-j-addr-show.json", "kvm1/ip-j-addr.json", "nfs1/ip-j-addr-eth0.json"), json: "document" },
  { name: "bridge -j vlan show", parse: ip.parseBridgeVlans, seeds: samples("bridge-j-vlan-show.json"), json: "document" },
  { name: "bridge -j fdb show", parse: (t) => ip.parseVxlanFloodRemotes(t, "vxlan100"), seeds: samples("bridge-j-fdb.json", "kvm1/bridge-j-fdb.json"), json: "document" },
  { name: "ovs-vsctl list Bridge", parse: ovs.parseOvsBridges, seeds: samples("ovs-vsctl-format-json-list-Bridge.json", "kvm1/ovs-vsctl-bridge.json"), json: "document" },
  { name: "ovs-vsctl list Port", parse: ovs.parseOvsPorts, seeds: samples("ovs-vsctl-format-json-list-Port.json", "kvm1/ovs-vsctl-port.json"), json: "document" },
  { name: "ovs-vsctl list Interface", parse: ovs.parseOvsInterfaces, seeds: samples("ovs-vsctl-format-json-list-Interface.json", "kvm1/ovs-vsctl-interface.json"), json: "document" },
  {
    name: "net section from ovs-vsctl list Interface",
    parse: (t) =>
      buildNetSection({
        links: LINKS,
        addresses: new Map(),
        bridgeVlans: new Map(),
        floodRemotes: new Map(),
        ovs: { bridges: ovs.parseOvsBridges(OVS_BRIDGES!), ports: ovs.parseOvsPorts(OVS_PORTS!), interfaces: ovs.parseOvsInterfaces(t) },
        vmNics: [{ domain: "pa-vm1", domainUuid: "60e025f5-28a4-48d2-89b6-08076bc1fa91", mac: "52:54:00:aa:bb:cc", device: "vnet0" }],
      }),
    seeds: [OVS_IFACES!],
    json: "document",
  },
  { name: "/proc/cpuinfo", parse: proc.parseCpuinfo, seeds: samples("proc-cpuinfo.txt") },
  { name: "/proc/meminfo", parse: proc.parseMeminfo, seeds: samples("proc-meminfo.txt") },
  { name: "/proc/stat", parse: proc.parseProcStat, seeds: samples("proc-stat.txt") },
  { name: "/proc/uptime", parse: proc.parseUptime, seeds: samples("proc-uptime.txt") },
  { name: "/etc/os-release", parse: proc.parseOsRelease, seeds: samples("os-release.txt") },
  { name: "showmount -e", parse: storage.parseShowmount, seeds: samples("ganesha-showmount-e.txt", "nfs1/showmount-e.txt") },
  { name: "rpcinfo -p", parse: storage.parseRpcinfo, seeds: samples("ganesha-rpcinfo-p.txt", "nfs1/rpcinfo-p.txt") },
  { name: "df -B1", parse: storage.parseDf, seeds: samples("df-b1-output-size-used-target.txt", "nfs1/df-instance.txt") },
  { name: "/proc/mounts", parse: (t) => storage.parseNfsMounts(t, ["/srv/shared"]), seeds: samples("proc-mounts.txt") },
  { name: "keepalived state file", parse: storage.parseKeepalivedState, seeds: ["INSTANCE VI_1 MASTER 100\n", "BACKUP\n"] },
];

describe("parser fuzz: typed errors, bounded messages, finite numbers", () => {
  for (const t of TARGETS) {
    describe(t.name, () => {
      it("random text", () => fc.assert(fc.property(randomText, (s) => check(t.parse, s)), { seed: SEED, numRuns: RUNS.random }));
      it("mutated real outputs", () => fc.assert(fc.property(mutatedText(t.seeds), (s) => check(t.parse, s)), { seed: SEED, numRuns: RUNS.text }));
      if (t.json) it("mutated JSON trees", () => fc.assert(fc.property(mutatedJson(t.seeds, t.json === "lines"), (s) => check(t.parse, s)), { seed: SEED, numRuns: RUNS.json }));
      // The seeds themselves are real outputs: none may fail with anything but a typed error either.
      it("the real outputs", () => t.seeds.forEach((s) => check(t.parse, s)));
    });
  }

  it("libvirt error classification never throws and stays short", () =>
    fc.assert(
      fc.property(fc.oneof(randomText, mutatedText(["error: Failed to start domain 'x'\nerror: Requested operation is not valid: domain is already running\n", "error: Unsafe migration: Migration without shared storage is unsafe\n"])), (s) => {
        const f = classifyLibvirt(s);
        expect(f.reason.length + f.detail.length).toBeLessThan(800);
      }),
      { seed: SEED, numRuns: RUNS.text },
    ));
});
