import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Database, type Engine, openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { newId } from '../../src/lib/ids.ts';

export interface TestDatabase {
  database: Database;
  engine: Engine;
  /** Connection settings for a second process (the CLI) to open the same database. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export function testEngine(): Engine {
  return process.env.HAVEN_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';
}

/** The advisory lock that keeps test schemas from being dropped while another test migrates. */
const SCHEMA_LOCK = 7_311_001;

/**
 * Runs `work` (a migration) on PostgreSQL while no test schema is being dropped. Kysely's
 * migrator lists the tables of every schema in the database (its introspection calls
 * `pg_get_serial_sequence` on each), so a schema another test drops at that moment fails the
 * migration with "schema ... does not exist". Migrations share the lock; a drop takes it alone.
 */
export async function whileNoSchemaIsDropped<T>(work: () => Promise<T>): Promise<T> {
  const url = process.env.HAVEN_TEST_DATABASE_URL;
  if (testEngine() !== 'postgres' || !url) return work();
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  try {
    await holder.query('select pg_advisory_lock_shared($1)', [SCHEMA_LOCK]);
    return await work();
  } finally {
    await holder.end();
  }
}

/**
 * A fresh database for one test: a new SQLite file, or a new PostgreSQL schema; migrated to the
 * latest schema unless `migrate` is false.
 */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true;
  if (testEngine() === 'postgres') {
    const url = process.env.HAVEN_TEST_DATABASE_URL;
    if (!url) throw new Error('HAVEN_TEST_DATABASE_URL must be set for the postgres project');
    const schema = `haven_test_${newId()}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    await admin.end();
    const database = openDatabase({ databaseUrl: url, searchPath: schema, poolSize: 4 });
    if (migrate) await whileNoSchemaIsDropped(() => migrateToLatest(database.db));
    const searchPathUrl = new URL(url);
    searchPathUrl.searchParams.set('options', `-c search_path=${schema}`);
    // Documents and the installation key still live in a data directory.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-test-'));
    return {
      database,
      engine: 'postgres',
      env: { DATABASE_URL: searchPathUrl.toString(), HAVEN_DATA_DIR: dataDir },
      async dispose() {
        await database.close();
        rmSync(dataDir, { recursive: true, force: true });
        const cleanup = new pg.Client({ connectionString: url });
        await cleanup.connect();
        try {
          await cleanup.query('select pg_advisory_lock($1)', [SCHEMA_LOCK]);
          await cleanup.query(`drop schema "${schema}" cascade`);
        } finally {
          await cleanup.end();
        }
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'haven-test-'));
  const database = openDatabase({ dataDir: dir });
  if (migrate) await migrateToLatest(database.db);
  return {
    database,
    engine: 'sqlite',
    env: { HAVEN_DATA_DIR: dir },
    async dispose() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
