import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Imports (issue 17, item 4). One row per import of students, staff or a OneRoster bundle: what
 * it was asked to do, how far it has gone (polled by the web page while a large file is checked
 * and written), what it counted and the problems it found, row by row. A run's record is
 * operational, like a saved report's progress; what the import changed is in the audit chain.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  await db.schema
    .createTable('import_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('students', 'staff', 'oneroster')`),
    )
    // waiting: made so a page can poll before its upload arrives; checking, writing: under way;
    // checked: a dry run ended; imported: written; refused: problems, nothing written; failed.
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`status in ('waiting', 'checking', 'writing', 'checked', 'imported', 'refused', 'failed')`,
        ),
    )
    .addColumn('dry_run', 'integer', (c) => c.notNull().check(sql`dry_run in (0, 1)`))
    .addColumn('on_error', 'text', (c) => c.notNull().check(sql`on_error in ('stop', 'skip')`))
    // Null: started from the server's console.
    .addColumn('started_by', 'text', (c) => c.references('users.id'))
    .addColumn('started_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('finished_at', timestamp)
    .addColumn('total_rows', 'integer', (c) => c.notNull().defaultTo(0))
    // Rows checked so far; then, while writing, how many changes there are and how many are done.
    .addColumn('processed_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_to_write', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('written_rows', 'integer', (c) => c.notNull().defaultTo(0))
    // JSON: { created, updated, unchanged, skipped, ... } as the import's answer counts them.
    .addColumn('counts', 'text', (c) => c.notNull())
    .addColumn('error_count', 'integer', (c) => c.notNull().defaultTo(0))
    // JSON: the first problems, row by row (every one is in the import's answer).
    .addColumn('errors', 'text', (c) => c.notNull())
    // JSON: the columns (or files) the import did not use.
    .addColumn('ignored_columns', 'text', (c) => c.notNull())
    // Failed: what went wrong, in words.
    .addColumn('failure', 'text')
    .execute();
  await db.schema
    .createIndex('import_runs_by_starter')
    .on('import_runs')
    .columns(['organisation_id', 'started_by', 'started_at'])
    .execute();
}
