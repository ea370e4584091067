import { type RawBuilder, sql } from 'kysely';
import type { Engine } from './database.ts';

/**
 * A parameter used as a value in a select list (INSERT ... SELECT): PostgreSQL must be told
 * its type; SQLite takes it as it is.
 */
export function textValue(value: string): RawBuilder<string> {
  return sql<string>`cast(${value} as text)`;
}

export function timeValue(engine: Engine, value: string): RawBuilder<string> {
  return engine === 'postgres' ? sql<string>`cast(${value} as timestamptz)` : sql<string>`${value}`;
}

/** Splits a list into slices, to stay within both engines' bound-parameter limits. */
export function chunks<T>(items: readonly T[], size = 500): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A condition selected as a column: SQLite answers 0 or 1, PostgreSQL a boolean. */
export function sqlTrue(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
