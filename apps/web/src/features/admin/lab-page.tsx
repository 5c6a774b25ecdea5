"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Input, Select } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/panel";
import { PlainTable, plainCell } from "@/components/ui/plain-table";
import { ErrorState, PanelsSkeleton } from "@/components/ui/states";
import { notify } from "@/lib/notify";
import { useTRPC } from "@/lib/trpc";
import { useAction } from "@/lib/use-action";

/** "[FOR_MS]" is optional, "HOST" is required. */
const optional = (arg: string) => arg.startsWith("[");
const argName = (arg: string) => arg.replace(/^\[|\]$/g, "");

/**
 * Fault injection for the embedded lab (admins only, only when the lab runs): break things on
 * purpose and watch every screen react live.
 */
export function LabPage() {
  const trpc = useTRPC();
  const faults = useQuery(trpc.lab.faults.queryOptions());
  const hosts = useQuery(trpc.hosts.list.queryOptions());
  const [args, setArgs] = useState<Record<string, string[]>>({});
  const inject = useAction(
    trpc.lab.inject.mutationOptions({
      onSuccess: (_r, v) => notify.ok(`Injected ${v.name}${v.args.length ? ` ${v.args.join(" ")}` : ""}`),
      onError: (e, v) => notify.error(e, v.name),
    }),
  );
  const hostNames = hosts.data?.map((h) => h.name) ?? [];

  return (
    <>
      <PageHeader title="Lab faults" description="The embedded lab can break on purpose: stop a host, cut a link, change a host key, fill a datastore. Every screen shows it live." />
      {faults.isPending ? (
        <PanelsSkeleton count={1} />
      ) : faults.error ? (
        <ErrorState error={faults.error} onRetry={() => void faults.refetch()} />
      ) : (
        <div className="rounded-lg border border-border bg-panel">
          <PlainTable head={["Fault", "What it does", "Arguments", ""]} testId="lab-faults">
            {faults.data.map((f) => {
              const values = args[f.name] ?? f.args.map(() => "");
              const set = (i: number, v: string) => setArgs((old) => ({ ...old, [f.name]: values.map((x, j) => (j === i ? v : x)) }));
              const missing = f.args.some((a, i) => !optional(a) && !values[i]);
              return (
                <tr key={f.name} data-testid={`fault-${f.name}`}>
                  <td className={`${plainCell} whitespace-nowrap font-mono`}>{f.name}</td>
                  <td className={plainCell}>{f.description}</td>
                  <td className={plainCell}>
                    <div className="flex flex-wrap gap-1.5">
                      {f.args.map((a, i) =>
                        argName(a) === "HOST" ? (
                          <Select key={a} aria-label={`${f.name} host`} value={values[i]} onChange={(e) => set(i, e.target.value)}>
                            <option value="">host…</option>
                            {hostNames.map((h) => (
                              <option key={h}>{h}</option>
                            ))}
                          </Select>
                        ) : (
                          <Input key={a} aria-label={`${f.name} ${argName(a)}`} placeholder={argName(a).toLowerCase()} className="w-28" value={values[i]} onChange={(e) => set(i, e.target.value)} />
                        ),
                      )}
                    </div>
                  </td>
                  <td className={`${plainCell} text-right`}>
                    <Button
                      size="sm"
                      disabled={missing}
                      busy={inject.isPending && inject.variables?.name === f.name}
                      onClick={() => inject.mutate({ name: f.name, args: values.filter((v, i) => v || !optional(f.args[i]!)) })}
                    >
                      Inject
                    </Button>
                  </td>
                </tr>
              );
            })}
          </PlainTable>
        </div>
      )}
    </>
  );
}
