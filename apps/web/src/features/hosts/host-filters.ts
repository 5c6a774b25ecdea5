import type { HostSummary } from "@nimbus/domain";

/** Hosts filter from the URL: free text, connection problem, role. Pure for tests. */
export interface HostFilter {
  q: string;
  state: "" | "online" | "problem" | "maintenance";
  role: string;
}

export function filterHosts(hosts: readonly HostSummary[], f: HostFilter): HostSummary[] {
  const q = f.q.trim().toLowerCase();
  return hosts.filter(
    (h) =>
      (!q || h.name.toLowerCase().includes(q) || h.address.includes(q) || (h.message ?? "").toLowerCase().includes(q)) &&
      (!f.role || h.roles.includes(f.role as HostSummary["roles"][number])) &&
      (f.state === "" ||
        (f.state === "online" && h.state === "online") ||
        (f.state === "problem" && h.state !== "online" && h.state !== "connecting") ||
        (f.state === "maintenance" && h.maintenance)),
  );
}
