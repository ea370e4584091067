import type { Kysely } from 'kysely';
import type { Scope } from '../../access/scopes.ts';
import type { DB } from '../../db/tables.ts';

export async function findOrganisation(db: Kysely<DB>, organisationId: string) {
  return db
    .selectFrom('organisations')
    .selectAll()
    .where('id', '=', organisationId)
    .executeTakeFirst();
}

export async function anyOrganisationExists(db: Kysely<DB>): Promise<boolean> {
  const row = await db.selectFrom('organisations').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function listSchools(db: Kysely<DB>, organisationId: string) {
  return db
    .selectFrom('schools')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .orderBy('name')
    .orderBy('id')
    .execute();
}

export async function findSchool(db: Kysely<DB>, organisationId: string, schoolId: string) {
  return db
    .selectFrom('schools')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', schoolId)
    .executeTakeFirst();
}

export async function findSchoolByName(db: Kysely<DB>, organisationId: string, name: string) {
  return db
    .selectFrom('schools')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function findSchoolGroup(db: Kysely<DB>, organisationId: string, groupId: string) {
  return db
    .selectFrom('school_groups')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', groupId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function findSchoolGroupByName(db: Kysely<DB>, organisationId: string, name: string) {
  return db
    .selectFrom('school_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('name', '=', name)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export async function listSchoolGroups(db: Kysely<DB>, organisationId: string) {
  return db
    .selectFrom('school_groups')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .orderBy('name')
    .orderBy('id')
    .execute();
}

/** Current school ids of each given school group. */
export async function schoolIdsOfGroups(
  db: Kysely<DB>,
  organisationId: string,
  groupIds: string[],
): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(groupIds.map((g) => [g, []]));
  if (groupIds.length === 0) return map;
  const rows = await db
    .selectFrom('school_group_schools as sgs')
    .innerJoin('schools as s', 's.id', 'sgs.school_id')
    .select(['sgs.school_group_id', 'sgs.school_id'])
    .where('sgs.organisation_id', '=', organisationId)
    .where('sgs.school_group_id', 'in', groupIds)
    .where('sgs.valid_to', 'is', null)
    .orderBy('s.name')
    .execute();
  for (const row of rows) map.get(row.school_group_id)?.push(row.school_id);
  return map;
}

/** Which of the given school ids exist in the organisation. */
export async function existingSchoolIds(
  db: Kysely<DB>,
  organisationId: string,
  schoolIds: string[],
): Promise<Set<string>> {
  if (schoolIds.length === 0) return new Set();
  // By primary key alone, the organisation checked on the rows (see existingUserIds).
  const rows = await db
    .selectFrom('schools')
    .select(['id', 'organisation_id'])
    .where('id', 'in', schoolIds)
    .execute();
  return new Set(rows.filter((r) => r.organisation_id === organisationId).map((r) => r.id));
}

/** The display name of a scope in this organisation, or undefined if it is not one of its scopes. */
export async function scopeName(
  db: Kysely<DB>,
  organisationId: string,
  scope: Scope,
): Promise<string | undefined> {
  switch (scope.type) {
    case 'organisation':
      return scope.id === organisationId
        ? (await findOrganisation(db, organisationId))?.name
        : undefined;
    case 'school_group':
      return (await findSchoolGroup(db, organisationId, scope.id))?.name;
    case 'school':
      return (await findSchool(db, organisationId, scope.id))?.name;
  }
}

/** Names of every scope in the organisation, for presenting grants. */
export async function scopeNames(
  db: Kysely<DB>,
  organisationId: string,
): Promise<Map<string, string>> {
  const [organisation, schools, groups] = await Promise.all([
    findOrganisation(db, organisationId),
    db
      .selectFrom('schools')
      .select(['id', 'name'])
      .where('organisation_id', '=', organisationId)
      .execute(),
    db
      .selectFrom('school_groups')
      .select(['id', 'name'])
      .where('organisation_id', '=', organisationId)
      .execute(),
  ]);
  const names = new Map<string, string>();
  if (organisation) names.set(organisation.id, organisation.name);
  for (const row of [...schools, ...groups]) names.set(row.id, row.name);
  return names;
}
