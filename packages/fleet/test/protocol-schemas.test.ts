import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { PassThrough } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import { HostInventory, RpcResponse, notifications, type SectionName } from "@nimbus/domain";
import { World, defaultScenario, generateScenario, simDriversFor } from "@nimbus/lab";
import * as docker from "../../agent/src/real/parse/docker.js";
import * as ip from "../../agent/src/real/parse/ip.js";
import * as ovs from "../../agent/src/real/parse/ovs.js";
import { buildNetSection } from "../../agent/src/real/parse/net.js";
import { ProtocolClient } from "../src/protocol-client.js";
import { compiled, methodResult, sectionSchema, warmProtocolSchemas } from "../src/protocol-schemas.js";

/**
 * The server checks agents' messages with zod-compiled schemas (protocol-schemas.ts). zod says a
 * compiled schema gives identical results and errors; this holds it to that on our schemas: valid
 * inventories (every lab host kind, sections built from real tools' outputs) and thousands of
 * hostile mutations of them (wrong types, out-of-range and non-finite numbers, oversized strings
 * and lists, missing and extra keys, `__proto__`/`constructor` keys, deep nesting) must get the
 * same verdict, the same data and the same issues from both. Fixed seed: deterministic in CI.
 */

const SEED = 20261208;

/** Every section of every host of a lab world, as its agent would send them. */
async function labInventories(world: World): Promise<Record<SectionName, unknown>[]> {
  const sections: SectionName[] = ["node", "virt", "net", "swarm", "storage", "checks", "lb"];
  const out: Record<SectionName, unknown>[] = [];
  for (const host of world.hostNames()) {
    const drivers = simDriversFor(world, host) as unknown as Partial<Record<SectionName, { snapshot(): Promise<unknown> }>>;
    const inv = {} as Record<SectionName, unknown>;
    for (const s of sections) inv[s] = drivers[s] ? await drivers[s]!.snapshot() : null;
    out.push(JSON.parse(JSON.stringify(inv)));
  }
  return out;
}

const labSample = (path: string) => readFileSync(fileURLToPath(new URL(`../../lab-real/samples/${path}`, import.meta.url)), "utf8");
const agentSample = (name: string) => readFileSync(fileURLToPath(new URL(`../../agent/test/fixtures/samples/${name}`, import.meta.url)), "utf8");

/** The net and swarm sections the real drivers build from the real lab's and shared/samples' tool outputs. */
function realSections(): { net: unknown; swarm: unknown }[] {
  const net = buildNetSection({
    links: ip.parseIpLink(labSample("kvm1/ip-j-d-link.json")),
    addresses: ip.parseIpAddr(labSample("kvm1/ip-j-addr.json")),
    bridgeVlans: ip.parseBridgeVlans(agentSample("bridge-j-vlan-show.json")),
    floodRemotes: ip.parseVxlanFloodRemotes(labSample("kvm1/bridge-j-fdb.json")),
    ovs: {
      bridges: ovs.parseOvsBridges(labSample("kvm1/ovs-vsctl-bridge.json")),
      ports: ovs.parseOvsPorts(labSample("kvm1/ovs-vsctl-port.json")),
      interfaces: ovs.parseOvsInterfaces(labSample("kvm1/ovs-vsctl-interface.json")),
    },
    vmNics: [],
  });
  const services = docker.parseServiceLs(agentSample("docker-service-ls-format-json.jsonl"));
  const details = docker.parseServiceInspect(agentSample("docker-service-inspect-pa-web.json"));
  const swarm = docker.buildSwarmSection({
    info: docker.parseDockerInfo(agentSample("docker-info-format-json-manager.json")),
    nodes: docker.parseNodeLs(agentSample("docker-node-ls-format-json.jsonl")),
    addresses: new Map(),
    services,
    details,
    tasks: docker.parseServicePs(agentSample("docker-service-ps-format-json.jsonl"), new Map([["pa-web", "t38uzurup31u"]])),
  });
  return [{ net: JSON.parse(JSON.stringify(net)), swarm: JSON.parse(JSON.stringify(swarm)) }];
}

const worlds = [new World(defaultScenario(), { jitter: false }), new World(generateScenario({ hosts: 3, vmsPerHost: 4 }), { jitter: false })];
afterAll(() => worlds.forEach((w) => w.stop()));
let inventoriesOnce: Promise<Record<SectionName, unknown>[]> | null = null;
/** Every host of both worlds, read once for the file (each test mutates copies only). */
const allInventories = () => (inventoriesOnce ??= Promise.all(worlds.map(labInventories)).then((l) => l.flat()));

/** Runtime and compiled agree: same verdict, same data (a fresh copy), same issues. */
function expectSame(schema: z.ZodType, input: unknown) {
  const text = JSON.stringify(input);
  const runtime = schema.safeParse(input);
  const fast = compiled(schema).safeParse(input);
  expect(fast.success).toBe(runtime.success);
  if (runtime.success) {
    expect(fast.data).toStrictEqual(runtime.data);
    // Never the input itself: what the server keeps is not what a peer's bytes still alias.
    if (input && typeof input === "object") expect(fast.data).not.toBe(input);
  } else expect(fast.error!.issues).toStrictEqual(runtime.error.issues);
  // Neither changed what it was given.
  expect(JSON.stringify(input)).toBe(text);
  return runtime.success;
}

type Path = (string | number)[];
function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

const deep = (depth: number) => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};
/** Values a broken or hostile agent could send where anything else belongs (all reachable through JSON.parse). */
const HOSTILE: unknown[] = [
  null, true, false, 0, -1, 0.5, 1, 67, 68, 4094, 4095, 65_535, 65_536, 16_777_216, 2 ** 53, -(2 ** 53), 1e308, Infinity, -Infinity,
  "", " ", "x", "1", "ACME", "acme", "acme\n", "-acme", "running", "ovs", "x".repeat(256), "x".repeat(257), "x".repeat(2049), "é".repeat(5000),
  "x".repeat(4097), [], [null], ["x"], {}, { ok: true }, { ok: false, reason: "no" }, deep(2000),
];
const EXTRA_KEYS = ["extra", "__proto__", "constructor", "toString", "hasOwnProperty", "0", ""];
const LENGTHS = [65, 257, 1025, 4095, 4097];

type Mutation = { path: number; kind: "replace" | "delete" | "extra" | "grow" | "wrap" | "string"; pick: number };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  path: fc.nat(),
  kind: fc.constantFrom("replace", "delete", "extra", "grow", "wrap", "string"),
  pick: fc.nat(),
});

function mutate(valid: unknown, m: Mutation): unknown {
  const root = { v: JSON.parse(JSON.stringify(valid)) as unknown };
  const paths = pathsOf(root.v);
  const path: Path = ["v", ...paths[m.path % paths.length]!];
  const key = path[path.length - 1]!;
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root);
  const node = parent[key];
  switch (m.kind) {
    case "replace":
      parent[key] = HOSTILE[m.pick % HOSTILE.length];
      break;
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case "extra":
      // As JSON.parse makes them: an own, enumerable data property, even for "__proto__".
      if (node && typeof node === "object" && !Array.isArray(node))
        Object.defineProperty(node, EXTRA_KEYS[m.pick % EXTRA_KEYS.length]!, { value: { polluted: true }, enumerable: true, writable: true, configurable: true });
      else parent[key] = { [EXTRA_KEYS[m.pick % EXTRA_KEYS.length]!]: node };
      break;
    case "grow":
      if (Array.isArray(node)) {
        const n = LENGTHS[m.pick % LENGTHS.length]!;
        const item = node.length ? node[m.pick % node.length] : HOSTILE[m.pick % HOSTILE.length];
        while (node.length < n) node.push(item);
      } else parent[key] = [node];
      break;
    case "wrap":
      parent[key] = m.pick % 2 ? [node] : { value: node };
      break;
    case "string":
      parent[key] = typeof node === "string" ? node.repeat(2 + (m.pick % 300)) : JSON.stringify(node) ?? "undefined";
      break;
  }
  return root.v;
}

describe("the compiled protocol schemas (what the server checks agents' messages with)", () => {
  it("accept every lab host's inventory and the sections real tools' outputs give, with the runtime's data", async () => {
    const inventories = await allInventories();
    const kinds = new Set(inventories.map((i) => Object.entries(i).filter(([, v]) => v !== null).map(([k]) => k).join(",")));
    // Hypervisors, NFS servers and swarm VMs (with their balancers) all took part.
    expect(kinds.size).toBeGreaterThanOrEqual(3);
    for (const inv of inventories) {
      expect(expectSame(HostInventory, inv)).toBe(true);
      for (const [section, data] of Object.entries(inv)) expect(expectSame(HostInventory.shape[section as SectionName], data)).toBe(true);
    }
    for (const real of realSections()) {
      expect(expectSame(HostInventory.shape.net, real.net)).toBe(true);
      expect(expectSame(HostInventory.shape.swarm, real.swarm)).toBe(true);
    }
  });

  it("the schemas the fleet uses are the compiled ones, and the protocol client checks a snapshot with them", async () => {
    warmProtocolSchemas();
    expect(methodResult("inventory.snapshot")).toBe(compiled(HostInventory));
    expect(sectionSchema("virt")).toBe(compiled(HostInventory.shape.virt));
    expect(compiled(HostInventory)).not.toBe(HostInventory);
    const [inventory] = await allInventories();
    const compiledCheck = vi.spyOn(compiled(HostInventory), "safeParse");
    const runtimeCheck = vi.spyOn(HostInventory, "safeParse");
    const agentOut = new PassThrough();
    const agentIn = new PassThrough();
    const client = new ProtocolClient({ host: "kvm1", input: agentOut, output: agentIn });
    try {
      const answer = client.request("inventory.snapshot", {});
      const req = JSON.parse(String(agentIn.read())) as { id: number };
      agentOut.write(`${JSON.stringify({ jsonrpc: "2.0", id: req.id, result: inventory })}\n`);
      expect(await answer).toStrictEqual(HostInventory.parse(inventory));
      expect(compiledCheck).toHaveBeenCalledTimes(1);
      expect(runtimeCheck).not.toHaveBeenCalled();
    } finally {
      client.close();
      vi.restoreAllMocks();
    }
  });

  it("refuse and accept exactly what the runtime does on hostile mutations of valid inventories", async () => {
    const inventories = await allInventories();
    // One of each kind of host: a hypervisor with VMs, an NFS server, the swarm manager.
    const seeds = [
      inventories.find((i) => (i.virt as { domains: unknown[] } | null)?.domains.length),
      inventories.find((i) => (i.storage as { nfs: unknown } | null)?.nfs),
      inventories.find((i) => (i.swarm as { nodes: unknown[] } | null)?.nodes.length),
    ];
    let refused = 0;
    let accepted = 0;
    for (const [i, seed] of seeds.entries()) {
      expect(seed).toBeDefined();
      fc.assert(
        fc.property(mutation, (m) => {
          const input = mutate(seed, m);
          if (expectSame(HostInventory, input)) accepted++;
          else refused++;
        }),
        { seed: SEED + i, numRuns: 150 },
      );
    }
    // The mutations reached both outcomes, often.
    expect(refused).toBeGreaterThan(150);
    expect(accepted).toBeGreaterThan(50);
  });

  it("pushed sections and the answer's envelope agree too (real sections mutated)", () => {
    const [real] = realSections();
    fc.assert(
      fc.property(mutation, (m) => {
        expectSame(HostInventory.shape.net, mutate(real!.net, m));
        expectSame(HostInventory.shape.swarm, mutate(real!.swarm, m));
        expectSame(notifications["inventory.section"], mutate({ section: "net", data: real!.net }, m));
        expectSame(RpcResponse, mutate({ jsonrpc: "2.0", id: 7, result: real!.net }, m));
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
