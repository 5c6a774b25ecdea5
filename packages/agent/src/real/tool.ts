import type { ToolConfig } from "./config.js";
import { runTool, type RunOptions } from "./run.js";
import { resolveExecutable } from "./which.js";

/**
 * One host tool as configured: its executable plus the arguments and environment every call
 * needs (a libvirt URI, a docker socket, OVS_RUNDIR). Drivers only ever pass the request's
 * own arguments. A bare name is looked up on PATH, then in the sbin directories (see which.ts),
 * at every call, so a tool installed while the agent runs is found without a restart.
 */
export class Tool {
  constructor(
    readonly name: string,
    private readonly cfg: ToolConfig,
  ) {}

  async run(args: string[], opts: Omit<RunOptions, "label" | "prefixArgs"> = {}): Promise<string> {
    const env = { ...this.cfg.env, ...opts.env };
    const { stdout } = await runTool(this.executable(env), [...this.cfg.args, ...args], {
      ...opts,
      env,
      label: this.name,
      prefixArgs: this.cfg.args.length,
    });
    return stdout;
  }

  /** Command line for a long-running child (event watchers, virsh migrate). */
  command(args: string[]): { cmd: string; args: string[]; env: Record<string, string> } {
    return { cmd: this.executable(this.cfg.env), args: [...this.cfg.args, ...args], env: this.cfg.env };
  }

  /** The child's PATH is the agent's unless the tool's env sets one. */
  private executable(env: Record<string, string>): string {
    return resolveExecutable(this.cfg.path, env.PATH ?? process.env.PATH);
  }
}
