import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Saved Access Audit Report runs (issue 14, item 2), kept inside the database so that a backup
 * carries them. A run's JSON document is stored as it was streamed out, in chunks of about a
 * megabyte (`access_audit_run_chunks`, written first); the run's row is written last, in the
 * change that audits it, so a run that never finished is never listed. Neither table is ever
 * updated, and a run and its chunks are never deleted: triggers refuse it on both engines (the
 * chunks of a run that never finished, which no row names, may be cleared).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, bigint, binary } = columnTypes(db);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('access_audit_run_chunks')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('bytes', binary, (c) => c.notNull())
    .addPrimaryKeyConstraint('access_audit_run_chunks_pk', ['run_id', 'seq'] as never)
    .execute();

  await db.schema
    .createTable('access_audit_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('scope_type', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('scope_name', 'text', (c) => c.notNull())
    // Null: the report is as of the moment it was taken (`created_at`).
    .addColumn('as_of', timestamp)
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('row_count', 'integer', (c) => c.notNull())
    .addColumn('byte_length', bigint, (c) => c.notNull())
    .addColumn('chunk_count', 'integer', (c) => c.notNull())
    .addColumn('flag_counts', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('access_audit_runs_by_scope')
    .on('access_audit_runs')
    .columns(['organisation_id', 'scope_type', 'scope_id', 'id'])
    .execute();

  const refusal = 'Saved access audit runs are never changed or deleted';
  if (postgres) {
    await sql
      .raw(`create function access_audit_runs_immutable() returns trigger language plpgsql as $$
        begin raise exception '${refusal}'; end $$`)
      .execute(db);
    await sql
      .raw(`create function access_audit_run_chunks_immutable() returns trigger language plpgsql as $$
        begin
          if tg_op = 'DELETE' and not exists (select 1 from access_audit_runs r where r.id = old.run_id) then
            return old;
          end if;
          raise exception '${refusal}';
        end $$`)
      .execute(db);
    for (const table of ['access_audit_runs', 'access_audit_run_chunks']) {
      await sql
        .raw(
          `create trigger ${table}_immutable before update or delete on ${table}
           for each row execute function ${table}_immutable()`,
        )
        .execute(db);
    }
  } else {
    const abort = `begin select raise(abort, '${refusal}'); end`;
    await sql
      .raw(`create trigger access_audit_runs_no_update before update on access_audit_runs ${abort}`)
      .execute(db);
    await sql
      .raw(`create trigger access_audit_runs_no_delete before delete on access_audit_runs ${abort}`)
      .execute(db);
    await sql
      .raw(
        `create trigger access_audit_run_chunks_no_update before update on access_audit_run_chunks ${abort}`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger access_audit_run_chunks_no_delete before delete on access_audit_run_chunks
         when exists (select 1 from access_audit_runs r where r.id = old.run_id) ${abort}`,
      )
      .execute(db);
  }
}
