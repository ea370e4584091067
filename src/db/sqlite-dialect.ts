import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { DatabaseUnavailableError } from './unavailable.ts';

/**
 * Kysely's SQLite dialect, with three changes Haven relies on:
 * - write transactions start with BEGIN IMMEDIATE, so a transaction never fails half-way
 *   when it upgrades from reading to writing while another process writes;
 * - prepared statements are cached by their SQL text, which keeps hot access checks cheap;
 * - a query waits at most `acquireTimeoutMs` for the one connection (0: for ever);
 * - a query gives way to the event loop before it starts when statements have kept the loop
 *   for `GIVE_WAY_AFTER_MS` (better-sqlite3 runs on the loop: without this, requests queued for
 *   the connection run back to back, and a request that needs no database waits for all of them).
 */
export class HavenSqliteDialect implements Dialect {
  constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly options: { acquireTimeoutMs?: number } = {},
  ) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createDriver(): Driver {
    return new HavenSqliteDriver(this.database, this.options.acquireTimeoutMs ?? 0);
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
}

/**
 * How long statements may keep the event loop before the next one waits for the loop to turn.
 * A turn costs about a millisecond under load, so this stays well above a typical statement.
 */
export const GIVE_WAY_AFTER_MS = 8;

class HavenSqliteDriver implements Driver {
  readonly #connection: HavenSqliteConnection;
  #queue: Promise<void> = Promise.resolve();
  /** Callers holding the connection or waiting for it. */
  #holders = 0;
  /** When the current stretch of work without an event-loop turn began (undefined: none). */
  #stretchStarted: number | undefined;

  constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly acquireTimeoutMs: number,
  ) {
    this.#connection = new HavenSqliteConnection(database);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection; callers wait their turn (transactions hold it until they end).
    let release!: () => void;
    const previous = this.#queue;
    // With nobody holding or awaiting the connection there is nothing to time out on: no timer.
    const contended = this.#holders > 0;
    this.#holders += 1;
    this.#queue = new Promise<void>((resolve) => {
      release = () => {
        this.#holders -= 1;
        resolve();
      };
    });
    if (
      contended &&
      this.acquireTimeoutMs > 0 &&
      !(await turnWithin(previous, this.acquireTimeoutMs))
    ) {
      // Gave up waiting: still pass the turn on when it comes, so the queue keeps moving.
      void previous.then(release);
      throw new DatabaseUnavailableError('The database connection did not come free in time');
    }
    await previous;
    await this.#giveWayIfLong();
    this.#connection.release = release;
    return this.#connection;
  }

  /**
   * Notes when a stretch of synchronous work began (a check-phase callback ends it), and when it
   * has lasted `GIVE_WAY_AFTER_MS`, waits until the loop has polled for I/O: two check phases
   * apart, as the first may come before the next poll.
   */
  async #giveWayIfLong(): Promise<void> {
    const now = performance.now();
    if (this.#stretchStarted === undefined) {
      this.#stretchStarted = now;
      setImmediate(() => {
        this.#stretchStarted = undefined;
      });
      return;
    }
    if (now - this.#stretchStarted < GIVE_WAY_AFTER_MS) return;
    await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    if (this.#stretchStarted === undefined) {
      this.#stretchStarted = performance.now();
      setImmediate(() => {
        this.#stretchStarted = undefined;
      });
    }
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    const release = this.#connection.release;
    this.#connection.release = undefined;
    release?.();
  }
  async destroy(): Promise<void> {
    this.database.close();
  }
}

/** Whether `turn` settles within `ms`. */
async function turnWithin(turn: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([turn.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

class HavenSqliteConnection implements DatabaseConnection {
  release: (() => void) | undefined;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly database: BetterSqlite3.Database) {}

  #prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      if (this.#statements.size >= 500) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    if (statement.reader) {
      return { rows: statement.all(parameters) as R[] };
    }
    const { changes, lastInsertRowid } = statement.run(parameters);
    return {
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not used by Haven; fail loudly if it ever is
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on SQLite in Haven');
  }
}
