import { type Kysely, PostgresAdapter, sql } from 'kysely';
import { columnTypes, historyTable, membershipTable } from './helpers.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const current = sql.ref('valid_to');

  await db.schema
    .createTable('students')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .addColumn('upn', 'text')
    .addColumn('given_name', 'text', (c) => c.notNull())
    .addColumn('family_name', 'text', (c) => c.notNull())
    .addColumn('preferred_name', 'text')
    .addColumn('family_key', 'text', (c) => c.notNull())
    .addColumn('given_key', 'text', (c) => c.notNull())
    .addColumn('preferred_key', 'text')
    .addColumn('date_of_birth', 'text')
    .addColumn('year_group', 'integer')
    .addColumn('key_stage', 'integer')
    .addColumn('house', 'text')
    .addColumn('sen_status', 'text', (c) =>
      c.notNull().defaultTo('none').check(sql`sen_status in ('none', 'K', 'E')`),
    )
    .addColumn('flags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('on_roll', 'integer', (c) => c.notNull().defaultTo(1).check(sql`on_roll in (0, 1)`))
    .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema
    .createIndex('students_upn_unique')
    .on('students')
    .columns(['organisation_id', 'upn'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  // The order every student list is sorted in: family name, given name, id.
  await db.schema
    .createIndex('students_by_name')
    .on('students')
    .columns(['organisation_id', 'family_key', 'given_key', 'id'])
    .execute();
  await db.schema
    .createIndex('students_by_given_name')
    .on('students')
    .columns(['organisation_id', 'given_key'])
    .execute();
  await db.schema
    .createIndex('students_by_school')
    .on('students')
    .columns(['school_id', 'family_key', 'given_key', 'id'])
    .execute();

  await db.schema
    .createTable('student_labels')
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('flag', 'tag')`))
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('student_labels_pk', ['student_id', 'kind', 'value'] as never)
    .execute();
  await db.schema
    .createIndex('student_labels_by_value')
    .on('student_labels')
    .columns(['organisation_id', 'kind', 'value'])
    .execute();

  // Words of each student's names (and UPN), for search by word prefix: "pat" finds Patel.
  // Compared byte by byte on both engines ("C" collation on PostgreSQL) so prefix ranges hold.
  await db.schema
    .createTable('student_name_tokens')
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addColumn('token', postgres ? sql`text collate "C"` : 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('student_name_tokens_pk', ['student_id', 'token'] as never)
    .$call((t) => (postgres ? t : t.modifyEnd(sql`without rowid`)))
    .execute();
  await db.schema
    .createIndex('student_name_tokens_by_token')
    .on('student_name_tokens')
    .columns(['organisation_id', 'token', 'student_id'])
    .execute();

  await db.schema
    .createTable('student_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('school_id', 'text', (c) => c.references('schools.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('all', 'manual', 'rule')`))
    .addColumn('rule', 'text')
    .addColumn('system_key', 'text')
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .addCheckConstraint('student_groups_rule', sql`(kind = 'rule') = (rule is not null)`)
    .execute();
  await db.schema
    .createIndex('student_groups_by_org')
    .on('student_groups')
    .columns(['organisation_id', 'kind', 'school_id'])
    .execute();

  await membershipTable(
    db,
    'student_group_members',
    { name: 'student_group_id', references: 'student_groups.id' },
    { name: 'student_id', references: 'students.id' },
  ).execute();
  await db.schema
    .createIndex('student_group_members_current')
    .on('student_group_members')
    .columns(['student_group_id', 'student_id'])
    .unique()
    .where(current, 'is', null)
    .execute();
  await db.schema
    .createIndex('student_group_members_by_student')
    .on('student_group_members')
    .columns(['student_id', 'student_group_id', 'valid_from'])
    .execute();

  await historyTable(db, 'student_links')
    .addColumn('user_group_id', 'text', (c) => c.references('user_groups.id'))
    .addColumn('user_id', 'text', (c) => c.references('users.id'))
    .addColumn('student_group_id', 'text', (c) => c.references('student_groups.id'))
    .addColumn('student_id', 'text', (c) => c.references('students.id'))
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('removed_by', 'text', (c) => c.references('users.id'))
    .addCheckConstraint(
      'student_links_one_subject',
      sql`(user_group_id is null) <> (user_id is null)`,
    )
    .addCheckConstraint(
      'student_links_one_target',
      sql`(student_group_id is null) <> (student_id is null)`,
    )
    .addCheckConstraint(
      'student_links_users_to_students',
      sql`user_id is null or student_id is not null`,
    )
    .execute();
  await db.schema
    .createIndex('student_links_by_group')
    .on('student_links')
    .columns(['user_group_id', 'student_group_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('student_links_by_user')
    .on('student_links')
    .columns(['user_id', 'student_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('student_links_by_student_group')
    .on('student_links')
    .columns(['student_group_id', 'user_group_id'])
    .execute();
  await db.schema
    .createIndex('student_links_by_student')
    .on('student_links')
    .columns(['student_id'])
    .execute();

  await historyTable(db, 'blocks')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('student_id', 'text', (c) => c.notNull().references('students.id'))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('removed_by', 'text', (c) => c.references('users.id'))
    .addColumn('removal_reason', 'text')
    .execute();
  await db.schema
    .createIndex('blocks_current')
    .on('blocks')
    .columns(['user_id', 'student_id'])
    .unique()
    .where(current, 'is', null)
    .execute();
  await db.schema
    .createIndex('blocks_by_user')
    .on('blocks')
    .columns(['user_id', 'student_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('blocks_by_student')
    .on('blocks')
    .columns(['student_id', 'user_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Haven migrations are forward-only: restore from a backup to go back.');
}
