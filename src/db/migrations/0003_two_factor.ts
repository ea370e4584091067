import type { Kysely } from 'kysely';
import { columnTypes } from './helpers.ts';

/** Two-factor sign-in with TOTP (spec access-model section 4, "Two-factor step-up"). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp, bigint } = columnTypes(db);

  await db.schema
    .createTable('user_totp')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    // The base32 TOTP secret as the authenticator app holds it. Haven has no encryption key
    // facility yet, so it is stored as is; like password hashes, it never leaves the server.
    .addColumn('secret', 'text', (c) => c.notNull())
    // When this enrolment began; restarting a pending enrolment replaces the secret and this.
    .addColumn('created_at', timestamp, (c) => c.notNull())
    // Null while the enrolment is pending; set once a code confirmed it, and TOTP is then active.
    .addColumn('confirmed_at', timestamp)
    // The RFC 6238 time step of the last code accepted: a code of this step or earlier is refused.
    .addColumn('last_time_step', bigint)
    .execute();

  await db.schema
    .createTable('totp_recovery_codes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .execute();
  await db.schema
    .createIndex('totp_recovery_codes_by_user')
    .on('totp_recovery_codes')
    .columns(['user_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Haven migrations are forward-only: restore from a backup to go back.');
}
