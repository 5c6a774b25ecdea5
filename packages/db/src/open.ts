import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import * as schema from "./schema/index.js";
import { lockDataDir } from "./lock.js";
import { NimbusError } from "@nimbus/domain";

/** One drizzle type for both drivers: stores and better-auth see no difference. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  close(): Promise<void>;
}

export type DatabaseOptions = (
  /** Embedded PGlite in this directory (created if missing), locked against a second process. */
  | { dataDir: string }
  /** A PostgreSQL server (deployments with several server replicas). */
  | { url: string; poolSize?: number }
) & {
  /** Tests of an upgrade: the migrations an older release shipped (default: this package's). */
  migrationsFolder?: string;
};

const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** `.nimbus/db` under the repository root (ignored by git). */
export const defaultDataDir = () => path.join(repoRoot, ".nimbus", "db");

/** Opens the database and applies pending migrations before returning. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const folder = opts.migrationsFolder ?? migrationsFolder;
  return "url" in opts ? openPostgres(opts.url, opts.poolSize ?? 10, folder) : openPglite(opts.dataDir, folder);
}

async function openPglite(dataDir: string, migrationsFolder: string): Promise<Database> {
  const lock = lockDataDir(dataDir);
  let client: PGlite | undefined;
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    // Default shared_buffers keeps RSS near 350 MB; 16 MB brings it to about 260 MB.
    const postgresqlconf = ["shared_buffers=16MB"];
    // initdb grows PGlite's WebAssembly memory to ~600 MB, and a WebAssembly memory never shrinks:
    // a new cluster is made by an instance that is closed and dropped at once, so the server runs
    // on one that only ever opened it (~140 MB instead of ~570 MB outside the JS heap).
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) await (await PGlite.create({ dataDir, postgresqlconf })).close();
    client = await PGlite.create({ dataDir, postgresqlconf });
    const db = drizzlePglite(client, { schema });
    await migratePglite(db, { migrationsFolder });
    const opened = client;
    return {
      db: db as unknown as Db,
      kind: "pglite",
      async close() {
        try {
          await opened.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (e) {
    await client?.close().catch(() => undefined);
    lock.release();
    throw e;
  }
}

// Any constant works; it only has to be the same for every replica.
const MIGRATION_LOCK_KEY = 0x6e696d62; // "nimb"

async function openPostgres(url: string, poolSize: number, migrationsFolder: string): Promise<Database> {
  // Replicas starting together must not run the same migration twice: serialize on an advisory
  // lock, held by one dedicated connection for the duration.
  const migrator = new pg.Client({ connectionString: url });
  try {
    await migrator.connect();
  } catch (e) {
    throw new NimbusError("HOST_UNREACHABLE", `Cannot connect to PostgreSQL at ${describeUrl(url)}: ${(e as Error).message}`, {
      database: describeUrl(url),
    });
  }
  try {
    await migrator.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await migratePg(drizzlePg(migrator), { migrationsFolder });
  } finally {
    await migrator.end();
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  const db = drizzlePg(pool, { schema });
  return { db: db as unknown as Db, kind: "postgres", close: () => pool.end() };
}

/** host:port/database, without credentials, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
