import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes, rebuildSqliteTable } from './helpers.ts';

const alertKinds =
  "kind in ('incident_assigned', 'action_assigned', 'action_due', 'incident_logged', 'security', 'access_review')";
const alertNamesRecord = "kind in ('security', 'access_review') or incident_id is not null";

/**
 * Termly access reviews (issue 14, item 3): a review of every user group homed in a scope, one
 * item per group, each decided (confirmed or changed, with a note) by the group's owners or an
 * Admin at its home; every decision is kept; the reminders sent, once each; and alerts gain the
 * kind that tells a reviewer (about the organisation's review, not a record).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('access_reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('scope_type', 'text', (c) =>
      c.notNull().check(sql`scope_type in ('organisation', 'school_group', 'school')`),
    )
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('due_at', timestamp, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('closed_by', 'text', (c) => c.references('users.id'))
    .addColumn('closed_at', timestamp)
    .addColumn('summary', 'text')
    // Access Audit Report runs taken when the review started and when it closed (their ids).
    .addColumn('start_run_id', 'text')
    .addColumn('close_run_id', 'text')
    .addCheckConstraint(
      'access_reviews_closed',
      sql`(status = 'open') = (closed_at is null) and (status = 'open') = (summary is null)`,
    )
    .execute();
  await db.schema
    .createIndex('access_reviews_by_organisation')
    .on('access_reviews')
    .columns(['organisation_id', 'status', 'created_at'])
    .execute();

  // One per group homed in the review's scope when it started. `since` is when the group was
  // last reviewed (or created): the item shows what changed after it.
  await db.schema
    .createTable('access_review_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('review_id', 'text', (c) => c.notNull().references('access_reviews.id'))
    .addColumn('user_group_id', 'text', (c) => c.notNull().references('user_groups.id'))
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('since', timestamp, (c) => c.notNull())
    // The latest decision (every one is kept in access_review_decisions).
    .addColumn('outcome', 'text', (c) => c.check(sql`outcome in ('confirmed', 'changed')`))
    .addColumn('note', 'text')
    .addColumn('decided_by', 'text', (c) => c.references('users.id'))
    .addColumn('decided_at', timestamp)
    .addColumn('closed_at', timestamp)
    .addUniqueConstraint('access_review_items_once', ['review_id', 'user_group_id'])
    .execute();
  await db.schema
    .createIndex('access_review_items_by_group')
    .on('access_review_items')
    .columns(['user_group_id', 'decided_at'])
    .execute();

  await db.schema
    .createTable('access_review_decisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('review_id', 'text', (c) => c.notNull().references('access_reviews.id'))
    .addColumn('item_id', 'text', (c) => c.notNull().references('access_review_items.id'))
    .addColumn('outcome', 'text', (c) =>
      c.notNull().check(sql`outcome in ('confirmed', 'changed')`),
    )
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('decided_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('access_review_decisions_by_review')
    .on('access_review_decisions')
    .columns(['review_id', 'decided_at'])
    .execute();

  // A reminder reaches each reviewer once per phase of a review, however many workers run.
  await db.schema
    .createTable('access_review_reminders')
    .addColumn('review_id', 'text', (c) => c.notNull().references('access_reviews.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('phase', 'text', (c) =>
      c.notNull().check(sql`phase in ('started', 'due_soon', 'overdue')`),
    )
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('access_review_reminders_pk', ['review_id', 'user_id', 'phase'])
    .execute();

  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`alter table alerts drop constraint alerts_kind`.execute(db);
    await sql`alter table alerts drop constraint alerts_record`.execute(db);
    await sql`alter table alerts add constraint alerts_kind check (${sql.raw(alertKinds)})`.execute(
      db,
    );
    await sql`alter table alerts add constraint alerts_record check (${sql.raw(alertNamesRecord)})`.execute(
      db,
    );
  } else {
    await rebuildSqliteTable(
      db,
      'alerts',
      () => `CREATE TABLE "alerts_rebuilt" (
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
  )`,
    );
  }
}
