import { type Compilable, CompiledQuery, type Kysely, PostgresAdapter } from 'kysely';
import type { DB } from './tables.ts';

/**
 * Hot queries compiled once per shape. Building and compiling a large Kysely query costs more
 * than SQLite takes to run it (about 150 microseconds against an access check's 50), so the hot
 * paths build their query with placeholders, keep the compiled SQL, and bind values per call.
 * The same builder code serves both; only the values are deferred.
 */
const SENTINEL = '\u0000haven:';
const cache = new Map<string, CompiledQuery>();

/**
 * PostgreSQL names the statements of hot queries, so each pooled connection parses and plans a
 * shape once and then only binds values: for a check, planning the query cost more than running
 * it. The names are stable for the life of the process (the SQL text decides the name).
 */
const statementNames = new Map<string, string>();

/** The name PostgreSQL prepares this SQL text under, if it is a hot query's. */
export function statementName(sql: string): string | undefined {
  return statementNames.get(sql);
}

export interface Placeholders {
  /** A value bound at each call. */
  value(name: string): string;
  /** A list of values bound at each call; its length is part of the query's shape. */
  list(name: string, length: number): string[];
}

const placeholders: Placeholders = {
  value: (name) => `${SENTINEL}${name}`,
  list: (name, length) => Array.from({ length }, (_, i) => `${SENTINEL}${name}#${i}`),
};

type Args = Record<string, string | number | null | readonly (string | number)[]>;

function bind(parameters: readonly unknown[], args: Args): unknown[] {
  return parameters.map((p) => {
    if (typeof p !== 'string' || !p.startsWith(SENTINEL)) return p;
    const key = p.slice(SENTINEL.length);
    const hash = key.indexOf('#');
    if (hash < 0) {
      if (!(key in args)) throw new Error(`No value for query placeholder ${key}`);
      return args[key];
    }
    const list = args[key.slice(0, hash)] as readonly unknown[];
    return list[Number(key.slice(hash + 1))];
  });
}

/**
 * Runs the query `build` makes for `shape`, compiling it only the first time this shape is
 * seen on this engine. `shape` must name everything that changes the SQL text.
 */
export async function runPrepared<Row>(
  db: Kysely<DB>,
  shape: string,
  build: (p: Placeholders) => Compilable<Row>,
  args: Args,
): Promise<Row[]> {
  const engine = db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
  const key = `${engine}|${shape}`;
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = build(placeholders).compile();
    if (cache.size > 2000) cache.clear();
    cache.set(key, compiled);
    if (engine === 'postgres' && !statementNames.has(compiled.sql) && statementNames.size < 2000)
      statementNames.set(compiled.sql, `haven_${statementNames.size + 1}`);
  }
  const result = await db.executeQuery<Row>(
    CompiledQuery.raw(compiled.sql, bind(compiled.parameters, args)),
  );
  return result.rows;
}
