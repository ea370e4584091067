import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Single sign-on with OpenID Connect (issue 13):
 *  - `sso_providers`: an organisation's identity providers. The client secret is sealed with the
 *    installation's `sso` subkey, bound to the organisation and provider (`src/modules/sso`).
 *  - `sso_settings`: the organisation-wide switches; no row means the defaults (password sign-in
 *    on, no accounts created, the provider's multi-factor claim not accepted).
 *  - `sso_links`: which Haven user a provider's subject (`sub`) is, remembered at the first
 *    sign-in so later ones match on `sub` before any email.
 *  - `sso_sign_ins`: sign-ins under way between the redirect to the provider and its answer;
 *    single use, ten minutes, bound to the browser that started them (only hashes of the state
 *    and the browser's cookie are kept).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('sso_providers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('microsoft', 'google', 'oidc')`),
    )
    .addColumn('label', 'text')
    // Microsoft: the directory (tenant) id the issuer was built from; null when given whole.
    .addColumn('tenant_id', 'text')
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text', (c) => c.notNull())
    // A JSON array of lower-case domains.
    .addColumn('allowed_domains', 'text', (c) => c.notNull())
    // The order the Owner listed them in, which is the order of the sign-in buttons.
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('sso_providers_by_organisation')
    .on('sso_providers')
    .columns(['organisation_id', 'position'])
    .execute();

  await db.schema
    .createTable('sso_settings')
    .addColumn('organisation_id', 'text', (c) => c.primaryKey().references('organisations.id'))
    // 0 or 1, as `students.on_roll`: SQLite has no boolean type.
    .addColumn('password_sign_in', 'integer', (c) =>
      c.notNull().check(sql`password_sign_in in (0, 1)`),
    )
    .addColumn('create_accounts', 'integer', (c) =>
      c.notNull().check(sql`create_accounts in (0, 1)`),
    )
    .addColumn('accept_provider_mfa', 'integer', (c) =>
      c.notNull().check(sql`accept_provider_mfa in (0, 1)`),
    )
    .addColumn('updated_at', timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sso_links')
    .addColumn('provider_id', 'text', (c) => c.notNull().references('sso_providers.id'))
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('last_used_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_links_pk', ['provider_id', 'subject'] as never)
    .execute();
  await db.schema.createIndex('sso_links_by_user').on('sso_links').columns(['user_id']).execute();

  await db.schema
    .createTable('sso_sign_ins')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state_hash', 'text', (c) => c.notNull().unique())
    .addColumn('browser_hash', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('provider_id', 'text', (c) => c.notNull().references('sso_providers.id'))
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .execute();
  await db.schema
    .createIndex('sso_sign_ins_by_expiry')
    .on('sso_sign_ins')
    .columns(['expires_at'])
    .execute();
}
