import { compareHosts, type HostPage, type HostSummary } from "@nimbus/domain";
import { describe, expect, it } from "vitest";
import { hostSummaries } from "@/fixtures/views";
import { patchHostPages, type HostPages } from "./host-pages-patch";

function pagesOf(rows: HostSummary[], loaded: number, sort: "name" | "cpu" = "name"): HostPages {
  const sorted = [...rows].sort(compareHosts(sort, false));
  const page: HostPage = { items: sorted.slice(0, loaded), total: sorted.length, all: sorted.length, offset: 0, limit: loaded, problems: 0 };
  return { pages: [page], pageParams: [0] };
}
const sorted = [...hostSummaries].sort(compareHosts("name", false));

describe("patchHostPages: a pushed batch against the loaded Hosts pages", () => {
  it("replaces shown rows in place (live CPU), no reload", () => {
    const data = pagesOf(hostSummaries, 2);
    const busy = { ...sorted[0]!, cpuUsagePct: 97 };
    const { data: next, refetch } = patchHostPages(data, {}, [busy]);
    expect(refetch).toBe(false);
    expect(next!.pages[0]!.items[0]!.cpuUsagePct).toBe(97);
  });

  it("a shown host leaving the filter reloads; an unseen one past the loaded range does not", () => {
    const online = hostSummaries.filter((h) => h.state === "online");
    const data = pagesOf(online, 1);
    const down = { ...[...online].sort(compareHosts("name", false))[0]!, state: "unreachable" as const };
    expect(patchHostPages(data, { state: "online" }, [down]).refetch).toBe(true);
    const later = [...online].sort(compareHosts("name", false)).at(-1)!;
    expect(patchHostPages(data, { state: "online" }, [{ ...later, cpuUsagePct: 5 }]).refetch).toBe(online.length <= 1);
  });

  it("a new host sorting into the loaded range reloads; under a live sort (CPU) order is the one of loading", () => {
    const data = pagesOf(hostSummaries, 2);
    const fresh = { ...sorted[0]!, name: "0-new-host" };
    expect(patchHostPages(data, {}, [fresh]).refetch).toBe(true);
    expect(patchHostPages(pagesOf(hostSummaries, 2, "cpu"), { sort: "cpu" }, [{ ...fresh, cpuUsagePct: 0 }]).refetch).toBe(false);
    // All loaded: any new matching host changes the count.
    expect(patchHostPages(pagesOf(hostSummaries, hostSummaries.length, "cpu"), { sort: "cpu" }, [fresh]).refetch).toBe(true);
  });
});

describe("patchHostPages on one page of the sparse Hosts table (by offset)", () => {
  const pageAt = (offset: number, size = 2): HostPages => {
    const page: HostPage = { items: sorted.slice(offset, offset + size), total: sorted.length, all: sorted.length, offset, limit: size, problems: 0 };
    return { pages: [page], pageParams: [offset] };
  };

  it("a host of an earlier page reporting (live CPU) is not news for a middle page; one inside it or a new last host is", () => {
    expect(sorted.length).toBeGreaterThan(4);
    const middle = pageAt(2);
    expect(patchHostPages(middle, {}, [{ ...sorted[0]!, cpuUsagePct: 42 }]).refetch).toBe(false);
    const inside = { ...sorted[2]!, name: `${sorted[2]!.name}-0` };
    expect(patchHostPages(middle, {}, [inside]).refetch).toBe(true);
    // The last page: a host after its head that it has not got is new (it sorts last); one before is an earlier page's.
    const last = pageAt(sorted.length - 2);
    expect(patchHostPages(last, {}, [{ ...sorted[0]!, cpuUsagePct: 42 }]).refetch).toBe(false);
    expect(patchHostPages(last, {}, [{ ...sorted[0]!, name: "zzzz-new-host" }]).refetch).toBe(true);
    // Under a live sort, a last page does not reload on every report of another page's host.
    const byCpu = [...hostSummaries].sort(compareHosts("cpu", false));
    const lastByCpu: HostPages = { pages: [{ items: byCpu.slice(-2), total: byCpu.length, all: byCpu.length, offset: byCpu.length - 2, limit: 2, problems: 0 }], pageParams: [byCpu.length - 2] };
    expect(patchHostPages(lastByCpu, { sort: "cpu" }, [{ ...byCpu[0]!, cpuUsagePct: 100 }]).refetch).toBe(false);
  });
});
