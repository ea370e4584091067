import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Access epochs: one counter per organisation, raised by a trigger in the same transaction as
 * every change to what a caller is (grants, user groups and their members and clearances,
 * school groups, schools and their settings, two-factor enrolment, the organisation itself).
 * Each `haven serve` process keeps the callers it has worked out by session and uses them only
 * while the organisation's counter is unchanged (`src/access/callers.ts`). Triggers, not the
 * services, raise it: a writer added later cannot forget to, and a change made by hand in the
 * database is seen too.
 *
 * On PostgreSQL the triggers are deferred to commit, so a transaction takes the counter's row
 * lock at its end rather than at its first change and holds it only while it commits, and an
 * organisation's counter is raised once per transaction however many rows it changed.
 */
export const epochTables: readonly { table: string; organisationColumn: string }[] = [
  { table: 'organisations', organisationColumn: 'id' },
  { table: 'schools', organisationColumn: 'organisation_id' },
  { table: 'school_groups', organisationColumn: 'organisation_id' },
  { table: 'school_group_schools', organisationColumn: 'organisation_id' },
  { table: 'role_grants', organisationColumn: 'organisation_id' },
  { table: 'user_groups', organisationColumn: 'organisation_id' },
  { table: 'user_group_members', organisationColumn: 'organisation_id' },
  { table: 'user_group_clearances', organisationColumn: 'organisation_id' },
  { table: 'user_totp', organisationColumn: 'organisation_id' },
];

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('access_epochs')
    .addColumn('organisation_id', 'text', (c) => c.primaryKey())
    .addColumn('epoch', postgres ? 'bigint' : 'integer', (c) => c.notNull())
    .execute();
  await sql`insert into access_epochs (organisation_id, epoch) select id, 1 from organisations`.execute(
    db,
  );

  if (postgres) {
    await sql
      .raw(`create function raise_access_epoch() returns trigger language plpgsql as $$
        declare
          org text := coalesce(to_jsonb(new) ->> tg_argv[0], to_jsonb(old) ->> tg_argv[0]);
          raised text := coalesce(current_setting('haven.access_epochs_raised', true), '');
        begin
          -- Once per organisation and transaction: an import's thousand rows raise it once.
          if position(',' || org || ',' in raised) > 0 then return null; end if;
          perform set_config('haven.access_epochs_raised', raised || ',' || org || ',', true);
          insert into access_epochs (organisation_id, epoch) values (org, 1)
            on conflict (organisation_id) do update set epoch = access_epochs.epoch + 1;
          return null;
        end $$`)
      .execute(db);
    for (const { table, organisationColumn } of epochTables) {
      await sql
        .raw(
          `create constraint trigger ${table}_access_epoch
             after insert or update or delete on ${table}
             deferrable initially deferred
             for each row execute function raise_access_epoch('${organisationColumn}')`,
        )
        .execute(db);
    }
    return;
  }

  for (const { table, organisationColumn } of epochTables) {
    for (const [event, row] of [
      ['insert', 'new'],
      ['update', 'new'],
      ['delete', 'old'],
    ] as const) {
      await sql
        .raw(
          `create trigger ${table}_access_epoch_${event} after ${event} on ${table}
           begin
             insert into access_epochs (organisation_id, epoch)
               values (${row}.${organisationColumn}, 1)
               on conflict (organisation_id) do update set epoch = epoch + 1;
           end`,
        )
        .execute(db);
    }
  }
}
