import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { heldAt } from './history.ts';
import { grantableRoles } from './roles.ts';

/**
 * Which children a user can see (spec section 3). Everything here is SQL, and the same
 * builders serve the student list filter, explain, "who can see this child" and effective
 * permissions, so an explanation can never drift from the decision.
 *
 * A user U sees student S at time T when all of these hold:
 *  - U and S are live at T (U neither disabled nor removed; S not deleted);
 *  - U holds a role (Viewer or higher, `students.view`) whose scope covers S's school;
 *  - S is not blocked for U;
 *  - at least one access path reaches S: a group U belongs to is linked to a student group
 *    containing S, or a group U belongs to is linked to S, or U is linked to S directly.
 */

/** A value, or a column of the enclosing query (for correlated subqueries). */
export type Operand = string | Expression<string>;

export interface AccessTime {
  organisationId: string;
  /** Omitted: now. */
  asOf?: string | undefined;
}

export type PathKind = 'group_to_student_group' | 'group_to_student' | 'user_to_student';

/** Which paths to find: one user or several, one student. */
export interface PathFilter {
  user?: Operand;
  users?: readonly string[];
  student?: Operand;
}

/** One access path from a user to a student, with when each of its parts began. */
export interface AccessPathRow {
  user_id: string;
  student_id: string;
  kind: PathKind;
  link_id: string;
  user_group_id: string | null;
  student_group_id: string | null;
  member_since: string | null;
  link_since: string;
  in_group_since: string | null;
}

function col(alias: string, column: string) {
  return sql.ref(`${alias}.${column}`);
}

/** Path 1: user group member -> link -> student group -> student. */
export function groupToStudentGroupPaths(db: Kysely<DB>, t: AccessTime, filter: PathFilter) {
  let query = db
    .selectFrom('user_group_members as m')
    .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
    .innerJoin('student_group_members as sgm', 'sgm.student_group_id', 'l.student_group_id')
    .where('m.organisation_id', '=', t.organisationId)
    .where((eb) => heldAt(eb, 'm', t.asOf))
    .where((eb) => heldAt(eb, 'l', t.asOf))
    .where((eb) => heldAt(eb, 'sgm', t.asOf));
  if (filter.user !== undefined) query = query.where('m.user_id', '=', filter.user);
  if (filter.users !== undefined) query = query.where('m.user_id', 'in', [...filter.users]);
  if (filter.student !== undefined) query = query.where('sgm.student_id', '=', filter.student);
  return query
    .select([
      'm.user_id as user_id',
      'sgm.student_id as student_id',
      sql<PathKind>`'group_to_student_group'`.as('kind'),
      'l.id as link_id',
      'm.user_group_id as user_group_id',
      'l.student_group_id as student_group_id',
      'm.valid_from as member_since',
      'l.valid_from as link_since',
      'sgm.valid_from as in_group_since',
    ])
    .$castTo<AccessPathRow>();
}

/** Path 2: user group member -> link -> student. */
export function groupToStudentPaths(db: Kysely<DB>, t: AccessTime, filter: PathFilter) {
  let query = db
    .selectFrom('user_group_members as m')
    .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
    .where('m.organisation_id', '=', t.organisationId)
    .where('l.student_id', 'is not', null)
    .where((eb) => heldAt(eb, 'm', t.asOf))
    .where((eb) => heldAt(eb, 'l', t.asOf));
  if (filter.user !== undefined) query = query.where('m.user_id', '=', filter.user);
  if (filter.users !== undefined) query = query.where('m.user_id', 'in', [...filter.users]);
  if (filter.student !== undefined) query = query.where('l.student_id', '=', filter.student);
  return query
    .select([
      'm.user_id as user_id',
      sql<string>`${col('l', 'student_id')}`.as('student_id'),
      sql<PathKind>`'group_to_student'`.as('kind'),
      'l.id as link_id',
      'm.user_group_id as user_group_id',
      sql<string | null>`null`.as('student_group_id'),
      'm.valid_from as member_since',
      'l.valid_from as link_since',
      sql<string | null>`null`.as('in_group_since'),
    ])
    .$castTo<AccessPathRow>();
}

/** Path 3: the user is linked to the student directly (external partners). */
export function userToStudentPaths(db: Kysely<DB>, t: AccessTime, filter: PathFilter) {
  let query = db
    .selectFrom('student_links as l')
    .where('l.organisation_id', '=', t.organisationId)
    .where('l.user_id', 'is not', null)
    .where('l.student_id', 'is not', null)
    .where((eb) => heldAt(eb, 'l', t.asOf));
  if (filter.user !== undefined) query = query.where('l.user_id', '=', filter.user);
  if (filter.users !== undefined) query = query.where('l.user_id', 'in', [...filter.users]);
  if (filter.student !== undefined) query = query.where('l.student_id', '=', filter.student);
  return query
    .select([
      sql<string>`${col('l', 'user_id')}`.as('user_id'),
      sql<string>`${col('l', 'student_id')}`.as('student_id'),
      sql<PathKind>`'user_to_student'`.as('kind'),
      'l.id as link_id',
      sql<string | null>`null`.as('user_group_id'),
      sql<string | null>`null`.as('student_group_id'),
      sql<string | null>`null`.as('member_since'),
      'l.valid_from as link_since',
      sql<string | null>`null`.as('in_group_since'),
    ])
    .$castTo<AccessPathRow>();
}

/** Every access path matching the filter, as rows. */
export function accessPaths(db: Kysely<DB>, t: AccessTime, filter: PathFilter) {
  return groupToStudentGroupPaths(db, t, filter)
    .unionAll(groupToStudentPaths(db, t, filter))
    .unionAll(userToStudentPaths(db, t, filter));
}

/** Blocks held at T between a user and a student. */
export function heldBlocks(db: Kysely<DB>, t: AccessTime, filter: PathFilter) {
  let query = db
    .selectFrom('blocks as b')
    .where('b.organisation_id', '=', t.organisationId)
    .where((eb) => heldAt(eb, 'b', t.asOf));
  if (filter.user !== undefined) query = query.where('b.user_id', '=', filter.user);
  if (filter.users !== undefined) query = query.where('b.user_id', 'in', [...filter.users]);
  if (filter.student !== undefined) query = query.where('b.student_id', '=', filter.student);
  return query;
}

/** A user, and the schools where their roles let them see students (`schoolsWith(principal, 'students.view')`). */
export interface Viewer {
  userId: string;
  schools: 'all' | readonly string[];
}

/** Whether a grant row `g` covers the school (spec section 1): the organisation, its school group, or itself. */
export function grantCovers(
  // biome-ignore lint/suspicious/noExplicitAny: used inside subqueries over role_grants as g
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  school: Expression<string>,
): Expression<SqlBool> {
  return eb.or([
    eb('g.scope_type', '=', 'organisation'),
    eb.and([eb('g.scope_type', '=', 'school'), eb('g.scope_id', '=', school)]),
    eb.and([
      eb('g.scope_type', '=', 'school_group'),
      eb(
        'g.scope_id',
        'in',
        eb
          .selectFrom('school_group_schools as sgs')
          .select('sgs.school_group_id')
          .where('sgs.school_id', '=', school)
          .where((eb2) => heldAt(eb2, 'sgs', t.asOf)),
      ),
    ]),
  ]);
}

/**
 * The SQL twin of `schoolsWith(principal, 'students.view')` for one (user, school) pair, used where
 * the user is a column rather than the caller ("who can see this child"). Every grantable role
 * is at least Viewer. Two EXISTS rather than one OR, so each can use its index. `anywhere`: some
 * role at some scope, without which nobody signs in.
 */
export function holdsRoleAt(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over users or students
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  user: Operand,
  school: Operand | 'anywhere',
): Expression<SqlBool> {
  const where =
    school === 'anywhere' ? undefined : typeof school === 'string' ? eb.val(school) : school;
  return eb.or([
    eb.exists(
      db
        .selectFrom('role_grants as g')
        .select('g.id')
        .where('g.user_id', '=', user)
        .where('g.organisation_id', '=', t.organisationId)
        .where('g.role', 'in', [...grantableRoles])
        .where((eb2) => heldAt(eb2, 'g', t.asOf))
        .$if(where !== undefined, (q) => q.where((eb2) => grantCovers(eb2, t, where!))),
    ),
    eb.exists(
      db
        .selectFrom('user_group_members as gm')
        .innerJoin('role_grants as g', 'g.user_group_id', 'gm.user_group_id')
        .select('g.id')
        .where('gm.user_id', '=', user)
        .where('g.organisation_id', '=', t.organisationId)
        .where('g.role', 'in', [...grantableRoles])
        .where((eb2) => heldAt(eb2, 'gm', t.asOf))
        .where((eb2) => heldAt(eb2, 'g', t.asOf))
        .$if(where !== undefined, (q) => q.where((eb2) => grantCovers(eb2, t, where!))),
    ),
  ]);
}

/** A student row is live at T: created by then and not (yet) deleted. */
export function studentLive(
  eb: ExpressionBuilder<DB & { s: DB['students'] }, 's'>,
  asOf: string | undefined,
): Expression<SqlBool> {
  if (asOf === undefined) return eb('s.deleted_at', 'is', null);
  return eb.and([
    eb('s.created_at', '<=', asOf),
    eb.or([eb('s.deleted_at', 'is', null), eb('s.deleted_at', '>', asOf)]),
  ]);
}

/** A user row is live at T: created by then, and neither disabled nor removed. */
export function userLive(
  eb: ExpressionBuilder<DB & { u: DB['users'] }, 'u'>,
  asOf: string | undefined,
): Expression<SqlBool> {
  if (asOf === undefined) {
    return eb.and([eb('u.disabled_at', 'is', null), eb('u.removed_at', 'is', null)]);
  }
  return eb.and([
    eb('u.created_at', '<=', asOf),
    eb.or([eb('u.disabled_at', 'is', null), eb('u.disabled_at', '>', asOf)]),
    eb.or([eb('u.removed_at', 'is', null), eb('u.removed_at', '>', asOf)]),
  ]);
}

/** No block between the user and the student, and at least one path from one to the other. */
export function reachesUnblocked(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over students or over users
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  pair: { user: Operand; student: Operand },
): Expression<SqlBool> {
  return eb.and([
    eb.not(eb.exists(heldBlocks(db, t, pair).select('b.id'))),
    eb.or([
      eb.exists(groupToStudentGroupPaths(db, t, pair)),
      eb.exists(groupToStudentPaths(db, t, pair)),
      eb.exists(userToStudentPaths(db, t, pair)),
    ]),
  ]);
}

/**
 * Some path reaches the student, asked as one EXISTS over the three paths together. PostgreSQL
 * cannot turn a UNION into a hashed set, so it tests each row as it comes, following the user's
 * few memberships and links to the row's student: right for a page that stops after 50 children.
 * The three separate EXISTS of `reachesUnblocked` let it build the set of every (student, path)
 * the user reaches first, which is right for counts and wrong for a first page: 100,000 rows
 * for a trust lead before the first child is read.
 */
export function reachedRowByRow(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over students
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  pair: { user: Operand; student: Operand },
): Expression<SqlBool> {
  return eb.exists(accessPaths(db, t, pair));
}

/** The students some path reaches from the user: the short list to start from when it is short. */
export function reachableStudentIds(db: Kysely<DB>, t: AccessTime, user: Operand) {
  return db.selectFrom(accessPaths(db, t, { user }).as('p')).select('p.student_id');
}

/**
 * The visibility filter for a query over `students as s`: every student list, search, count
 * and export goes through this one expression. The viewer's schools come from their roles.
 */
export function studentVisibleTo(
  db: Kysely<DB>,
  eb: ExpressionBuilder<DB & { s: DB['students'] }, 's'>,
  t: AccessTime,
  viewer: Viewer,
): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [
    eb('s.organisation_id', '=', t.organisationId),
    studentLive(eb, t.asOf),
  ];
  if (viewer.schools !== 'all') {
    conditions.push(
      viewer.schools.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb('s.school_id', 'in', [...viewer.schools]),
    );
  }
  conditions.push(
    // The viewer is live too: checked here as well as at sign-in, so the filter stands alone.
    eb.exists(
      db
        .selectFrom('users as u')
        .select('u.id')
        .where('u.id', '=', viewer.userId)
        .where((eb2) => userLive(eb2, t.asOf)),
    ),
    reachesUnblocked(db, eb, t, { user: viewer.userId, student: sql.ref<string>('s.id') }),
  );
  return eb.and(conditions);
}

/** The same decision from the other side, for a query over `users as u`: who can see this student. */
export function userSeesStudent(
  db: Kysely<DB>,
  eb: ExpressionBuilder<DB & { u: DB['users'] }, 'u'>,
  t: AccessTime,
  student: { id: string; schoolId: string },
): Expression<SqlBool> {
  const user = sql.ref<string>('u.id');
  return eb.and([
    eb('u.organisation_id', '=', t.organisationId),
    userLive(eb, t.asOf),
    holdsRoleAt(db, eb, t, user, student.schoolId),
    reachesUnblocked(db, eb, t, { user, student: student.id }),
  ]);
}

/** Users holding a role that covers the school at T (directly or through a group). */
export function roleHolderIds(db: Kysely<DB>, t: AccessTime, school: string) {
  const schoolValue = sql<string>`${school}`;
  return db
    .selectFrom('role_grants as g')
    .select('g.user_id as user_id')
    .where('g.organisation_id', '=', t.organisationId)
    .where('g.user_id', 'is not', null)
    .where((eb) => heldAt(eb, 'g', t.asOf))
    .where((eb) => grantCovers(eb, t, schoolValue))
    .$castTo<{ user_id: string }>()
    .unionAll(
      db
        .selectFrom('role_grants as g')
        .innerJoin('user_group_members as gm', 'gm.user_group_id', 'g.user_group_id')
        .select('gm.user_id as user_id')
        .where('g.organisation_id', '=', t.organisationId)
        .where((eb) => heldAt(eb, 'g', t.asOf))
        .where((eb) => heldAt(eb, 'gm', t.asOf))
        .where((eb) => grantCovers(eb, t, schoolValue)),
    );
}

/** Users some path reaches the student from, at T. */
export function reachingUserIds(db: Kysely<DB>, t: AccessTime, student: string) {
  return db.selectFrom(accessPaths(db, t, { student }).as('p')).select('p.user_id');
}

export type WhoShape = 'scan' | 'holders' | 'reachers';

/**
 * How to list who can see a child. Users who hold a role at the child's school are usually a
 * few hundred, and so are those a path reaches, unless a group of a million members is linked;
 * the smaller list is read and sorted, and only when both are large are users read in name order.
 */
export async function planWhoCanSee(
  db: Kysely<DB>,
  t: AccessTime,
  student: { id: string; schoolId: string },
): Promise<{ shape: WhoShape; holders: number; reachers: number }> {
  const school = sql<string>`${student.schoolId}`;
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('student_group_members as sgm')
        .innerJoin('student_links as l', 'l.student_group_id', 'sgm.student_group_id')
        .innerJoin('user_groups as ug', 'ug.id', 'l.user_group_id')
        .select(sql<number>`coalesce(sum(ug.member_count), 0)`.as('n'))
        .where('sgm.student_id', '=', student.id)
        .where('sgm.valid_to', 'is', null)
        .where('l.valid_to', 'is', null)
        .as('via_groups'),
      eb
        .selectFrom('student_links as l')
        .leftJoin('user_groups as ug', 'ug.id', 'l.user_group_id')
        .select(sql<number>`coalesce(sum(coalesce(ug.member_count, 1)), 0)`.as('n'))
        .where('l.student_id', '=', student.id)
        .where('l.valid_to', 'is', null)
        .as('via_links'),
      eb
        .selectFrom('role_grants as g')
        .leftJoin('user_groups as ug', 'ug.id', 'g.user_group_id')
        .select(
          sql<number>`coalesce(sum(case when g.user_id is null then ug.member_count else 1 end), 0)`.as(
            'n',
          ),
        )
        .where('g.organisation_id', '=', t.organisationId)
        .where('g.valid_to', 'is', null)
        .where((eb2) => grantCovers(eb2, t, school))
        .as('holders'),
    ])
    .executeTakeFirstOrThrow();
  const reachers = Number(row.via_groups) + Number(row.via_links);
  const holders = Number(row.holders);
  const few = 20_000;
  let shape: WhoShape = 'scan';
  if (Math.min(reachers, holders) <= few) shape = holders <= reachers ? 'holders' : 'reachers';
  return { shape, holders, reachers };
}

/** Of the given students, those the viewer can see: everyone else is redacted wherever they are named. */
export async function visibleAmong(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  studentIds: readonly string[],
): Promise<Set<string>> {
  const visible = new Set<string>();
  const unique = [...new Set(studentIds)];
  for (let i = 0; i < unique.length; i += 500) {
    const rows = await db
      .selectFrom('students as s')
      .select('s.id')
      .where('s.id', 'in', unique.slice(i, i + 500))
      .where((eb) => studentVisibleTo(db, eb, t, viewer))
      .execute();
    for (const row of rows) visible.add(row.id);
  }
  return visible;
}
