import { eq } from "drizzle-orm";
import type { Db } from "../open.js";
import { healthAcks } from "../schema/index.js";

/** Someone on call has seen a failing check: who, when, and what they said they would do. */
export interface HealthAck {
  by: string;
  at: string;
  note?: string;
}

/** Acknowledgements of failing health checks, so a restart does not page everyone again. */
export class HealthAcks {
  constructor(private readonly db: Db) {}

  async all(): Promise<Map<string, HealthAck>> {
    const rows = await this.db.select().from(healthAcks);
    return new Map(rows.map((r) => [r.checkId, { by: r.by, at: r.at.toISOString(), ...(r.note ? { note: r.note } : {}) }]));
  }

  /** Records an acknowledgement, replacing an older one of the same check. */
  async put(checkId: string, ack: HealthAck): Promise<void> {
    const row = { by: ack.by, at: new Date(ack.at), note: ack.note ?? null };
    await this.db.insert(healthAcks).values({ checkId, ...row }).onConflictDoUpdate({ target: healthAcks.checkId, set: row });
  }

  async remove(checkId: string): Promise<void> {
    await this.db.delete(healthAcks).where(eq(healthAcks.checkId, checkId));
  }
}
