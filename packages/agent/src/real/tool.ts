import type { ToolConfig } from "./config.js";
import { runTool, type RunOptions } from "./run.js";

/**
 * One host tool as configured: its executable plus the arguments and environment every call
 * needs (a libvirt URI, a docker socket, OVS_RUNDIR). Drivers only ever pass the request's
 * own arguments.
 */
export class Tool {
  constructor(
    readonly name: string,
    private readonly cfg: ToolConfig,
  ) {}

  async run(args: string[], opts: Omit<RunOptions, "label" | "prefixArgs"> = {}): Promise<string> {
    const { stdout } = await runTool(this.cfg.path, [...this.cfg.args, ...args], {
      ...opts,
      env: { ...this.cfg.env, ...opts.env },
      label: this.name,
      prefixArgs: this.cfg.args.length,
    });
    return stdout;
  }

  /** Command line for a long-running child (event watchers, virsh migrate). */
  command(args: string[]): { cmd: string; args: string[]; env: Record<string, string> } {
    return { cmd: this.cfg.path, args: [...this.cfg.args, ...args], env: this.cfg.env };
  }
}
