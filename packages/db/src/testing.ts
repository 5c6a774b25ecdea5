import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openDatabase, type Database, type DatabaseOptions } from "./open.js";

/**
 * Throwaway databases for tests (imported as "@nimbus/db/testing"): PGlite in a temporary
 * directory by default, or a new database on the PostgreSQL server named by DATABASE_URL, so one
 * suite runs against both (CI does both).
 *
 * Creating a PGlite cluster costs seconds (initdb + migrations); a vitest globalSetup that calls
 * preparePgliteTemplate() once lets every test copy a migrated cluster instead (~0.5 s).
 */
export const backend: "pglite" | "postgres" = process.env.DATABASE_URL ? "postgres" : "pglite";

const TEMPLATE_ENV = "NIMBUS_TEST_PGLITE_TEMPLATE";

export interface TestTarget {
  options: DatabaseOptions;
  remove(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `nimbus-${prefix}-`));
}

/**
 * For a vitest globalSetup: builds one migrated PGlite cluster and advertises it to the workers.
 * Skipped when the suite runs on PostgreSQL, unless `always` (tests of PGlite itself).
 */
export async function preparePgliteTemplate(opts: { always?: boolean } = {}): Promise<() => void> {
  if (backend !== "pglite" && !opts.always) return () => undefined;
  const dir = tempDir("template");
  const dataDir = path.join(dir, "db");
  const database = await openDatabase({ dataDir });
  await database.close();
  process.env[TEMPLATE_ENV] = dataDir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A PGlite directory (whatever DATABASE_URL says): a copy of the migrated template when there is
 * one, unless `empty` asks for a directory that has never held a cluster.
 */
export function freshPgliteDir(opts: { empty?: boolean } = {}): { dataDir: string; remove(): Promise<void> } {
  const dir = tempDir("db");
  const dataDir = path.join(dir, "db");
  const template = process.env[TEMPLATE_ENV];
  if (template && !opts.empty) fs.cpSync(template, dataDir, { recursive: true });
  return { dataDir, remove: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Where a fresh database without rows lives; open it (as often as wanted) with openDatabase.
 * `empty`: not even migrated yet (a new PostgreSQL database always is).
 */
export async function createTestTarget(opts: { empty?: boolean } = {}): Promise<TestTarget> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const { dataDir, remove } = freshPgliteDir(opts);
    return { options: { dataDir }, remove };
  }
  const name = `nimbus_test_${randomBytes(6).toString("hex")}`;
  await admin(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    options: { url: url.toString(), poolSize: 4 },
    remove: () => admin(serverUrl, `drop database if exists ${name} with (force)`),
  };
}

/** A migrated empty database whose close() also removes it. */
export async function openTestDatabase(): Promise<Database> {
  const target = await createTestTarget();
  const database = await openDatabase(target.options);
  return {
    ...database,
    async close() {
      await database.close();
      await target.remove();
    },
  };
}

async function admin(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
