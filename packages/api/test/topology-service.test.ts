import { afterEach, describe, expect, it, vi } from "vitest";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import type { TenantService } from "../src/deps.js";
import { TopologyService } from "../src/services/topology.js";
import { healthFleet } from "./health-fleet.js";

afterEach(() => vi.useRealTimers());

/** A small fleet whose events the test sends, and a topology service counting its builds. */
function setup(hypervisors = 3) {
  vi.useFakeTimers();
  const { fleet, replace } = healthFleet(hypervisors, 1);
  const listeners = new Set<(e: FleetEvent) => void>();
  const view = { ...fleet, hosts: fleet.hosts, subscribe: (l: (e: FleetEvent) => void) => (listeners.add(l), () => listeners.delete(l)) } as unknown as FleetView;
  const tenants = { directory: () => new Map() } as unknown as TenantService;
  const service = new TopologyService(view, tenants, 500);
  service.start();
  const versions: number[] = [];
  service.subscribe((s) => versions.push(s.version));
  const netChanged = (host: string) => {
    for (const l of listeners) l({ type: "host", host, changed: ["net"] } as unknown as FleetEvent);
  };
  const setState = (host: string, state: string) => replace(host, (h) => ({ ...h, connection: { ...h.connection, state } as never }));
  return { service, versions, netChanged, setState };
}

describe("TopologyService", () => {
  it("rebuilds after a network change, at most once per interval", () => {
    const { versions, netChanged, service } = setup();
    netChanged("kvm0");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([1]);
    netChanged("kvm1");
    netChanged("kvm2");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([1, 2]);
    service.stop();
  });

  it("holds builds while a tenth of the hosts or more are connecting, until they are done", () => {
    const { versions, netChanged, setState, service } = setup();
    setState("kvm1", "connecting"); // 1 of 7 hosts
    netChanged("kvm0");
    vi.advanceTimersByTime(5_000);
    expect(versions).toEqual([]);
    setState("kvm1", "online");
    vi.advanceTimersByTime(300);
    expect(versions).toEqual([1]);
    service.stop();
  });

  it("builds anyway ten seconds after the last build when a mass connect goes on", () => {
    const { versions, netChanged, setState, service } = setup();
    setState("kvm1", "connecting");
    setState("kvm2", "connecting");
    netChanged("kvm0");
    vi.advanceTimersByTime(9_800);
    expect(versions).toEqual([]);
    vi.advanceTimersByTime(500);
    expect(versions).toEqual([1]);
    netChanged("kvm0");
    vi.advanceTimersByTime(9_000);
    expect(versions).toEqual([1]); // still held: the next one is due ten seconds after the last
    vi.advanceTimersByTime(1_500);
    expect(versions).toEqual([1, 2]);
    service.stop();
  });

  it("holds a mass connect's tail too: until fewer than a hundredth are still connecting", () => {
    const { versions, netChanged, setState, service } = setup(30);
    for (const h of ["kvm1", "kvm2", "kvm3", "kvm4"]) setState(h, "connecting"); // 4 of 34 hosts
    netChanged("kvm0");
    vi.advanceTimersByTime(1_000);
    expect(versions).toEqual([]);
    for (const h of ["kvm1", "kvm2", "kvm3"]) setState(h, "online"); // 1 of 34 left: the tail
    vi.advanceTimersByTime(2_000);
    expect(versions).toEqual([]);
    setState("kvm4", "online");
    vi.advanceTimersByTime(300);
    expect(versions).toEqual([1]);
    // Over: a host stuck later is a few hosts stuck, not a mass connect.
    setState("kvm5", "connecting");
    netChanged("kvm0");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([1, 2]);
    service.stop();
  });

  it("does not slow down for a few hosts stuck connecting in a big fleet", () => {
    const { versions, netChanged, setState, service } = setup(30);
    setState("kvm1", "connecting");
    setState("kvm2", "connecting"); // 2 of 34 hosts
    netChanged("kvm0");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([1]);
    service.stop();
  });
});
