import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { balancerStats, parseShowStat, requestShares } from "../../src/index.js";

// Captured from HAProxy 2.6.12 (Debian 12) in front of two busybox httpd and a closed port,
// six requests round robin; then n1 set to maint and n2 stopped; then n2 back (rising).
const sample = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const now = new Date("2026-12-07T09:00:00.000Z");

describe("show stat parser", () => {
  it("reads servers by column name: state, check status, last change, sessions and the requests each got", () => {
    const rows = parseShowStat(sample("show-stat.csv"));
    expect(rows.map((r) => `${r.pxname}/${r.svname}`)).toEqual(["fe_web/FRONTEND", "be_web/n1", "be_web/n2", "be_web/n3", "be_web/BACKEND"]);
    const { frontend, servers } = balancerStats(rows, "web", now);
    expect(frontend).toEqual({ status: "OPEN", sessionsCurrent: 0, sessionsTotal: 6 });
    expect(servers.map((s) => [s.name, s.status, s.state, s.checkStatus, s.checkCode, s.sessionsTotal, s.selected, s.address])).toEqual([
      ["n1", "UP", "up", "L7OK", "200", 3, 3, "127.0.0.1:18081"],
      ["n2", "UP", "up", "L7OK", "200", 3, 3, "127.0.0.1:18082"],
      ["n3", "DOWN", "down", "L4CON", null, 0, 0, "127.0.0.1:18083"],
    ]);
    expect(servers[2]!.checkDescription).toBe("Layer4 connection problem");
    expect(servers[0]!.lastChangeAt).toBe("2026-12-07T08:59:56.000Z");
    expect([...requestShares(servers)]).toEqual([["n1", 0.5], ["n2", 0.5], ["n3", 0]]);
  });

  it("maintenance and a server rising from DOWN (\"DOWN 1/2\")", () => {
    const maint = balancerStats(parseShowStat(sample("show-stat-down.csv")), "web", now).servers;
    expect(maint.map((s) => [s.name, s.state])).toEqual([["n1", "maint"], ["n2", "down"], ["n3", "down"]]);
    const rising = balancerStats(parseShowStat(sample("show-stat-rising.csv")), "web", now).servers;
    expect(rising.map((s) => [s.name, s.status, s.state])).toEqual([["n1", "UP", "up"], ["n2", "DOWN 1/2", "down"], ["n3", "DOWN", "down"]]);
  });

  it("columns are found by name whatever their order, and an unknown backend gives no servers", () => {
    const text = "# pxname,svname,lbtot,scur,status\nfe_x,FRONTEND,,0,OPEN\nbe_x,s1,7,,UP\n";
    expect(balancerStats(parseShowStat(text), "x", now).servers).toMatchObject([{ name: "s1", status: "UP", selected: 7, sessionsTotal: 0, lastChangeAt: null }]);
    expect(balancerStats(parseShowStat(sample("show-stat.csv")), "other", now)).toEqual({ frontend: null, servers: [] });
  });

  it("refuses what is not show stat output, skips cut lines and bounds rows", () => {
    expect(() => parseShowStat("Unknown command. Please enter one of the following commands only :\n")).toThrow(/not show stat output/);
    expect(() => parseShowStat("")).toThrow();
    const header = sample("show-stat.csv").split("\n")[0]!;
    expect(parseShowStat(`${header}\nbe_web,n1,0`)).toEqual([]);
    const many = Array.from({ length: 5000 }, (_, i) => `be_x,s${i},UP${",".repeat(200)}`).join("\n");
    expect(parseShowStat(`# pxname,svname,status\n${many}`).length).toBe(1024);
    // Hostile values are cut, never trusted as numbers.
    const hostile = balancerStats(parseShowStat(`# pxname,svname,status,scur,lbtot\nbe_x,${"s".repeat(5000)},UP,-5,NaN\n`), "x", now).servers[0]!;
    expect(hostile.name.length).toBeLessThanOrEqual(256);
    expect([hostile.sessionsCurrent, hostile.selected]).toEqual([0, 0]);
  });
});
