import { sql } from "drizzle-orm";
import type { Db } from "./open.js";

/** One trivial query: the console's own check that its database answers. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.execute(sql`select 1`);
}
