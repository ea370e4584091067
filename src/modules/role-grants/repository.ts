import type { Kysely } from 'kysely';
import type { Principal } from '../../access/principal.ts';
import type { GrantableRole } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
import { userGroupVisibleTo } from '../../access/user-groups.ts';
import type { DB } from '../../db/tables.ts';

export type GrantSubject = { type: 'user'; id: string } | { type: 'user_group'; id: string };

export async function insertGrant(
  db: Kysely<DB>,
  grant: {
    id: string;
    organisationId: string;
    subject: GrantSubject;
    role: GrantableRole;
    scope: Scope;
    grantedBy: string | null;
    reason?: string | null;
    now: string;
  },
) {
  await db
    .insertInto('role_grants')
    .values({
      id: grant.id,
      organisation_id: grant.organisationId,
      user_id: grant.subject.type === 'user' ? grant.subject.id : null,
      user_group_id: grant.subject.type === 'user_group' ? grant.subject.id : null,
      role: grant.role,
      scope_type: grant.scope.type,
      scope_id: grant.scope.id,
      granted_by: grant.grantedBy,
      revoked_by: null,
      reason: grant.reason ?? null,
      valid_from: grant.now,
      valid_to: null,
    })
    .execute();
}

export async function findCurrentGrant(db: Kysely<DB>, organisationId: string, grantId: string) {
  return db
    .selectFrom('role_grants')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', grantId)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
}

export async function findSameCurrentGrant(
  db: Kysely<DB>,
  organisationId: string,
  subject: GrantSubject,
  role: GrantableRole,
  scope: Scope,
) {
  return db
    .selectFrom('role_grants')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where(subject.type === 'user' ? 'user_id' : 'user_group_id', '=', subject.id)
    .where('role', '=', role)
    .where('scope_type', '=', scope.type)
    .where('scope_id', '=', scope.id)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
}

export async function closeGrant(
  db: Kysely<DB>,
  organisationId: string,
  grantId: string,
  revokedBy: string | null,
  now: string,
) {
  await db
    .updateTable('role_grants')
    .set({ valid_to: now, revoked_by: revokedBy })
    .where('organisation_id', '=', organisationId)
    .where('id', '=', grantId)
    .where('valid_to', 'is', null)
    .execute();
}

/** Current grants of the organisation, leaving out those of groups the principal may not see. */
export async function listCurrentGrants(
  db: Kysely<DB>,
  principal: Principal,
  filter: { userId?: string | undefined; userGroupId?: string | undefined },
) {
  let query = db
    .selectFrom('role_grants as r')
    .selectAll('r')
    .where('r.organisation_id', '=', principal.organisationId)
    .where('r.valid_to', 'is', null)
    .where((eb) =>
      eb.or([
        eb('r.user_group_id', 'is', null),
        eb(
          'r.user_group_id',
          'in',
          eb
            .selectFrom('user_groups as g')
            .select('g.id')
            .where((g) => userGroupVisibleTo(g, principal)),
        ),
      ]),
    );
  if (filter.userId) query = query.where('r.user_id', '=', filter.userId);
  if (filter.userGroupId) query = query.where('r.user_group_id', '=', filter.userGroupId);
  return query.orderBy('r.valid_from').orderBy('r.id').limit(1000).execute();
}
