import { type Kysely, sql } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Invitations and password resets (issue 13):
 *  - `account_tokens`: the single-use links sent by email. Only a SHA-256 hash of each token is
 *    kept; a token is spent (`used_at`), superseded by a newer one of its kind (`replaced_at`) or
 *    past `expires_at`, and then opens nothing.
 *  - `password_reset_requests`: resets asked for, until the worker handles them.
 *  - `users.activated_at`: when the person first set a password or signed in (null: invited, or
 *    added without a password, and never in). Existing users with a password count as active
 *    since they were added.
 *  - `users.last_sign_in_at`: set at every sign-in; existing users get their latest session's start.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);

  await db.schema
    .createTable('account_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('purpose', 'text', (c) =>
      c.notNull().check(sql`purpose in ('invitation', 'password_reset')`),
    )
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .addColumn('replaced_at', timestamp)
    // The Admin who sent an invitation; null for a reset (asked anonymously) or the console.
    .addColumn('created_by', 'text', (c) => c.references('users.id'))
    .addCheckConstraint('account_tokens_span', sql`expires_at > created_at`)
    .execute();
  // A user's tokens of one kind, newest last: replacing them, showing the invitation, and the
  // per-account limit on reset emails.
  await db.schema
    .createIndex('account_tokens_by_user')
    .on('account_tokens')
    .columns(['user_id', 'purpose', 'created_at'])
    .execute();

  // A password reset asked for, waiting for the worker. Every request, whether or not an
  // account uses the email, is this one insert, so the answer's timing tells nothing; the worker
  // finds the accounts, writes their links and deletes the request.
  await db.schema
    .createTable('password_reset_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('requested_at', timestamp, (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('request_id', 'text')
    .execute();
  await db.schema
    .createIndex('password_reset_requests_due')
    .on('password_reset_requests')
    .columns(['requested_at', 'id'])
    .execute();

  await db.schema.alterTable('users').addColumn('activated_at', timestamp).execute();
  await db.schema.alterTable('users').addColumn('last_sign_in_at', timestamp).execute();
  await sql`update users set activated_at = created_at where password_hash is not null`.execute(db);
  await sql`
    update users set last_sign_in_at = (
      select max(s.created_at) from sessions s where s.user_id = users.id
    )
    where exists (select 1 from sessions s where s.user_id = users.id)
  `.execute(db);
}
