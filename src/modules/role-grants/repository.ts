import type { Kysely } from 'kysely';
import type { GrantableRole } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
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

export async function listCurrentGrants(
  db: Kysely<DB>,
  organisationId: string,
  filter: { userId?: string | undefined; userGroupId?: string | undefined },
) {
  let query = db
    .selectFrom('role_grants')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('valid_to', 'is', null);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.userGroupId) query = query.where('user_group_id', '=', filter.userGroupId);
  return query.orderBy('valid_from').orderBy('id').limit(1000).execute();
}
