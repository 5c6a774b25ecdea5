import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentErrorCode,
  MigrateOptions,
  NetSection,
  NodeFacts,
  StatsCounters,
  StorageSection,
  SwarmSection,
  VirtSection,
  type MigrationProgress,
  type ScaleProgress,
} from "@nimbus/domain";
import type { AgentDrivers, SectionSource } from "../../src/drivers.js";
import { AgentError } from "../../src/errors.js";

/**
 * What every implementation of AgentDrivers promises, whether it drives real daemons or the
 * lab's simulated world. Import it as `@nimbus/agent/contract` and call it inside a vitest file:
 *
 *   describeDriverContract("lab kvm1", async () => ({ ...drivers, cleanup }), { virt: { ... } });
 *
 * `sections` says which drivers the host must have; a missing or an extra one fails. Parts that
 * need a scenario (a VM to migrate, a service to scale) exist only when `expectations` describe
 * one, so nothing is skipped at run time. Migrations run in the order cancel, failure, success,
 * so one VM can serve all three.
 */
export type ContractDrivers = AgentDrivers & { cleanup(): Promise<void> };

export interface MigrationCase {
  domain: string;
  destination: { host: string; uri: string };
  options?: Partial<MigrateOptions>;
}

export interface ContractExpectations {
  /** The drivers this host must have besides `node`, e.g. ["virt", "net", "storage"]. */
  sections: readonly ("virt" | "net" | "swarm" | "storage")[];
  /** Upper bound for one test (real migrations take seconds). Default 60 s. */
  timeoutMs?: number;
  virt?: {
    /** A running domain that power() may shut down and start again. */
    power?: { domain: string; stop: "shutdown" | "destroy" };
    /** Serial consoles: a running domain whose getty answers Enter, and a shut-off one (no console). */
    console?: { running: string; stopped: string };
    /** Slow enough to be cancelled after its first progress report (e.g. a bandwidth limit). */
    cancel?: MigrationCase;
    /** Toward a destination that cannot accept it (its libvirtd is down). */
    failing?: MigrationCase;
    /** A migration that must succeed; `onDestination` checks the destination really runs it. */
    success?: MigrationCase & { onDestination(domain: string): Promise<boolean> };
  };
  /** The host has a stats driver (`stats.counters`); its readings are checked. */
  stats?: boolean;
  swarm?: {
    /** A replicated service and a replica count different from its current one. */
    scale?: { service: string; replicas: number };
  };
}

const MISSING = "nimbus-contract-missing";

const sectionSchemas = { node: NodeFacts, virt: VirtSection, net: NetSection, swarm: SwarmSection, storage: StorageSection } as const;

async function expectAgentError(p: Promise<unknown>, codes: number[]): Promise<AgentError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "expected the call to reject").toBeInstanceOf(AgentError);
  expect(codes).toContain((err as AgentError).code);
  expect((err as AgentError).message.length).toBeGreaterThan(0);
  return err as AgentError;
}

/** Resolves when `source` reports a change after `act` ran (rejects after `ms`). */
async function watchFiresAfter(source: SectionSource<unknown>, act: () => Promise<unknown>, ms: number): Promise<void> {
  let fired = false;
  const stop = source.watch(() => (fired = true));
  try {
    await act().catch(() => undefined);
    const until = Date.now() + ms;
    while (!fired && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    expect(fired, "watch() did not report the change").toBe(true);
  } finally {
    stop();
  }
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting until ${what}`);
}

const migrateParams = (c: MigrationCase, jobId: string) => ({
  jobId,
  domain: c.domain,
  destination: c.destination,
  options: MigrateOptions.parse(c.options ?? {}),
});

export function describeDriverContract(name: string, makeDrivers: () => Promise<ContractDrivers>, expectations: ContractExpectations): void {
  const timeout = expectations.timeoutMs ?? 60_000;
  describe(`driver contract: ${name}`, () => {
    let d: ContractDrivers;
    beforeAll(async () => {
      d = await makeDrivers();
    }, timeout);
    afterAll(async () => {
      await d?.cleanup();
    }, timeout);

    it("names its host", () => {
      expect(d.hostname).toMatch(/\S/);
    });

    it("has exactly the drivers it should", () => {
      const present = (["virt", "net", "swarm", "storage"] as const).filter((k) => d[k]);
      expect(present).toEqual([...expectations.sections].sort((a, b) => ["virt", "net", "swarm", "storage"].indexOf(a) - ["virt", "net", "swarm", "storage"].indexOf(b)));
    });

    const declared = ["node", ...expectations.sections] as (keyof typeof sectionSchemas)[];
    for (const section of declared) {
      it(`${section}: snapshot validates against the domain schema`, async () => {
        const src = d[section]!;
        const snap = await src.snapshot();
        const res = sectionSchemas[section].safeParse(snap);
        expect(res.success ? [] : res.error.issues).toEqual([]);
      }, timeout);

      it(`${section}: watch returns an unsubscribe that can be called twice`, () => {
        const src = d[section]!;
        const stop = src.watch(() => undefined);
        stop();
        stop();
      });
    }

    if (expectations.stats)
      it("stats: two readings validate, name no loopback or VM tap, and no counter goes back", async () => {
        const a = await d.stats!.read();
        const b = await d.stats!.read();
        for (const r of [a, b]) expect(StatsCounters.safeParse(r).error?.issues ?? []).toEqual([]);
        expect(b.interfaces.filter((i) => i.name === "lo" || /^(vnet|tap)\d/.test(i.name))).toEqual([]);
        if (a.cpu && b.cpu) expect([b.cpu.busy >= a.cpu.busy, b.cpu.total >= a.cpu.total]).toEqual([true, true]);
        for (const i of b.interfaces) {
          const before = a.interfaces.find((x) => x.name === i.name);
          if (before) expect([i.rxBytes >= before.rxBytes, i.txBytes >= before.txBytes]).toEqual([true, true]);
        }
        for (const dom of b.domains) {
          const before = a.domains.find((x) => x.name === dom.name);
          if (before) expect(dom.cpuTimeNs).toBeGreaterThanOrEqual(before.cpuTimeNs);
        }
      }, timeout);

    const hasVirt = expectations.sections.includes("virt");
    const v = expectations.virt ?? {};
    if (hasVirt)
      describe("virt", () => {
        it("power on a missing domain rejects with notFound", async () => {
          await expectAgentError(d.virt!.power(MISSING, "start"), [AgentErrorCode.notFound]);
        }, timeout);

        const anyCase = v.success ?? v.failing;
        if (anyCase)
          it("migrating a missing domain rejects with notFound", async () => {
            const signal = new AbortController().signal;
            await expectAgentError(d.virt!.migrate(migrateParams({ ...anyCase, domain: MISSING }, "contract-missing"), { report: () => undefined, signal }), [AgentErrorCode.notFound]);
          }, timeout);

        it("preflight as the source: a domain that is not here fails its check (never throws)", async (ctx) => {
          if (!d.virt!.preflight) return ctx.skip();
          const checks = await d.virt!.preflight({ role: "source", domain: MISSING, destination: "elsewhere" });
          expect(checks).toEqual([expect.objectContaining({ id: "agent-source", result: "fail" })]);
        }, timeout);

        it("preflight as the destination: a small VM on one of its bridges passes; a disk path it cannot see fails", async (ctx) => {
          if (!d.virt!.preflight || !d.net) return ctx.skip();
          const bridge = (await d.net.snapshot()).bridges[0];
          if (!bridge) return ctx.skip();
          const request = {
            role: "destination" as const, domain: MISSING, source: "elsewhere", memoryMiB: 1, memoryHeadroomMiB: 0,
            nics: [{ mac: "52:54:00:00:00:99", bridge: bridge.name, bridgeType: bridge.type, vlan: null }], diskPaths: [],
          };
          const ok = await d.virt!.preflight(request);
          expect(ok.filter((c) => c.result === "fail")).toEqual([]);
          expect(ok.map((c) => c.id)).toEqual(expect.arrayContaining(["agent-memory", "agent-net-52:54:00:00:00:99", "agent-storage"]));
          const unseen = await d.virt!.preflight({ ...request, diskPaths: [`/nimbus-contract-missing/${MISSING}.qcow2`] });
          expect(unseen.find((c) => c.id === "agent-storage")?.result).toBe("fail");
        }, timeout);

        const p = v.power;
        if (p)
          it("power() changes the domain's state and watch reports it", async () => {
            const virt = d.virt!;
            const stateOf = async () => (await virt.snapshot()).domains.find((x) => x.name === p.domain)?.state;
            expect(await stateOf()).toBe("running");
            await watchFiresAfter(virt, () => virt.power(p.domain, p.stop), timeout / 2);
            await waitFor(async () => (await stateOf()) === "shutoff", timeout / 2, `${p.domain} is shut off`);
            await watchFiresAfter(virt, () => virt.power(p.domain, "start"), timeout / 2);
            await waitFor(async () => (await stateOf()) === "running", timeout / 2, `${p.domain} runs again`);
            await expectAgentError(virt.power(p.domain, "start"), [AgentErrorCode.conflict, AgentErrorCode.toolFailed]);
          }, timeout * 3);

        const con = v.console;
        if (con)
          it("console: a running domain answers Enter with output and closes when asked; a stopped or missing one is refused", async () => {
            const driver = d.virt!.console;
            expect(driver, "a virt driver with a console").toBeDefined();
            await expectAgentError(driver!.open(MISSING, { cols: 80, rows: 24 }), [AgentErrorCode.notFound]);
            await expectAgentError(driver!.open(con.stopped, { cols: 80, rows: 24 }), [AgentErrorCode.conflict]);
            const stream = await driver!.open(con.running, { cols: 80, rows: 24 });
            let out = "";
            const ended = new Promise<string>((resolve) => stream.onClose(resolve));
            stream.onData((b) => (out += b.toString("utf8")));
            stream.write(Buffer.from("\r"));
            await waitFor(async () => /login: |Password: |[$#] /.test(out), timeout / 2, `${con.running}'s console prompts`);
            stream.close();
            expect(await ended).toBe("closed");
          }, timeout);

        const cancel = v.cancel;
        if (cancel)
          it("a cancelled migration rejects and leaves the VM on the source", async () => {
            const abort = new AbortController();
            const reports: MigrationProgress[] = [];
            const run = d.virt!.migrate(migrateParams(cancel, "contract-cancel"), {
              signal: abort.signal,
              report: (pr) => {
                reports.push(pr);
                if (pr.phase !== "preparing") abort.abort();
              },
            });
            setTimeout(() => abort.abort(), timeout / 4);
            await expectAgentError(run, [AgentErrorCode.conflict, AgentErrorCode.toolFailed]);
            expect(reports.length).toBeGreaterThan(0);
            expect((await d.virt!.snapshot()).domains.some((x) => x.name === cancel.domain)).toBe(true);
          }, timeout);

        const failing = v.failing;
        if (failing)
          it("a failing migration rejects and leaves the VM on the source", async () => {
            await expectAgentError(d.virt!.migrate(migrateParams(failing, "contract-fail"), { report: () => undefined, signal: new AbortController().signal }), [
              AgentErrorCode.toolFailed,
              AgentErrorCode.conflict,
            ]);
            expect((await d.virt!.snapshot()).domains.find((x) => x.name === failing.domain)?.state).toBe("running");
          }, timeout);

        const success = v.success;
        if (success)
          it("a migration reports monotonic progress and resolves with the VM on the destination", async () => {
            const virt = d.virt!;
            const reports: MigrationProgress[] = [];
            let result: { downtimeMs: number | null } | undefined;
            await watchFiresAfter(
              virt,
              async () => {
                result = await virt.migrate(migrateParams(success, "contract-ok"), { report: (pr) => reports.push(pr), signal: new AbortController().signal });
              },
              timeout / 2,
            );
            expect(result).toBeDefined();
            expect(reports.length).toBeGreaterThan(0);
            const percents = reports.map((r) => r.percent);
            expect(percents).toEqual([...percents].sort((a, b) => a - b));
            expect((await virt.snapshot()).domains.some((x) => x.name === success.domain)).toBe(false);
            expect(await success.onDestination(success.domain)).toBe(true);
          }, timeout);
      });

    const scale = expectations.swarm?.scale;
    if (expectations.sections.includes("swarm") && scale)
      describe("swarm manager", () => {
        it("scaling a missing service rejects with notFound", async () => {
          await expectAgentError(
            d.swarm!.scale({ jobId: "contract-missing", service: MISSING, replicas: 1 }, { report: () => undefined, signal: new AbortController().signal }),
            [AgentErrorCode.notFound],
          );
        }, timeout);

        it("setAvailability on a missing node rejects with an AgentError", async () => {
          await expectAgentError(d.swarm!.setAvailability(MISSING, "drain"), [AgentErrorCode.notFound, AgentErrorCode.toolFailed]);
        }, timeout);

        it("scale converges, reports progress and watch sees it", async () => {
          const swarm = d.swarm!;
          const reports: ScaleProgress[] = [];
          await watchFiresAfter(swarm, () => swarm.scale({ jobId: "contract-scale", service: scale.service, replicas: scale.replicas }, { report: (pr) => reports.push(pr), signal: new AbortController().signal }), timeout / 2);
          expect(reports.at(-1)).toMatchObject({ kind: "scale", service: scale.service, desired: scale.replicas, running: scale.replicas });
          const svc = (await swarm.snapshot()).services.find((x) => x.name === scale.service);
          expect(svc?.replicasDesired).toBe(scale.replicas);
        }, timeout);

        it("join tokens are non-empty on a manager", async () => {
          const t = await d.swarm!.joinTokens();
          expect(t.worker).toMatch(/\S/);
          expect(t.manager).toMatch(/\S/);
          expect(t.worker).not.toBe(t.manager);
        }, timeout);
      });
  });
}
