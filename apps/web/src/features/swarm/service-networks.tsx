"use client";
import type { OverlayNetwork, PortFinding } from "@nimbus/domain";
import { NameList } from "@/components/ui/name-list";
import { PlainTable, phoneHiddenCell, plainCell } from "@/components/ui/plain-table";
import { StatusBadge, Tag } from "@/components/ui/status-badge";
import { EmptyState } from "@/components/ui/states";

/** Overlay networks with their subnets, the services attached and the nodes that carry them. */
export function OverlayNetworksTable({ networks }: { networks: OverlayNetwork[] }) {
  if (!networks.length) return <EmptyState title="No overlay networks">The manager reports none (or no manager answered).</EmptyState>;
  return (
    <PlainTable head={["Network", "Subnets", "Services", "Nodes"]} testId="overlay-networks" phoneHidden={[3]}>
      {networks.map((n) => (
        <tr key={n.id} data-testid={`network-row-${n.name}`}>
          <td className={plainCell}>
            <span className="font-medium">{n.name}</span>
            {n.ingress && (
              <span className="ml-1.5">
                <Tag title="the routing mesh: ingress-published ports go through it">ingress</Tag>
              </span>
            )}
            {n.attachable && (
              <span className="ml-1.5">
                <Tag>attachable</Tag>
              </span>
            )}
          </td>
          <td className={plainCell}>
            {n.subnets.length ? (
              n.subnets.map((s) => (
                <div key={s.subnet} className="font-mono text-[12px]">
                  {s.subnet}
                  {s.gateway && <span className="text-muted"> gw {s.gateway}</span>}
                </div>
              ))
            ) : (
              <span className="text-faint">—</span>
            )}
          </td>
          <td className={plainCell}>{n.services.length ? <NameList names={n.services} shown={6} hrefFor={(s) => `/swarm/services/${encodeURIComponent(s)}`} /> : <span className="text-faint">none</span>}</td>
          <td className={`${plainCell} ${phoneHiddenCell}`}>{n.nodes.length ? <NameList names={n.nodes} shown={6} /> : <span className="text-faint">none</span>}</td>
        </tr>
      ))}
    </PlainTable>
  );
}

/**
 * Blocked ports between swarm nodes (the agents' checks, domain/swarm/ports.ts). UDP is judged by
 * the target's listening socket and the path 7946/tcp proves; a filter dropping UDP alone on an
 * open TCP path is beyond what a check can see, and the panel says so.
 */
export function PortFindingsPanelBody({ findings, nodes }: { findings: PortFinding[]; nodes: number }) {
  return (
    <div className="flex flex-col gap-2">
      {findings.length ? (
        <ul className="flex flex-col gap-1.5" data-testid="port-findings">
          {findings.map((f) => (
            <li key={f.id} className="flex flex-wrap items-start gap-2 text-[13px]" data-testid={`port-finding-${f.from}-${f.to}-${f.port}-${f.proto}`}>
              <StatusBadge status={{ tone: "crit", label: "Blocked" }} />
              <span className="font-mono text-[12px]">
                {f.from} → {f.to} {f.port}/{f.proto}
              </span>
              <span className="basis-full text-muted sm:basis-auto">{f.message}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-[13px]" data-testid="port-findings-ok">
          <StatusBadge status={{ tone: "ok", label: "Open" }} /> <span className="ml-1">{nodes === 1 ? "One node: no port between nodes to check yet." : `Every node reaches every other on the ports a swarm needs (${nodes} nodes checked).`}</span>
        </p>
      )}
      <p className="text-[12px] text-faint">
        2377/tcp to managers, 7946/tcp+udp between all nodes, 4789/udp between nodes that carry an overlay network. TCP is proven by a connect from each node; UDP counts as open when the
        target listens on the port and the peer reaches it on 7946/tcp. A firewall that drops UDP alone on an open TCP path cannot be seen by a check.
      </p>
    </div>
  );
}
