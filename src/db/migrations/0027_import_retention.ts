import type { Kysely } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * How long an import run keeps what its file said. A run's problems name children and staff
 * ("Row 14: the email jo.bloggs@... is not an email address"), its unused columns and its failure
 * are the file's words too: the worker blanks them 30 days after the run finished
 * (`modules/imports/retention.ts`) and writes when here; the counts and the status stay.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  await db.schema.alterTable('import_runs').addColumn('problems_cleared_at', timestamp).execute();
  // The worker's pass reads the runs not yet cleared, oldest first.
  await db.schema
    .createIndex('import_runs_to_clear')
    .on('import_runs')
    .columns(['problems_cleared_at', 'finished_at'])
    .execute();
}
