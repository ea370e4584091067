import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/** Safeguarding records (spec section 4): categories, incidents with revisions, actions, alerts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('categories')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    // Null: the whole organisation's category; otherwise one school's.
    .addColumn('school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sensitivity', 'text', (c) =>
      c.notNull().check(sql`sensitivity in ('standard', 'child_protection', 'allegation')`),
    )
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema
    .createIndex('categories_by_organisation')
    .on('categories')
    .columns(['organisation_id', 'school_id', 'name'])
    .execute();

  await db.schema
    .createTable('incidents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('category_id', 'text', (c) => c.notNull().references('categories.id'))
    // Copied from the category when the incident is filed or recategorised, so that the
    // visibility filter reads it from the row it is filtering.
    .addColumn('sensitivity', 'text', (c) => c.notNull())
    .addColumn('occurred_at', timestamp, (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('open', 'in_progress', 'closed')`),
    )
    .addColumn('reporter_id', 'text', (c) => c.notNull().references('users.id'))
    // For allegations: the member of staff the allegation is about.
    .addColumn('subject_user_id', 'text', (c) => c.references('users.id'))
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema
    .createIndex('incidents_by_time')
    .on('incidents')
    .columns(['organisation_id', 'occurred_at', 'id'])
    .execute();
  await db.schema
    .createIndex('incidents_by_reporter')
    .on('incidents')
    .column('reporter_id')
    .execute();

  await db.schema
    .createTable('incident_revisions')
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('revision', 'integer', (c) => c.notNull())
    // The incident as it stood (fields, students, category) before the change, as JSON.
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('changed_by', 'text', (c) => c.references('users.id'))
    .addColumn('changed_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_revisions_pk', ['incident_id', 'revision'])
    .execute();

  await db.schema
    .createTable('incident_students')
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addPrimaryKeyConstraint('incident_students_pk', ['incident_id', 'student_id'])
    .execute();
  await db.schema
    .createIndex('incident_students_by_student')
    .on('incident_students')
    .columns(['student_id', 'incident_id'])
    .execute();

  await db.schema
    .createTable('incident_assignees')
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('assignee_type', 'text', (c) =>
      c.notNull().check(sql`assignee_type in ('user', 'user_group')`),
    )
    .addColumn('assignee_id', 'text', (c) => c.notNull())
    .addColumn('assigned_by', 'text', (c) => c.references('users.id'))
    .addColumn('assigned_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_assignees_pk', [
      'incident_id',
      'assignee_type',
      'assignee_id',
    ])
    .execute();
  await db.schema
    .createIndex('incident_assignees_by_assignee')
    .on('incident_assignees')
    .columns(['assignee_id', 'incident_id'])
    .execute();

  await db.schema
    .createTable('incident_exclusions')
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addPrimaryKeyConstraint('incident_exclusions_pk', ['incident_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('due_at', timestamp)
    .addColumn('assignee_type', 'text', (c) =>
      c.notNull().check(sql`assignee_type in ('user', 'user_group')`),
    )
    .addColumn('assignee_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('completed_at', timestamp)
    .addColumn('completed_by', 'text', (c) => c.references('users.id'))
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema.createIndex('actions_by_incident').on('actions').column('incident_id').execute();
  await db.schema
    .createIndex('actions_by_assignee')
    .on('actions')
    .columns(['assignee_id', 'due_at'])
    .execute();

  // An alert goes to a user or to a user group (each member sees it); read and dismissed are
  // per user, so a group's alert does not vanish for everyone when one member dismisses it.
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('recipient_type', 'text', (c) =>
      c.notNull().check(sql`recipient_type in ('user', 'user_group')`),
    )
    .addColumn('recipient_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('incident_assigned', 'action_assigned', 'action_due')`),
    )
    .addColumn('incident_id', 'text', (c) => c.notNull().references('incidents.id'))
    .addColumn('action_id', 'text', (c) => c.references('actions.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('alerts_by_recipient')
    .on('alerts')
    .columns(['recipient_id', 'created_at'])
    .execute();
  await db.schema
    .createIndex('alerts_one_due_per_action')
    .on('alerts')
    .columns(['action_id', 'kind'])
    .unique()
    .where(sql.ref('kind'), '=', 'action_due')
    .execute();
  await db.schema
    .createTable('alert_states')
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('read_at', timestamp)
    .addColumn('dismissed_at', timestamp)
    .addPrimaryKeyConstraint('alert_states_pk', ['alert_id', 'user_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Haven migrations are forward-only');
}
