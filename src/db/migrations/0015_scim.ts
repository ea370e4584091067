import type { Kysely } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * SCIM 2.0 provisioning (issue 13): each organisation's bearer tokens (only their SHA-256 hash is
 * kept), and what the provisioning client told Haven about a user or a group that Haven has no
 * field of its own for (its `externalId`, a person's given and family names), in tables of their
 * own, written only by `src/modules/scim`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('scim_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addColumn('last_used_at', timestamp)
    .addColumn('revoked_at', timestamp)
    .addColumn('revoked_by', 'text', (c) => c.references('users.id'))
    .execute();
  await db.schema
    .createIndex('scim_tokens_organisation')
    .on('scim_tokens')
    .columns(['organisation_id', 'created_at'])
    .execute();

  // `disabled_at`: when provisioning disabled the account. It may enable only an account it
  // disabled itself (this equals `users.disabled_at`), never one a person disabled in Haven.
  await db.schema
    .createTable('scim_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('external_id', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('disabled_at', timestamp)
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('scim_users_external_id')
    .on('scim_users')
    .columns(['organisation_id', 'external_id'])
    .execute();

  await db.schema
    .createTable('scim_groups')
    .addColumn('user_group_id', 'text', (c) => c.primaryKey().references('user_groups.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('external_id', 'text')
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('scim_groups_external_id')
    .on('scim_groups')
    .columns(['organisation_id', 'external_id'])
    .execute();
}
