import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Retention (issue 16, item 4). A record's retention date is worked out from its category when it
 * is read (`src/modules/retention/rules.ts`); the incident keeps only what people decided: a later
 * date a DSL extended it to, a legal hold, the allegation subject's date of birth as a DSL
 * recorded it, and when it was destroyed (the row stays as the tombstone, its content gone).
 * Every decision is kept, with its reason, in `retention_decisions`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  await db.schema.alterTable('incidents').addColumn('retain_extended_to', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('legal_hold_at', timestamp).execute();
  await db.schema.alterTable('incidents').addColumn('subject_born_on', 'text').execute();
  await db.schema.alterTable('incidents').addColumn('destroyed_at', timestamp).execute();

  await db.schema
    .createTable('retention_decisions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('action', 'text', (c) =>
      c.notNull().check(sql`action in ('extend', 'hold', 'release', 'subject_born', 'destroy')`),
    )
    // A day, "YYYY-MM-DD": the new date (extend) or the subject's date of birth (subject_born).
    .addColumn('on_day', 'text')
    .addColumn('reason', 'text')
    // The rule and date the record was held to when the decision was made.
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('retain_until', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('decided_at', timestamp, (c) => c.notNull())
    .addCheckConstraint(
      'retention_decisions_day',
      sql`(action in ('extend', 'subject_born')) = (on_day is not null)`,
    )
    .execute();
  await db.schema
    .createIndex('retention_decisions_by_incident')
    .on('retention_decisions')
    .columns(['incident_id', 'decided_at'])
    .execute();
}
