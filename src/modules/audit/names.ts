import type { Kysely } from 'kysely';
import type { Principal } from '../../access/principal.ts';
import { visibleUserGroupIds } from '../../access/user-groups.ts';
import { chunks } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';

/**
 * The names of the people, groups, schools, categories and children whose ids appear in the log
 * rows a reader was given, so the log reads in words ("Jo Bloggs received DSL at Northgate
 * School"). Only what the reader may name: a child only if not withheld from them (`hidden`), a
 * user group only if the user-group policy lets them see it, and for an Admin of some schools only
 * those schools and their student groups and categories. Anything else stays a bare id.
 */
export async function namesFor(
  db: Kysely<DB>,
  principal: Principal,
  schools: 'all' | readonly string[],
  ids: Iterable<string>,
  hidden: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const wanted = [...new Set(ids)].filter((id) => !hidden.has(id));
  const org = principal.organisationId;
  const within = (school: string | null) =>
    schools === 'all' || school === null || schools.includes(school);
  for (const slice of chunks(wanted)) {
    const [users, userGroups, studentGroups, schoolRows, schoolGroups, students, categories] =
      await Promise.all([
        db
          .selectFrom('users')
          .select(['id', 'name'])
          .where('organisation_id', '=', org)
          .where('id', 'in', slice)
          .execute(),
        visibleUserGroupIds(db, principal, slice),
        db
          .selectFrom('student_groups')
          .select(['id', 'name', 'school_id'])
          .where('organisation_id', '=', org)
          .where('id', 'in', slice)
          .execute(),
        db
          .selectFrom('schools')
          .select(['id', 'name'])
          .where('organisation_id', '=', org)
          .where('id', 'in', slice)
          .execute(),
        schools === 'all'
          ? db
              .selectFrom('school_groups')
              .select(['id', 'name'])
              .where('organisation_id', '=', org)
              .where('id', 'in', slice)
              .execute()
          : Promise.resolve([]),
        db
          .selectFrom('students')
          .select(['id', 'given_name', 'family_name'])
          .where('organisation_id', '=', org)
          .where('id', 'in', slice)
          .execute(),
        db
          .selectFrom('categories')
          .select(['id', 'name', 'school_id'])
          .where('organisation_id', '=', org)
          .where('id', 'in', slice)
          .execute(),
      ]);
    for (const u of users) names.set(u.id, u.name);
    if (userGroups.size > 0) {
      const rows = await db
        .selectFrom('user_groups')
        .select(['id', 'name'])
        .where('organisation_id', '=', org)
        .where('id', 'in', [...userGroups])
        .execute();
      for (const g of rows) names.set(g.id, g.name);
    }
    for (const g of studentGroups) if (within(g.school_id)) names.set(g.id, g.name);
    for (const s of schoolRows) if (within(s.id)) names.set(s.id, s.name);
    for (const g of schoolGroups) names.set(g.id, g.name);
    // Not withheld: the reader may read this child's trail (`hiddenRecordIds` asked of every id).
    for (const s of students) names.set(s.id, `${s.given_name} ${s.family_name}`);
    for (const c of categories) if (within(c.school_id)) names.set(c.id, c.name);
  }
  if (wanted.includes(org)) {
    const row = await db
      .selectFrom('organisations')
      .select('name')
      .where('id', '=', org)
      .executeTakeFirst();
    if (row) names.set(org, row.name);
  }
  return names;
}
