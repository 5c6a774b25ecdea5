import { observe } from "@nimbus/domain";
import { TIMINGS, VRRP_HYSTERESIS } from "./timings.js";
import type { World } from "./world.js";

/**
 * keepalived on the storage pair: each server's vrrp_script checks its NFS daemon with
 * rise/fall; the VIP sits on the highest-priority server whose check passes (preempt), so it
 * moves to the backup about fall x interval (~1 s) after the primary fails, and back once the
 * primary's check has risen again.
 */
export class NfsSim {
  constructor(private readonly world: World) {
    world.addTicker(world.clock.every(TIMINGS.vrrpIntervalMs, () => this.tick()));
  }

  tick(): void {
    const { nfs } = this.world;
    const at = new Date().toISOString();
    for (const s of nfs.servers) {
      const powered = this.world.host(s.name).powered;
      const before = s.check.up;
      // A powered-off server sends no adverts: its peers see the same silence as a failing check.
      s.check = observe(s.check, powered && s.nfsRunning, at, VRRP_HYSTERESIS);
      if (s.check.up !== before) this.world.changed(s.name, "storage");
    }
    const master = [...nfs.servers].filter((s) => s.check.up).sort((a, b) => b.priority - a.priority)[0]?.name ?? null;
    if (master === nfs.master) return;
    const previous = nfs.master;
    nfs.master = master;
    for (const name of [previous, master]) if (name) this.world.changed(name, "storage", "net");
  }
}
