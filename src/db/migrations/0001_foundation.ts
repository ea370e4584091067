import { type Kysely, sql } from 'kysely';
import { columnTypes, historyTable, membershipTable } from './helpers.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, bigint } = columnTypes(db);
  const current = sql.ref('valid_to');

  await db.schema
    .createTable('organisations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('schools')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('schools_name_unique', ['organisation_id', 'name'])
    .execute();

  await db.schema
    .createTable('school_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema
    .createIndex('school_groups_name_unique')
    .on('school_groups')
    .columns(['organisation_id', 'name'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  await historyTable(db, 'school_group_schools')
    .addColumn('school_group_id', 'text', (c) => c.notNull().references('school_groups.id'))
    .addColumn('school_id', 'text', (c) => c.notNull().references('schools.id'))
    .execute();
  await db.schema
    .createIndex('school_group_schools_current')
    .on('school_group_schools')
    .columns(['school_group_id', 'school_id'])
    .unique()
    .where(current, 'is', null)
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('disabled_at', timestamp)
    .addColumn('removed_at', timestamp)
    .execute();
  await db.schema
    .createIndex('users_org_name')
    .on('users')
    .columns(['organisation_id', 'name'])
    .execute();

  await db.schema
    .createTable('user_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('rationale', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('system_key', 'text')
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .addColumn('deleted_at', timestamp)
    .execute();
  await db.schema
    .createIndex('user_groups_name_unique')
    .on('user_groups')
    .columns(['organisation_id', 'name'])
    .unique()
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();

  for (const table of ['user_group_members', 'user_group_owners'] as const) {
    await membershipTable(
      db,
      table,
      { name: 'user_group_id', references: 'user_groups.id' },
      { name: 'user_id', references: 'users.id' },
    ).execute();
    await db.schema
      .createIndex(`${table}_current`)
      .on(table)
      .columns(['user_group_id', 'user_id'])
      .unique()
      .where(current, 'is', null)
      .execute();
    await db.schema
      .createIndex(`${table}_by_user`)
      .on(table)
      .columns(['user_id', 'user_group_id', 'valid_from'])
      .execute();
  }

  await historyTable(db, 'user_group_clearances')
    .addColumn('user_group_id', 'text', (c) => c.notNull().references('user_groups.id'))
    .addColumn('clearance', 'text', (c) =>
      c.notNull().check(sql`clearance in ('child_protection', 'allegations')`),
    )
    .execute();
  await db.schema
    .createIndex('user_group_clearances_current')
    .on('user_group_clearances')
    .columns(['user_group_id', 'clearance'])
    .unique()
    .where(current, 'is', null)
    .execute();

  await historyTable(db, 'role_grants')
    .addColumn('user_id', 'text', (c) => c.references('users.id'))
    .addColumn('user_group_id', 'text', (c) => c.references('user_groups.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('scope_type', 'text', (c) => c.notNull())
    .addColumn('scope_id', 'text', (c) => c.notNull())
    .addColumn('granted_by', 'text', (c) => c.references('users.id'))
    .addColumn('revoked_by', 'text', (c) => c.references('users.id'))
    .addCheckConstraint(
      'role_grants_one_subject',
      sql`(user_id is null) <> (user_group_id is null)`,
    )
    .addCheckConstraint(
      'role_grants_role',
      sql`role in ('owner', 'dsl', 'deputy_dsl', 'admin', 'viewer')`,
    )
    .addCheckConstraint(
      'role_grants_scope_type',
      sql`scope_type in ('organisation', 'school_group', 'school')`,
    )
    .execute();
  await db.schema
    .createIndex('role_grants_by_user')
    .on('role_grants')
    .columns(['user_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('role_grants_by_group')
    .on('role_grants')
    .columns(['user_group_id', 'valid_from'])
    .execute();
  await db.schema
    .createIndex('role_grants_by_org_role')
    .on('role_grants')
    .columns(['organisation_id', 'role', 'scope_type'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('last_seen_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('mfa_at', timestamp)
    .addColumn('ended_at', timestamp)
    .addColumn('end_reason', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema
    .createIndex('sessions_by_user')
    .on('sessions')
    .columns(['user_id'])
    .where(sql.ref('ended_at'), 'is', null)
    .execute();

  await db.schema
    .createTable('login_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('at', timestamp, (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .execute();
  await db.schema
    .createIndex('login_attempts_by_email')
    .on('login_attempts')
    .columns(['email', 'at'])
    .execute();

  await db.schema
    .createTable('audit_chains')
    .addColumn('chain_id', 'text', (c) => c.primaryKey())
    .addColumn('last_seq', bigint, (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('chain_id', 'text', (c) => c.notNull())
    .addColumn('seq', bigint, (c) => c.notNull())
    .addColumn('organisation_id', 'text')
    .addColumn('at', timestamp, (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('before_json', 'text')
    .addColumn('after_json', 'text')
    .addColumn('meta_json', 'text')
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_chain_seq')
    .on('audit_events')
    .columns(['chain_id', 'seq'])
    .unique()
    .execute();
  await db.schema
    .createIndex('audit_events_by_org')
    .on('audit_events')
    .columns(['organisation_id', 'category', 'seq'])
    .execute();
  await db.schema
    .createIndex('audit_events_by_target')
    .on('audit_events')
    .columns(['target_id'])
    .execute();
  await db.schema
    .createIndex('audit_events_by_actor')
    .on('audit_events')
    .columns(['actor_user_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Haven migrations are forward-only: restore from a backup to go back.');
}
