import { afterEach, describe, expect, it, vi } from "vitest";
import type { FleetEvent, FleetView } from "@nimbus/fleet";
import type { TenantService } from "../src/deps.js";
import { TopologyService } from "../src/services/topology.js";
import { healthFleet } from "./health-fleet.js";

afterEach(() => vi.useRealTimers());

/** A small fleet whose events the test sends, and a topology service counting its builds. */
function setup() {
  vi.useFakeTimers();
  const { fleet, replace } = healthFleet(3, 1);
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

  it("waits five seconds between builds while a host is still connecting, then catches up", () => {
    const { versions, netChanged, setState, service } = setup();
    setState("kvm2", "connecting");
    netChanged("kvm0");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([]); // the first build (at construction) was under 5 s ago
    vi.advanceTimersByTime(4_500);
    expect(versions).toEqual([1]);
    netChanged("kvm1");
    vi.advanceTimersByTime(4_000);
    expect(versions).toEqual([1]); // a second build would be due after 500 ms: held back
    vi.advanceTimersByTime(1_100);
    expect(versions).toEqual([1, 2]);
    setState("kvm2", "online");
    netChanged("kvm2");
    vi.advanceTimersByTime(600);
    expect(versions).toEqual([1, 2, 3]);
    service.stop();
  });
});
