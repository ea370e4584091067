import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { type Dialect, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { statementName } from './prepared.ts';
import { HavenSqliteDialect } from './sqlite-dialect.ts';
import type { DB } from './tables.ts';
import { DatabaseUnavailableError } from './unavailable.ts';

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
  /** PostgreSQL: the pool's connections right now (for `/metrics`); SQLite: null (one connection). */
  connections(): PoolUsage | null;
  close(): Promise<void>;
}

/** What pg's pool holds at one moment. */
export interface PoolUsage {
  /** Open connections, idle or lent out. */
  total: number;
  idle: number;
  /** Queries waiting for a connection to come free. */
  waiting: number;
  /** The most connections the pool opens. */
  max: number;
}

/**
 * How long Haven waits on the database before giving up, in milliseconds; 0 waits for ever.
 * The server sets them all, so one stuck request cannot stall the others; bulk work from the
 * console sets none (a million-row import may rightly take minutes).
 */
export interface DatabaseTimeouts {
  /** PostgreSQL: the longest one statement may run. */
  statementMs: number;
  /** PostgreSQL: the longest a statement waits for a row or table lock (the audit chain's head). */
  lockMs: number;
  /** PostgreSQL: a session left idle inside a transaction this long is ended, releasing its locks. */
  idleInTransactionMs: number;
  /** The longest a query waits for a connection: PostgreSQL's pool, or SQLite's one connection. */
  acquireMs: number;
  /** SQLite: the longest a write waits for another process's write to finish. */
  busyMs: number;
}

// What bulk work, benchmarks and tests get: no limits but SQLite's long-standing busy timeout.
const DEFAULT_TIMEOUTS: DatabaseTimeouts = {
  statementMs: 0,
  lockMs: 0,
  idleInTransactionMs: 0,
  acquireMs: 0,
  busyMs: 5000,
};

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
  /** The server's limits; unset ones fall back to `DEFAULT_TIMEOUTS`. */
  timeouts?: Partial<DatabaseTimeouts>;
}

/** The change running in this async context, and the outer handle it makes unreachable. */
interface ActiveChange {
  readonly outer: Kysely<DB>;
  open: boolean;
}

const activeChange = new AsyncLocalStorage<ActiveChange>();

/**
 * Runs a change's work so that the outer handle of `database` refuses every query until it
 * ends: inside a change the outer handle would wait on the change's own transaction (SQLite's
 * one connection, or PostgreSQL's chain lock and pool), which hangs the server.
 */
export async function withinChange<T>(database: Database, work: () => Promise<T>): Promise<T> {
  const active: ActiveChange = { outer: database.db, open: true };
  try {
    return await activeChange.run(active, work);
  } finally {
    // Timers and promises started inside the change keep this context; once it ends they may query.
    active.open = false;
  }
}

/** Whether a change on `database` is running in this async context. */
export function changeRunningOn(database: Database): boolean {
  const active = activeChange.getStore();
  return active?.open === true && active.outer === database.db;
}

/** The dialect with its driver refusing to hand out a connection to the outer handle inside a change. */
function refusingInsideChange(dialect: Dialect, outer: () => Kysely<DB>): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => {
      const driver = dialect.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      driver.acquireConnection = () => {
        const active = activeChange.getStore();
        if (active?.open && active.outer === outer()) {
          return Promise.reject(
            new Error(
              'A query ran on the outer database handle inside a change: read and write through change.db',
            ),
          );
        }
        return acquire();
      };
      return driver;
    },
  };
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

// pg-pool waiting for a free client, or pg waiting for a new connection to open.
const POOL_TIMEOUT =
  /timeout exceeded when trying to connect|Connection terminated due to connection timeout/;

/**
 * The pool as Kysely sees it, with each client sending hot queries (see `runPrepared`) as named
 * statements: prepared once per connection, then bound and executed in one round trip.
 */
function namingHotQueries(pool: pg.Pool) {
  return {
    async connect() {
      let client: pg.PoolClient & { [named]?: true };
      try {
        client = await pool.connect();
      } catch (error) {
        // pg's only words for "no connection within connectionTimeoutMillis".
        if (error instanceof Error && POOL_TIMEOUT.test(error.message))
          throw new DatabaseUnavailableError('No database connection came free in time', {
            cause: error,
          });
        throw error;
      }
      if (!client[named]) {
        // A session the server ends (idle-in-transaction timeout) fails its next query instead of
        // emitting an unhandled 'error' that would stop the process.
        client.on('error', () => {});
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
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
      ...(options.searchPath ? { options: `-c search_path=${options.searchPath}` } : {}),
      // Sent as session settings at connect; 0 leaves PostgreSQL's own default (none).
      ...(timeouts.statementMs ? { statement_timeout: timeouts.statementMs } : {}),
      ...(timeouts.lockMs ? { lock_timeout: timeouts.lockMs } : {}),
      ...(timeouts.idleInTransactionMs
        ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionMs }
        : {}),
      ...(timeouts.acquireMs ? { connectionTimeoutMillis: timeouts.acquireMs } : {}),
    });
    const db: Kysely<DB> = new Kysely<DB>({
      dialect: refusingInsideChange(
        new PostgresDialect({ pool: namingHotQueries(pool) }),
        () => db,
      ),
    });
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
      connections: () => ({
        total: pool.totalCount,
        idle: pool.idleCount,
        waiting: pool.waitingCount,
        max: pool.options.max,
      }),
      close: () => db.destroy(),
    };
  }

  const file = options.sqliteFile ?? path.join(options.dataDir ?? './data', 'haven.sqlite');
  mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(timeouts.busyMs)}`);
  sqlite.pragma('synchronous = NORMAL');
  // Table statistics for the query planner, refreshed where they are missing or stale.
  sqlite.pragma('optimize = 0x10002');
  withoutValueSamples(sqlite);
  const db: Kysely<DB> = new Kysely<DB>({
    dialect: refusingInsideChange(
      new HavenSqliteDialect(sqlite, { acquireTimeoutMs: timeouts.acquireMs }),
      () => db,
    ),
  });
  return {
    db,
    engine: 'sqlite',
    analyze: async () => {
      sqlite.exec('analyze');
      withoutValueSamples(sqlite);
    },
    connections: () => null,
    close: async () => {
      sqlite.pragma('optimize');
      await db.destroy();
    },
  };
}
