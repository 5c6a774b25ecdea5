import { resolve } from "node:path";
import { labEnv } from "./env.js";
import { layout } from "./layout.js";

/**
 * `pnpm lab:real up | status | down | capture DIR`
 *
 * Each command loads only its own modules: `down` and `status` must work even when the rest of
 * the workspace (the domain package, the agent) is broken mid-edit or absent.
 */
const usage = "usage: lab:real up | status | down | capture DIR";
const log = (line: string) => process.stdout.write(`[lab:real ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function main(cmd: string | undefined, arg: string | undefined): Promise<number> {
  const env = labEnv();
  const l = layout(env.labDir, env.repoRoot);
  switch (cmd) {
    case "up": {
      const { up } = await import("./up.js");
      try {
        const state = await up(l, log);
        log(`lab is up in ${((state.timingsMs.total ?? 0) / 1000).toFixed(1)} s (${state.hypervisor}); fleet config: ${l.fleetConfig}`);
        for (const [k, v] of Object.entries(state.checks)) log(`check ${k}: ${v}`);
        return 0;
      } catch (err) {
        log(`up failed: ${(err as Error).message}`);
        log(`logs are under ${l.nodesDir}/*/log; run \`lab:real down\` to clean up`);
        return 1;
      }
    }
    case "down": {
      const { down } = await import("./down.js");
      const t0 = Date.now();
      const r = await down(l, log);
      log(`down in ${((Date.now() - t0) / 1000).toFixed(1)} s: stopped ${r.stopped.length} daemon(s), ${r.swept} leftover process(es), deleted ${r.namespaces.length} namespace(s)`);
      return 0;
    }
    case "status": {
      const { status } = await import("./status.js");
      const s = await status(l);
      process.stdout.write(s.text + "\n");
      return s.up ? 0 : 3;
    }
    case "capture": {
      if (!arg) break;
      const { capture } = await import("./capture.js");
      const files = await capture(l, resolve(arg));
      log(`saved ${files.length} real outputs under ${resolve(arg)}`);
      return 0;
    }
  }
  process.stderr.write(usage + "\n");
  return 2;
}

main(process.argv[2], process.argv[3]).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`lab:real: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
