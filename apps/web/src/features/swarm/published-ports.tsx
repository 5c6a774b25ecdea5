"use client";
import { answeredBy, publishedPortText, type PublishedPort } from "@nimbus/domain";

const short = (p: PublishedPort) =>
  p.nodes && p.nodes.length ? p.nodes.join(", ") : p.nodeCount ? `${p.nodeCount} node${p.nodeCount === 1 ? "" : "s"}` : "no task running";

/**
 * A service's published ports, each with its mode and who answers: the routing mesh on every
 * node (ingress), or in host mode the nodes running a task (a tenant sees how many, not which).
 */
export function PublishedPorts({ ports, testId }: { ports: readonly PublishedPort[]; testId?: string }) {
  if (!ports.length) return <span className="text-faint">—</span>;
  return (
    <ul className="flex flex-col gap-0.5" data-testid={testId}>
      {ports.map((p) => {
        const who = answeredBy(p);
        return (
          <li key={`${p.published}/${p.protocol}`} className="flex flex-wrap items-baseline gap-x-1.5 leading-[18px]" data-testid={`port-${p.published}`} data-mode={p.mode}>
            <span className="font-mono text-[12px] tabular-nums">{publishedPortText(p)}</span>
            <span
              className={p.mode === "host" && !p.nodeCount ? "text-[11.5px] text-warn" : "text-[11.5px] text-muted"}
              title={`${who}. ${p.mode === "ingress" ? "Published through the ingress network: every node answers and balances to the tasks." : "Published on the node running each task: only those nodes answer."}`}
            >
              {p.mode === "ingress" ? "mesh · every node" : `host · ${short(p)}`}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
