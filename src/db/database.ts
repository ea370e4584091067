import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { statementName } from './prepared.ts';
import { HavenSqliteDialect } from './sqlite-dialect.ts';
import type { DB } from './tables.ts';

export type Engine = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<DB>;
  readonly engine: Engine;
  /**
   * Refreshes the query planner's table statistics (and, on PostgreSQL, the visibility map).
   * Bulk loads call it when they finish: until PostgreSQL's autovacuum gets round to it, a
   * freshly filled table looks empty to the planner, which then picks nested scans that take
   * seconds where an index takes a millisecond.
   */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://...` selects PostgreSQL; otherwise SQLite in `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir?: string;
  /** SQLite only: the exact file to open (tests use one file each). */
  sqliteFile?: string;
  /** PostgreSQL only: the schema to work in (tests use one schema each). */
  searchPath?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
}

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;

// Times come back as ISO 8601 strings and bigint counts as numbers, exactly as on SQLite.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) {
      return (value: string) => new Date(value).toISOString();
    }
    if (oid === INT8_OID) {
      return (value: string) => Number(value);
    }
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

const named = Symbol('haven.namedStatements');

/**
 * The pool as Kysely sees it, with each client sending hot queries (see `runPrepared`) as named
 * statements: prepared once per connection, then bound and executed in one round trip.
 */
function namingHotQueries(pool: pg.Pool) {
  return {
    async connect() {
      const client = (await pool.connect()) as pg.PoolClient & { [named]?: true };
      if (!client[named]) {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        client.query = ((text: unknown, values?: unknown) => {
          const name = typeof text === 'string' ? statementName(text) : undefined;
          return name ? query({ name, text, values }) : query(text, values);
        }) as typeof client.query;
        client[named] = true;
      }
      return client;
    },
    end: () => pool.end(),
  };
}

/**
 * Keeps SQLite's per-table statistics (sqlite_stat1) but not its samples of column values
 * (sqlite_stat4). With samples, a prepared statement whose parameters the planner looked up in
 * them is parsed and planned again at every run: a check cost 915,000 instructions where the
 * same statement without samples costs 125,000 (callgrind, full trust). Haven chooses its
 * query shapes itself (planStudentPage, planWhoCanSee), so value samples buy it nothing.
 */
function withoutValueSamples(sqlite: BetterSqlite3.Database) {
  const sampled = sqlite
    .prepare("select 1 from sqlite_schema where type = 'table' and name = 'sqlite_stat4'")
    .get();
  if (!sampled || !sqlite.prepare('select 1 from sqlite_stat4 limit 1').get()) return;
  sqlite.exec('delete from sqlite_stat4');
  // Reloads the statistics the planner holds in memory.
  sqlite.exec('analyze sqlite_schema');
}

export function openDatabase(options: DatabaseOptions): Database {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: namingHotQueries(pool) }) });
    return {
      db,
      engine: 'postgres',
      analyze: async () => {
        // VACUUM as well: it sets the visibility map, without which an index-only scan still
        // reads every row's page (100,000 heap fetches for a trust lead's paths after a load).
        const { rows } = await sql<{ name: string }>`
          select tablename as name from pg_tables where schemaname = current_schema()`.execute(db);
        if (rows.length === 0) return;
        const tables = sql.join(rows.map((r) => sql.id(r.name)));
        await sql`vacuum (analyze) ${tables}`.execute(db);
      },
      close: () => db.destroy(),
    };
  }

  const file = options.sqliteFile ?? path.join(options.dataDir ?? './data', 'haven.sqlite');
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // Table statistics for the query planner, refreshed where they are missing or stale.
  sqlite.pragma('optimize = 0x10002');
  withoutValueSamples(sqlite);
  const db = new Kysely<DB>({ dialect: new HavenSqliteDialect(sqlite) });
  return {
    db,
    engine: 'sqlite',
    analyze: async () => {
      sqlite.exec('analyze');
      withoutValueSamples(sqlite);
    },
    close: async () => {
      sqlite.pragma('optimize');
      await db.destroy();
    },
  };
}
