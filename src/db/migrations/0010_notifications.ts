import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes, rebuildSqliteTable } from './helpers.ts';

const alertKinds =
  "kind in ('incident_assigned', 'action_assigned', 'action_due', 'incident_logged', 'security')";
// A security alert is about the organisation, not a record; every other alert names its record.
const alertNamesRecord = "kind = 'security' or incident_id is not null";

/**
 * Notifications (issue 12): each category's rules (who is told, and how), the notices a change
 * queues in its own transaction, the email outbox the worker sends from, and the record of each
 * school's daily digest. Alerts gain two kinds: a concern was logged, and a security alert (about
 * the organisation, so without a record, carrying its message).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('notification_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('category_id', 'text', (c) => c.notNull().references('categories.id'))
    .addColumn('recipient_type', 'text', (c) =>
      c.notNull().check(sql`recipient_type in ('user', 'user_group')`),
    )
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) =>
      c.notNull().check(sql`channel in ('alert', 'immediate_email', 'digest_email')`),
    )
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('notification_rules_once', [
      'category_id',
      'recipient_type',
      'recipient_id',
      'channel',
    ])
    .execute();

  // What a change asks to be told, written in the change's own transaction. The worker decides
  // who receives it when it sends (the record policy at that moment), so a notice names the
  // rule's recipient (a user or a group), not the people who will get it.
  await db.schema
    .createTable('notices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('incident_logged', 'action_due', 'security')`),
    )
    .addColumn('channel', 'text', (c) =>
      c.notNull().check(sql`channel in ('immediate_email', 'digest_email')`),
    )
    .addColumn('recipient_type', 'text', (c) =>
      c.notNull().check(sql`recipient_type in ('user', 'user_group')`),
    )
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('incident_id', 'text', (c) => c.references('incidents.id'))
    .addColumn('action_id', 'text', (c) => c.references('actions.id'))
    .addColumn('message', 'text')
    // `pending`: for the worker now; `held`: waits for its school's digest; `done`: handled.
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'held', 'done')`),
    )
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('handled_at', timestamp)
    .execute();
  await db.schema
    .createIndex('notices_waiting')
    .on('notices')
    .columns(['status', 'school_id', 'created_at'])
    .execute();

  // One email to one person, sent by the worker with retries. Its text is made when it is sent,
  // from `kind` and `payload`, so a recipient who can no longer read the record is not told.
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('notice_id', 'text', (c) => c.references('notices.id'))
    // The school it is about (null: the organisation's), so a school's Admins see its failures.
    .addColumn('school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('to_user_id', 'text', (c) => c.references('users.id'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    // `pending` → `sending` (claimed until `locked_until`) → `sent`; `failed` after the last
    // retry; `withdrawn` when, at sending, the recipient may no longer read what it is about.
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'sending', 'sent', 'failed', 'withdrawn')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', timestamp, (c) => c.notNull())
    .addColumn('locked_until', timestamp)
    .addColumn('last_error', 'text')
    .addColumn('subject', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('sent_at', timestamp)
    .execute();
  await db.schema
    .createIndex('outbox_due')
    .on('outbox')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('outbox_by_organisation')
    .on('outbox')
    .columns(['organisation_id', 'status', 'created_at'])
    .execute();

  // One row per school and London date whose digest was made: two workers never make it twice.
  await db.schema
    .createTable('digest_runs')
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('digest_date', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('digest_runs_pk', ['school_id', 'digest_date'])
    .execute();

  if (db.getExecutor().adapter instanceof PostgresAdapter) await alertsOnPostgres(db);
  else await rebuildSqliteTable(db, 'alerts', () => alertsOnSqlite(timestamp));
}

async function alertsOnPostgres(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    select con.conname as name
    from pg_constraint con
    join pg_attribute att on att.attrelid = con.conrelid and att.attnum = any (con.conkey)
    where con.conrelid = 'alerts'::regclass and con.contype = 'c' and att.attname = 'kind'
  `.execute(db);
  for (const { name } of rows)
    await sql`alter table alerts drop constraint ${sql.id(name)}`.execute(db);
  await sql`alter table alerts alter column incident_id drop not null`.execute(db);
  await sql`alter table alerts add constraint alerts_kind check (${sql.raw(alertKinds)})`.execute(
    db,
  );
  await sql`alter table alerts add constraint alerts_record check (${sql.raw(alertNamesRecord)})`.execute(
    db,
  );
  await sql`alter table alerts add column message text`.execute(db);
}

function alertsOnSqlite(timestamp: string): string {
  return `CREATE TABLE "alerts_rebuilt" (
    "id" text primary key,
    "organisation_id" text not null references "organisations" ("id"),
    "recipient_type" text not null check (recipient_type in ('user', 'user_group')),
    "recipient_id" text not null,
    "kind" text not null constraint alerts_kind check (${alertKinds}),
    "incident_id" text references "incidents" ("id"),
    "action_id" text references "actions" ("id"),
    "created_at" ${timestamp} not null,
    "message" text,
    constraint alerts_record check (${alertNamesRecord})
  )`;
}
