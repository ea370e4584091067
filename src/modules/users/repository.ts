import { type Kysely, sql } from 'kysely';
import type { DB, UsersTable } from '../../db/tables.ts';

export type UserRow = UsersTable;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findUser(db: Kysely<DB>, organisationId: string, userId: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', userId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
}

/** The organisation's user with this email, removed ones included: their address stays reserved. */
export async function findUserByEmail(db: Kysely<DB>, organisationId: string, email: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('email', '=', normaliseEmail(email))
    .executeTakeFirst();
}

/**
 * The accounts sign-in tries for an email, with their organisation's name. The one lookup not
 * scoped to an organisation: an address may hold an account in each (docs/decisions.md), and
 * only someone who knows an account's password learns where it is. Removed accounts are left out.
 */
export async function findSignInAccounts(
  db: Kysely<DB>,
  email: string,
  organisationId?: string | undefined,
) {
  let query = db
    .selectFrom('users as u')
    .innerJoin('organisations as o', 'o.id', 'u.organisation_id')
    .selectAll('u')
    .select('o.name as organisation_name')
    .where('u.email', '=', normaliseEmail(email))
    .where('u.removed_at', 'is', null);
  if (organisationId !== undefined) query = query.where('u.organisation_id', '=', organisationId);
  return query.orderBy('o.name').orderBy('u.organisation_id').execute();
}

export async function insertUser(
  db: Kysely<DB>,
  row: Pick<UserRow, 'id' | 'organisation_id' | 'email' | 'name' | 'password_hash'> & {
    now: string;
  },
) {
  await db
    .insertInto('users')
    .values({
      id: row.id,
      organisation_id: row.organisation_id,
      email: normaliseEmail(row.email),
      name: row.name,
      password_hash: row.password_hash,
      created_at: row.now,
      updated_at: row.now,
      disabled_at: null,
      removed_at: null,
      // Given a password, the person can sign in at once: active. Without one: invited.
      activated_at: row.password_hash === null ? null : row.now,
      last_sign_in_at: null,
    })
    .execute();
}

/** What the users list shows and filters by: disabled, else active once in, else invited. */
export type UserStatus = 'invited' | 'active' | 'disabled';

export interface UserListFilter {
  q?: string | undefined;
  /** `none`: only users in no user group (orphaned), or a user group id. */
  inGroup?: string | undefined;
  /** A status, `enabled` (invited or active: everyone not disabled), or `all`. */
  status?: UserStatus | 'enabled' | 'all' | undefined;
  after?: readonly [string, string] | undefined;
  limit: number;
}

/** Escapes LIKE wildcards so a search for "50%" means those characters. */
export function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function listUsers(db: Kysely<DB>, organisationId: string, filter: UserListFilter) {
  let query = db
    .selectFrom('users as u')
    .selectAll('u')
    .where('u.organisation_id', '=', organisationId)
    .where('u.removed_at', 'is', null);
  if (filter.status === 'disabled') query = query.where('u.disabled_at', 'is not', null);
  else if (filter.status && filter.status !== 'all') {
    query = query.where('u.disabled_at', 'is', null);
    if (filter.status === 'active') query = query.where('u.activated_at', 'is not', null);
    if (filter.status === 'invited') query = query.where('u.activated_at', 'is', null);
  }
  if (filter.q) {
    const pattern = likeContains(filter.q);
    query = query.where(
      sql<boolean>`(lower(u.name) like ${pattern} escape '\\' or u.email like ${pattern} escape '\\')`,
    );
  }
  if (filter.inGroup === 'none') {
    query = query.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('user_group_members as m')
            .select('m.user_id')
            .whereRef('m.user_id', '=', 'u.id')
            .where('m.valid_to', 'is', null),
        ),
      ),
    );
  } else if (filter.inGroup) {
    const groupId = filter.inGroup;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('user_group_members as m')
          .select('m.user_id')
          .whereRef('m.user_id', '=', 'u.id')
          .where('m.user_group_id', '=', groupId)
          .where('m.valid_to', 'is', null),
      ),
    );
  }
  if (filter.after) {
    const [afterName, afterId] = filter.after;
    query = query.where((eb) =>
      eb.or([
        eb('u.name', '>', afterName),
        eb.and([eb('u.name', '=', afterName), eb('u.id', '>', afterId)]),
      ]),
    );
  }
  return query
    .orderBy('u.name')
    .orderBy('u.id')
    .limit(filter.limit + 1)
    .execute();
}
