import { openDatabase } from "@nimbus/db";
import { createTestTarget, type TestTarget } from "@nimbus/db/testing";
import pg from "pg";

export const databaseUrl = process.env.DATABASE_URL;

/** A migrated database of its own on the PostgreSQL server named by DATABASE_URL. */
export async function freshDatabase(): Promise<{ url: string; target: TestTarget }> {
  const target = await createTestTarget();
  const database = await openDatabase(target.options);
  await database.close();
  return { url: (target.options as { url: string }).url, target };
}

export function pool(url: string): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 500 });
  p.on("error", () => undefined);
  return p;
}
