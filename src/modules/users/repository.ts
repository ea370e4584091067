import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { type HeldGrant, heldGrantColumns, heldGrantOf } from '../../access/principal.ts';
import type { GrantableRole } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
import { chunks } from '../../db/sql.ts';
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
  /** Only people holding this role now (exactly this one: a Deputy DSL is not a DSL), directly or through a group. */
  role?: GrantableRole | undefined;
  /** Only people holding a role (`role`, or any) at a scope covering this one. */
  scope?: Scope | undefined;
  after?: readonly [string, string] | undefined;
  limit: number;
}

type UserBuilder = ExpressionBuilder<DB & { u: DB['users'] }, 'u'>;

/**
 * The role filter of the users list, inside its one query: the person holds a current grant of
 * the role (or any), directly or through a current group membership, at a scope that covers the
 * filter's scope (the organisation, a school group holding the school, or the scope itself).
 */
function holdsRoleWhere(eb: UserBuilder, filter: UserListFilter) {
  const grants = (source: 'direct' | 'group') => {
    let query =
      source === 'direct'
        ? eb.selectFrom('role_grants as g').select('g.id').whereRef('g.user_id', '=', 'u.id')
        : eb
            .selectFrom('user_group_members as m')
            .innerJoin('role_grants as g', 'g.user_group_id', 'm.user_group_id')
            .select('g.id')
            .whereRef('m.user_id', '=', 'u.id')
            .where('m.valid_to', 'is', null);
    query = query.where('g.valid_to', 'is', null);
    if (filter.role) query = query.where('g.role', '=', filter.role);
    const scope = filter.scope;
    if (scope) {
      query = query.where((e) => {
        const ways = [e('g.scope_type', '=', 'organisation')];
        if (scope.type === 'school_group')
          ways.push(
            e.and([e('g.scope_type', '=', 'school_group'), e('g.scope_id', '=', scope.id)]),
          );
        if (scope.type === 'school')
          ways.push(
            e.and([e('g.scope_type', '=', 'school'), e('g.scope_id', '=', scope.id)]),
            e.and([
              e('g.scope_type', '=', 'school_group'),
              e(
                'g.scope_id',
                'in',
                e
                  .selectFrom('school_group_schools as sgs')
                  .select('sgs.school_group_id')
                  .where('sgs.school_id', '=', scope.id)
                  .where('sgs.valid_to', 'is', null),
              ),
            ]),
          );
        return e.or(ways);
      });
    }
    return query;
  };
  // Two EXISTS rather than one OR, so each can use its index (role_grants_by_user, members by user).
  return eb.or([eb.exists(grants('direct')), eb.exists(grants('group'))]);
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
  if (filter.role || filter.scope) query = query.where((eb) => holdsRoleWhere(eb, filter));
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

/**
 * The roles each of these people holds now, directly or through a group, with where each comes
 * from: one query for a whole page (the set form of `loadHeldGrants`).
 */
export async function heldGrantsOf(
  db: Kysely<DB>,
  organisationId: string,
  userIds: readonly string[],
): Promise<Map<string, HeldGrant[]>> {
  const byUser = new Map<string, HeldGrant[]>(userIds.map((id) => [id, []]));
  for (const slice of chunks([...new Set(userIds)])) {
    const columns = heldGrantColumns;
    const rows = await db
      .selectFrom('role_grants as g')
      .leftJoin('user_groups as ug', 'ug.id', 'g.user_group_id')
      .select([...columns, 'g.user_id as holder'])
      .where('g.organisation_id', '=', organisationId)
      .where('g.user_id', 'in', slice)
      .where('g.valid_to', 'is', null)
      .unionAll(
        db
          .selectFrom('user_group_members as m')
          .innerJoin('role_grants as g', 'g.user_group_id', 'm.user_group_id')
          .innerJoin('user_groups as ug', 'ug.id', 'g.user_group_id')
          .select([...columns, 'm.user_id as holder'])
          .where('g.organisation_id', '=', organisationId)
          .where('m.user_id', 'in', slice)
          .where('m.valid_to', 'is', null)
          .where('g.valid_to', 'is', null),
      )
      .orderBy('valid_from')
      .execute();
    for (const row of rows) {
      byUser.get(row.holder as string)?.push(heldGrantOf(row));
    }
  }
  return byUser;
}
