import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** Where a running lab's control endpoint is: written by startLab into its data dir. */
export const ControlInfo = z.object({ url: z.string().url(), tokenPath: z.string(), pid: z.number().int() });
export type ControlInfo = z.infer<typeof ControlInfo>;
export const CONTROL_FILE = "control.json";

export function readControlInfo(dataDir: string): ControlInfo {
  const path = join(dataDir, CONTROL_FILE);
  let raw: string;
  try {
    raw = readFileSync(path, "utf8");
  } catch {
    throw new Error(`no lab is running with data dir ${dataDir} (${path} not found); start one with "pnpm lab serve"`);
  }
  return ControlInfo.parse(JSON.parse(raw));
}

/** A small client for the control endpoint, used by the CLI and by tests of other packages. */
export class LabControlClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  static fromDataDir(dataDir: string): LabControlClient {
    const info = readControlInfo(dataDir);
    return new LabControlClient(info.url, readFileSync(info.tokenPath, "utf8").trim());
  }

  status(): Promise<unknown> {
    return this.call("GET", "/status");
  }

  faults(): Promise<{ name: string; usage: string; describe: string }[]> {
    return this.call("GET", "/faults") as Promise<{ name: string; usage: string; describe: string }[]>;
  }

  fault(name: string, args: readonly (string | number)[] = []): Promise<unknown> {
    return this.call("POST", `/faults/${encodeURIComponent(name)}`, { args });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new Error(`lab control endpoint ${this.url} is not answering (${(err as Error).message}); is the lab still running?`);
    }
    const data = (await res.json().catch(() => ({}))) as { error?: string };
    if (!res.ok) throw new Error(data.error ?? `lab control endpoint answered ${res.status}`);
    return data;
  }
}
