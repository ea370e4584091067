import type { Kysely } from 'kysely';
import { chunks } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';

export async function findUserGroup(db: Kysely<DB>, organisationId: string, groupId: string) {
  return db
    .selectFrom('user_groups')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', groupId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

export type UserGroupRow = NonNullable<Awaited<ReturnType<typeof findUserGroup>>>;

export async function countUserGroups(db: Kysely<DB>, organisationId: string): Promise<number> {
  const row = await db
    .selectFrom('user_groups')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function userGroupNameTaken(
  db: Kysely<DB>,
  organisationId: string,
  name: string,
  except?: string,
) {
  let query = db
    .selectFrom('user_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('name', '=', name)
    .where('deleted_at', 'is', null);
  if (except) query = query.where('id', '<>', except);
  return (await query.executeTakeFirst()) !== undefined;
}

export async function currentOwners(db: Kysely<DB>, groupId: string) {
  return db
    .selectFrom('user_group_owners as o')
    .innerJoin('users as u', 'u.id', 'o.user_id')
    .select(['u.id', 'u.name', 'u.email', 'o.valid_from'])
    .where('o.user_group_id', '=', groupId)
    .where('o.valid_to', 'is', null)
    .orderBy('u.name')
    .execute();
}

export async function currentLinksOfGroup(db: Kysely<DB>, groupId: string) {
  return db
    .selectFrom('student_links as l')
    .leftJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
    .select([
      'l.id',
      'l.student_group_id',
      'l.student_id',
      'l.valid_from',
      'sg.name as student_group_name',
      'sg.kind as student_group_kind',
    ])
    .where('l.user_group_id', '=', groupId)
    .where('l.valid_to', 'is', null)
    .orderBy('l.valid_from')
    .execute();
}

/** Which of these users are current members (or owners) of the group. */
export async function currentIn(
  db: Kysely<DB>,
  table: 'user_group_members' | 'user_group_owners',
  groupId: string,
  userIds: readonly string[],
): Promise<Set<string>> {
  const found = new Set<string>();
  for (const slice of chunks(userIds)) {
    const rows = await db
      .selectFrom(table)
      .select('user_id')
      .where('user_group_id', '=', groupId)
      .where('user_id', 'in', slice)
      .where('valid_to', 'is', null)
      .execute();
    for (const row of rows) found.add(row.user_id);
  }
  return found;
}

/**
 * Of these ids, the users of the organisation (not removed). Looked up by primary key alone, the
 * organisation checked on the rows: given a long IN list, SQLite's planner would otherwise walk
 * the organisation's index instead (see docs/decisions.md).
 */
export async function existingUserIds(
  db: Kysely<DB>,
  organisationId: string,
  userIds: readonly string[],
) {
  const found = new Set<string>();
  for (const slice of chunks(userIds)) {
    const rows = await db
      .selectFrom('users')
      .select(['id', 'organisation_id', 'removed_at'])
      .where('id', 'in', slice)
      .execute();
    for (const row of rows) {
      if (row.organisation_id === organisationId && row.removed_at === null) found.add(row.id);
    }
  }
  return found;
}
