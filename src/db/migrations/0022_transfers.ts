import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes, rebuildSqliteTable } from './helpers.ts';

const alertKinds =
  "kind in ('incident_assigned', 'action_assigned', 'action_due', 'incident_logged', 'security', 'access_review', 'transfer_overdue')";
const alertNamesRecord =
  "kind in ('security', 'access_review', 'transfer_overdue') or incident_id is not null";

/**
 * Transfers (issue 16, items 1 and 2). A school's holidays, which the five-school-day clock of a
 * transfer skips (weekends are skipped by the clock itself), and the transfers: the child's file
 * sent to another school of the organisation, to a school of another organisation on this
 * installation, or to a school not on Haven (an export). A transfer keeps the file as the sender
 * saw it when it was sent (`snapshot`, the safeguarding-file JSON), which stays the sending
 * school's closed, read-only copy. Alerts gain the kind that tells the sending DSLs a transfer is
 * overdue (about a transfer, not a record).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, binary } = columnTypes(db);

  await db.schema
    .createTable('school_holidays')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    // Days, "YYYY-MM-DD", both included.
    .addColumn('starts_on', 'text', (c) => c.notNull())
    .addColumn('ends_on', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addCheckConstraint('school_holidays_span', sql`ends_on >= starts_on`)
    .execute();
  await db.schema
    .createIndex('school_holidays_by_school')
    .on('school_holidays')
    .columns(['school_id', 'starts_on'])
    .execute();

  await db.schema
    .createTable('transfers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The sending organisation: the transfer is its record.
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addColumn('from_school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('organisation', 'installation', 'external')`),
    )
    .addColumn('to_school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('to_organisation_id', 'text', (c) => c.references('organisations.id'))
    .addColumn('external_school_name', 'text')
    .addColumn('external_contact', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('sent', 'received', 'cancelled')`),
    )
    // Five school days after it was sent, at the sending school: "YYYY-MM-DD".
    .addColumn('due_on', 'text', (c) => c.notNull())
    .addColumn('sent_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('sent_at', timestamp, (c) => c.notNull())
    // On Haven, the receiving user; for an external transfer, who recorded the receipt by hand.
    .addColumn('received_by', 'text', (c) => c.references('users.id'))
    .addColumn('received_at', timestamp)
    // External: who at the receiving school confirmed it, on which day, and a note.
    .addColumn('receipt_confirmed_by', 'text')
    .addColumn('receipt_confirmed_on', 'text')
    .addColumn('receipt_note', 'text')
    .addColumn('cancelled_by', 'text', (c) => c.references('users.id'))
    .addColumn('cancelled_at', timestamp)
    // The safeguarding file as the sender saw it when it was sent (JSON).
    .addColumn('snapshot', 'text', (c) => c.notNull())
    // The child at the receiving school once accepted (the same child within one organisation).
    .addColumn('received_student_id', 'text', (c) => c.references('students.id'))
    .addColumn('overdue_alerted_at', timestamp)
    // External: the encrypted archive (src/modules/transfers/archive.ts); its passphrase is not kept.
    .addColumn('archive', binary)
    .addCheckConstraint(
      'transfers_destination',
      sql`(kind = 'external') = (to_school_id is null and to_organisation_id is null and external_school_name is not null)`,
    )
    .addCheckConstraint(
      'transfers_received',
      sql`(status = 'received') = (received_at is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('transfers_by_sender')
    .on('transfers')
    .columns(['organisation_id', 'from_school_id', 'sent_at'])
    .execute();
  await db.schema
    .createIndex('transfers_by_receiver')
    .on('transfers')
    .columns(['to_organisation_id', 'to_school_id', 'status'])
    .execute();
  await db.schema
    .createIndex('transfers_due')
    .on('transfers')
    .columns(['status', 'due_on'])
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
