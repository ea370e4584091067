import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  PostgresAdapter,
  type SqlBool,
  sql,
} from 'kysely';
import {
  type AccessTime,
  groupToStudentGroupPaths,
  groupToStudentPaths,
  userToStudentPaths,
  type Viewer,
} from '../../access/visibility.ts';
import type { DB } from '../../db/tables.ts';
import { matchesRule } from '../student-groups/membership.ts';
import { asksForLabels, type Rule } from '../student-groups/rules.ts';

/**
 * A caller's paths now, with the automatic groups they are linked to read as their definitions.
 * An automatic group (`all`, `rule`) that is not deleted holds exactly the live students its
 * definition matches: `refreshAutomaticGroup` keeps its members so in the same transaction as
 * every change of a student or of the rule (architecture: History). So "the child is a current
 * member of a linked automatic group" can be asked of the child's own columns, with no lookup:
 * what counts and wide first pages need. Rules asking for flags or tags are left to their
 * members (a lookup in `student_labels` per child), as are manual and deleted groups.
 */

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;

export interface DefinedReach {
  /** The linked groups read as definitions (every other path is followed as usual). */
  definedGroupIds: string[];
  /** Rules of organisation-wide groups, by their JSON. */
  organisationWide: Map<string, Rule | null>;
  /** Rules of each school's groups, by school then JSON; schools outside the viewer's left out. */
  bySchool: Map<string, Map<string, Rule | null>>;
  /** Members of the groups read as definitions (their `member_count`): what walking them costs. */
  members: number;
}

interface LinkedGroup {
  id: string;
  kind: string;
  school_id: string | null;
  rule: string | null;
  deleted_at: string | null;
  member_count: number;
}

/**
 * The student groups the viewer's user groups are linked to now (the first two steps of
 * `groupToStudentGroupPaths`: membership and link), with their definitions.
 */
export async function definedReach(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
): Promise<DefinedReach> {
  const linked = (await db
    .selectFrom('user_group_members as m')
    .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
    .innerJoin('student_groups as g', 'g.id', 'l.student_group_id')
    .select(['g.id', 'g.kind', 'g.school_id', 'g.rule', 'g.deleted_at', 'g.member_count'])
    .distinct()
    .where('m.organisation_id', '=', t.organisationId)
    .where('m.user_id', '=', viewer.userId)
    .where('m.valid_to', 'is', null)
    .where('l.valid_to', 'is', null)
    .execute()) as LinkedGroup[];
  const reach: DefinedReach = {
    definedGroupIds: [],
    organisationWide: new Map(),
    bySchool: new Map(),
    members: 0,
  };
  for (const g of linked) {
    if (g.deleted_at !== null || (g.kind !== 'all' && g.kind !== 'rule')) continue;
    const rule = g.rule === null ? null : (JSON.parse(g.rule) as Rule);
    if (rule && asksForLabels(rule)) continue;
    reach.definedGroupIds.push(g.id);
    const key = JSON.stringify(rule);
    if (g.school_id === null) reach.organisationWide.set(key, rule);
    // A school's group outside the viewer's schools holds no child they see.
    else if (viewer.schools === 'all' || viewer.schools.includes(g.school_id))
      reach.bySchool.set(
        g.school_id,
        (reach.bySchool.get(g.school_id) ?? new Map()).set(key, rule),
      );
    else continue;
    reach.members += Number(g.member_count);
  }
  return reach;
}

/** The student (a live student of the organisation) matches one of these rules. */
export function matchesAnyRule(
  eb: StudentsEb,
  rules: ReadonlyMap<string, Rule | null>,
): Expression<SqlBool> {
  return rules.size === 0
    ? sql<SqlBool>`1 = 0`
    : eb.or([...rules.values()].map((rule) => matchesRule(eb, rule)));
}

/**
 * The student (a live student of the organisation) is a member of one of the groups read as
 * definitions: each rule once, with the schools it holds in, as the same rules recur in every
 * school.
 */
export function inDefinedGroup(eb: StudentsEb, reach: DefinedReach): Expression<SqlBool> {
  const schoolsByRule = new Map<string, { rule: Rule | null; schools: string[] }>();
  for (const [school, rules] of reach.bySchool) {
    for (const [key, rule] of rules) {
      const entry = schoolsByRule.get(key) ?? { rule, schools: [] };
      entry.schools.push(school);
      schoolsByRule.set(key, entry);
    }
  }
  return eb.or([
    matchesAnyRule(eb, reach.organisationWide),
    ...[...schoolsByRule.values()].map(({ rule, schools }) =>
      eb.and([eb('s.school_id', 'in', schools), matchesRule(eb, rule)]),
    ),
  ]);
}

/** The paths that are not read as definitions: the other groups' members and the links to children. */
export function otherPaths(
  db: Kysely<DB>,
  t: AccessTime,
  pair: { user: string; student?: Expression<string> },
  reach: DefinedReach,
) {
  let viaGroups = groupToStudentGroupPaths(db, t, pair);
  if (reach.definedGroupIds.length > 0)
    viaGroups = viaGroups.where('l.student_group_id', 'not in', reach.definedGroupIds);
  return viaGroups
    .unionAll(groupToStudentPaths(db, t, pair))
    .unionAll(userToStudentPaths(db, t, pair));
}

/** The search word starts one of the student's words (`students.search_words`). */
export function startsAWord(db: Kysely<DB>, word: string): Expression<SqlBool> {
  return holdsNeedle(db, needleOf(word));
}

/** What `students.search_words` holds where one of the student's words starts with `word`. */
export function needleOf(word: string): string {
  return ` ${word}`;
}

/**
 * The student's search words hold `needle` (from `needleOf`, or a placeholder bound to one): a
 * test of the row itself, with no lookup.
 */
export function holdsNeedle(db: Kysely<DB>, needle: string): Expression<SqlBool> {
  const words = sql.ref('s.search_words');
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? sql<SqlBool>`strpos(${words}, ${needle}) > 0`
    : sql<SqlBool>`instr(${words}, ${needle}) > 0`;
}
