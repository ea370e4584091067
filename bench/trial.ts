import { type Database, openDatabase } from '../src/db/database.ts';
import { generateFixture } from './fixture.ts';
import { HavenOperations } from './haven-ops.ts';
import { findLoaded } from './load-haven.ts';

/** Where the `try-*` scripts keep the SQLite trust of this scale. */
export function trialDir(scale: number): string {
  return `/tmp/haven-bench-${scale}`;
}

/**
 * The database the `try-*` scripts work on: SQLite in /tmp/haven-bench-<scale>, or PostgreSQL's
 * `haven_bench` on the server BENCH_PG names.
 */
export function openTrialDatabase(scale: number): Database {
  const pgUrl = process.env.BENCH_PG;
  return pgUrl
    ? openDatabase({ databaseUrl: pgUrl.replace(/\/[^/]*$/, '/haven_bench') })
    : openDatabase({ dataDir: trialDir(scale) });
}

/** The trust `try-haven.ts` loaded at this scale, found again, with Haven's operations on it. */
export async function openLoadedTrial(scale: number) {
  const database = openTrialDatabase(scale);
  const fixture = generateFixture({ scale });
  const loaded = await findLoaded(database, fixture);
  return { database, fixture, loaded, ops: new HavenOperations(database, loaded) };
}
