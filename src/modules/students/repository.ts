import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import {
  type AccessPathRow,
  type AccessTime,
  accessPaths,
  reachableStudentIds,
  reachedRowByRow,
  studentVisibleTo,
  type Viewer,
  visibleAmong,
} from '../../access/visibility.ts';
import { type Placeholders, runPrepared } from '../../db/prepared.ts';
import { chunks } from '../../db/sql.ts';
import type { DB, StudentsTable } from '../../db/tables.ts';
import { nameTokens, searchTokens } from './names.ts';
import { definedReach, holdsNeedle, inDefinedGroup, needleOf, otherPaths } from './reach.ts';

export type StudentRow = StudentsTable;

export interface StudentFilter {
  q?: string | undefined;
  schoolId?: string | undefined;
  yearGroup?: number | undefined;
  onRoll?: boolean | undefined;
  studentGroupId?: string | undefined;
}

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;
// biome-ignore lint/complexity/noBannedTypes: Kysely's type of a query that selects nothing yet
type StudentsFrom = SelectQueryBuilder<DB & { s: DB['students'] }, 's', {}>;

/** Students the viewer can see at T: the one visibility filter (src/access/visibility.ts). */
export function visibleStudents(db: Kysely<DB>, t: AccessTime, viewer: Viewer) {
  return db.selectFrom('students as s').where((eb) => studentVisibleTo(db, eb, t, viewer));
}

/** The search word that narrows most: the longest, as longer prefixes match fewer words. */
function rarestWord(words: readonly string[]): string | undefined {
  return [...words].sort((a, b) => b.length - a.length)[0];
}

/**
 * The prefix range of one search word: every token that starts with it. The bound is the last
 * code point, not U+FFFF, which letters beyond it (UTF-8 compares them as greater) would pass:
 * the range then holds exactly the words that start with `word`, as counts test it.
 */
export function tokenRange(word: string): [string, string] {
  return [word, `${word}\u{10ffff}`];
}

/**
 * Each search word is the start of one of the student's words (name or UPN). The organisation
 * leads `student_name_tokens_by_token`: without it PostgreSQL cannot seek that index and reads
 * every organisation's words in a sequential scan.
 */
function matchesWord(eb: StudentsEb, from: string, to: string): Expression<SqlBool> {
  return eb.exists(
    eb
      .selectFrom('student_name_tokens as nt')
      .select('nt.student_id')
      .whereRef('nt.organisation_id', '=', 's.organisation_id')
      .whereRef('nt.student_id', '=', 's.id')
      .where('nt.token', '>=', from)
      .where('nt.token', '<', to),
  );
}

/** Narrowing by school, year, roll and group, for every query shape. */
function narrow(eb: StudentsEb, p: Placeholders, filter: StudentFilter): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (filter.schoolId !== undefined) conditions.push(eb('s.school_id', '=', p.value('schoolId')));
  if (filter.yearGroup !== undefined)
    conditions.push(eb('s.year_group', '=', p.value('yearGroup') as unknown as number));
  if (filter.onRoll !== undefined)
    conditions.push(eb('s.on_roll', '=', p.value('onRoll') as unknown as number));
  if (filter.studentGroupId !== undefined) {
    conditions.push(
      eb.exists(
        eb
          .selectFrom('student_group_members as gm')
          .select('gm.student_id')
          .where('gm.student_group_id', '=', p.value('studentGroupId'))
          .whereRef('gm.student_id', '=', 's.id')
          .where('gm.valid_to', 'is', null),
      ),
    );
  }
  return conditions;
}

function narrowingArgs(filter: StudentFilter) {
  return {
    ...(filter.schoolId !== undefined ? { schoolId: filter.schoolId } : {}),
    ...(filter.yearGroup !== undefined ? { yearGroup: filter.yearGroup } : {}),
    ...(filter.onRoll !== undefined ? { onRoll: filter.onRoll ? 1 : 0 } : {}),
    ...(filter.studentGroupId !== undefined ? { studentGroupId: filter.studentGroupId } : {}),
  };
}

function narrowingShape(filter: StudentFilter): string {
  return ['schoolId', 'yearGroup', 'onRoll', 'studentGroupId']
    .filter((k) => filter[k as keyof StudentFilter] !== undefined)
    .join('+');
}

/**
 * How a page is read. A database's planner cannot see through the visibility rules, so Haven
 * chooses: walk the name index when the caller sees many students (`scan`), walk each of the
 * caller's few schools' name index and merge them (`school`), start from the students their
 * paths reach when those are few (`reach`), or from the search's matches when those are fewer
 * (`search`). Every shape returns the same rows in the same order.
 */
export type PageShape = 'scan' | 'school' | 'reach' | 'search';

/** Up to this many candidates, sorting them beats walking the whole name index. */
const FEW = 4000;

/** A caller whose students are in at most this many schools can have those schools walked. */
const WALKED_SCHOOLS = 4;

/**
 * Walking a school's names tests about `limit * pool / reach` rows to fill a page; starting
 * from the paths reads and sorts `reach` rows, each dearer than a test. Measured on the
 * benchmark's trust (SQLite and PostgreSQL alike), the walk wins once it tests fewer than a
 * quarter as many rows.
 */
const WALK_ADVANTAGE = 4;

/** More token rows than any organisation has: see `from` in `pageOfVisibleStudents`. */
const EVERY_MATCH = 2_000_000_000;

/** The list's order, on the students or on a search's matches. */
const studentOrder = [sql.ref('s.family_key'), sql.ref('s.given_key'), sql.ref('s.id')] as const;
const matchOrder = [
  sql.ref('c.family_key'),
  sql.ref('c.given_key'),
  sql.ref('c.student_id'),
] as const;

/** A cursor's three keys, compared with the list's order as one row. */
function tuple3(a: string, b: string, c: string) {
  return sql<[string, string, string]>`(${a}, ${b}, ${c})`;
}

export interface PagePlan {
  shape: PageShape;
  reach: number;
  /** Token rows matching the rarest word, counted no further than the choice needs. */
  matches: number | null;
  /** Students in the walked schools, when the caller's students are in a few schools. */
  pool: number | null;
  /** The caller's groups' links to student groups: what testing a child row by row follows. */
  links: number;
}

/**
 * The schools a page can be read from one by one: the school the list is narrowed to, or the
 * caller's schools when they are few. Null when the caller sees the whole organisation or many
 * schools.
 */
export function walkedSchools(viewer: Viewer, filter: StudentFilter): readonly string[] | null {
  if (filter.schoolId !== undefined) return [filter.schoolId];
  if (viewer.schools === 'all') return null;
  if (viewer.schools.length === 0 || viewer.schools.length > WALKED_SCHOOLS) return null;
  return viewer.schools;
}

/**
 * One small query: about how many students the viewer's paths reach, how many match the
 * rarest word (counted only as far as the choice below needs, see `matchCap`), and how many
 * students the walked schools hold.
 */
export async function planStudentPage(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  request: { words: string[]; walk: readonly string[] | null; limit: number },
): Promise<PagePlan> {
  const { words, walk, limit } = request;
  const rarest = rarestWord(words);
  const [row] = await runPrepared(
    db,
    `students.plan|${rarest ? 'word' : 'none'}|walk:${walk?.length ?? 0}`,
    (p) => {
      type Eb = ExpressionBuilder<DB, never>;
      const groupReach = (eb: Eb) =>
        eb
          .selectFrom('user_group_members as m')
          .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
          .leftJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
          .select(sql<number>`coalesce(sum(coalesce(sg.member_count, 1)), 0)`.as('n'))
          .where('m.user_id', '=', p.value('user'))
          .where('m.valid_to', 'is', null)
          .where('l.valid_to', 'is', null);
      const directReach = (eb: Eb) =>
        eb
          .selectFrom('student_links as dl')
          .select((eb2) => eb2.fn.countAll<number>().as('n'))
          .where('dl.user_id', '=', p.value('user'))
          .where('dl.valid_to', 'is', null);
      /**
       * The count of matches stops at `max(FEW, floor(reach / 4)) + 1`: the choice below only
       * compares matches with FEW, with the reach (when the reach is at most FEW) and with a
       * quarter of the reach, and a count at that cap loses every one of those comparisons, as
       * the full count would. The reach is read again here (a few rows of links), so the cap is
       * part of the one query.
       */
      const matchCap = (eb: Eb) => {
        const quarter = sql<number>`(${groupReach(eb)} + ${directReach(eb)}) / 4`;
        return sql<number>`(case when ${quarter} > ${sql.lit(FEW)} then ${quarter} else ${sql.lit(FEW)} end + 1)`;
      };
      return db.selectNoFrom((eb) => [
        groupReach(eb).as('group_reach'),
        directReach(eb).as('direct_reach'),
        eb
          .selectFrom('user_group_members as m')
          .innerJoin('student_links as l', 'l.user_group_id', 'm.user_group_id')
          .select((eb2) => eb2.fn.countAll<number>().as('n'))
          .where('m.user_id', '=', p.value('user'))
          .where('m.valid_to', 'is', null)
          .where('l.valid_to', 'is', null)
          .where('l.student_group_id', 'is not', null)
          .as('group_links'),
        rarest
          ? eb
              .selectFrom(
                eb
                  .selectFrom('student_name_tokens as nt')
                  .select('nt.student_id')
                  .where('nt.organisation_id', '=', p.value('org'))
                  .where('nt.token', '>=', p.value('from'))
                  .where('nt.token', '<', p.value('to'))
                  .limit(matchCap(eb))
                  .as('capped'),
              )
              .select((eb2) => eb2.fn.countAll<number>().as('n'))
              .as('matches')
          : sql<null>`null`.as('matches'),
        walk
          ? eb
              .selectFrom('students as ps')
              .select((eb2) => eb2.fn.countAll<number>().as('n'))
              .where('ps.school_id', 'in', p.list('walk', walk.length))
              .as('pool')
          : sql<null>`null`.as('pool'),
      ]);
    },
    {
      user: viewer.userId,
      org: t.organisationId,
      ...(rarest ? { from: tokenRange(rarest)[0], to: tokenRange(rarest)[1] } : {}),
      ...(walk ? { walk } : {}),
    },
  );
  const reach = Number(row!.group_reach) + Number(row!.direct_reach);
  const matches = row!.matches === null ? null : Number(row!.matches);
  const pool = row!.pool === null ? null : Number(row!.pool);
  // A search thins out the rows a walk finds by an amount the plan does not know, so a
  // searched page walks only when the reach is too large to sort.
  const walkWins =
    pool !== null && matches === null && reach * reach >= WALK_ADVANTAGE * limit * pool;
  let shape: PageShape = pool === null ? 'scan' : 'school';
  if (matches !== null && matches <= FEW && matches <= reach) shape = 'search';
  else if (reach <= FEW && !walkWins) shape = 'reach';
  else if (matches !== null && matches < reach / 4) shape = 'search';
  return { shape, reach, matches, pool, links: Number(row!.group_links) };
}

export interface PageRequest extends StudentFilter {
  limit: number;
  after?: readonly [string, string, string] | undefined;
  /** Overrides the planner (tests use it to hold every shape to the same answer). */
  shape?: PageShape | undefined;
  /** Overrides the planner's choice to read linked automatic groups as definitions (the same). */
  byDefinition?: boolean | undefined;
}

/**
 * Testing a child row by row follows each of the caller's links until one reaches them. Past
 * this many links, the linked automatic groups are read as their definitions instead
 * (`reach.ts`): a test of the child's own columns, whatever the number of links.
 */
const MANY_LINKS = 8;

/**
 * One page of the students a viewer can see, by family name: one query, with the visibility
 * filter, search, narrowing, sort and cursor all inside it.
 */
export async function pageOfVisibleStudents(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  request: PageRequest,
): Promise<StudentRow[]> {
  const words = searchTokens(request.q);
  const walk = walkedSchools(viewer, request);
  const plan = request.shape
    ? null
    : await planStudentPage(db, t, viewer, { words, walk, limit: request.limit });
  let shape: PageShape = request.shape ?? plan!.shape;
  if (shape === 'search' && words.length === 0) shape = 'scan';
  if (shape === 'school' && walk === null) shape = 'scan';
  // Many links: the linked automatic groups are read as definitions, in a query of this caller's
  // own (not compiled once per shape, nor named on PostgreSQL: its text is the caller's groups').
  const definitions =
    shape !== 'reach' && (request.byDefinition ?? (plan !== null && plan.links > MANY_LINKS))
      ? await definedReach(db, t, viewer)
      : null;
  const rarest = rarestWord(words);
  const rarestAt = rarest === undefined ? -1 : words.indexOf(rarest);
  const schools = viewer.schools === 'all' ? 'all' : viewer.schools.length;
  const key = [
    'students.page',
    shape,
    `schools:${schools}`,
    `walk:${shape === 'school' ? walk!.length : 0}`,
    `words:${words.length}`,
    narrowingShape(request),
    request.after ? 'after' : 'first',
  ].join('|');
  const build = (p: Placeholders) => {
    const pt: AccessTime = { organisationId: p.value('org') };
    const user = p.value('user');
    const student = sql.ref<string>('s.id');
    const after = () => tuple3(p.value('afterFamily'), p.value('afterGiven'), p.value('afterId'));
    /**
     * Where a page's rows come from: the students, or for `search` the rarest word's matches in
     * name order (from the token index alone) joined to their students, so the filters run only
     * on the rows the page reaches. A LIMIT no organisation reaches keeps those matches a
     * subquery of their own: without it SQLite flattens it and PostgreSQL pushes the filters into
     * it, and every match is tested before any is sorted.
     */
    const from = () => {
      if (shape !== 'search') return db.selectFrom('students as s');
      let matches = db
        .selectFrom('student_name_tokens as st')
        .select(['st.family_key', 'st.given_key', 'st.student_id'])
        .distinct()
        .where('st.organisation_id', '=', p.value('org'))
        .where('st.token', '>=', p.value('rarestFrom'))
        .where('st.token', '<', p.value('rarestTo'));
      if (request.after) {
        matches = matches.where(({ eb, refTuple }) =>
          eb(refTuple('st.family_key', 'st.given_key', 'st.student_id'), '>', after()),
        );
      }
      const ordered = matches
        .orderBy('st.family_key')
        .orderBy('st.given_key')
        .orderBy('st.student_id')
        .limit(EVERY_MATCH);
      // Typed as the students alone: `c` is named only by `matchOrder`.
      return db
        .selectFrom([ordered.as('c'), 'students as s'])
        .whereRef('s.id', '=', 'c.student_id') as unknown as StudentsFrom;
    };
    /** The page, read from the whole organisation or from one walked school. */
    const read = (walked?: string) => {
      let query = from().selectAll('s');
      query = query
        .where('s.organisation_id', '=', pt.organisationId)
        .where('s.deleted_at', 'is', null);
      if (walked !== undefined) query = query.where('s.school_id', '=', walked);
      if (schools !== 'all') {
        query =
          schools === 0
            ? query.where(sql<SqlBool>`1 = 0`)
            : query.where('s.school_id', 'in', p.list('schools', schools));
      }
      // Search and narrowing before the paths: SQLite tests the conditions in this order, and a
      // word is a test of the row's own search words (no lookup) where a wide reach is one
      // lookup per link until one holds.
      query = query.where((eb) =>
        eb.and([
          // A search's matches already start a word with the rarest one: asking again would
          // only make PostgreSQL expect too few rows to stop early.
          ...words.flatMap((_, i) =>
            shape === 'search' && i === rarestAt ? [] : [holdsNeedle(db, p.value(`needle${i}`))],
          ),
          ...narrow(eb, p, request),
        ]),
      );
      query = query
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('users as u')
              .select('u.id')
              .where('u.id', '=', user)
              .where('u.disabled_at', 'is', null)
              .where('u.removed_at', 'is', null),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('blocks as b')
                .select('b.id')
                .where('b.user_id', '=', user)
                .whereRef('b.student_id', '=', 's.id')
                .where('b.valid_to', 'is', null),
            ),
          ),
        );
      if (shape === 'reach') {
        query = query.where('s.id', 'in', reachableStudentIds(db, pt, user));
      } else if (definitions) {
        query = query.where((eb) =>
          eb.or([
            inDefinedGroup(eb, definitions),
            eb.exists(otherPaths(db, pt, { user, student }, definitions)),
          ]),
        );
      } else {
        // Row by row: the page stops after `limit` children, so no set of all reached students.
        query = query.where((eb) => reachedRowByRow(db, eb, pt, { user, student }));
      }
      if (request.after && shape !== 'search') {
        // One row comparison, which both engines seek to in the name-ordered indexes.
        query = query.where(({ eb, refTuple }) =>
          eb(refTuple('s.family_key', 's.given_key', 's.id'), '>', after()),
        );
      }
      const order = shape === 'search' ? matchOrder : studentOrder;
      return query
        .orderBy(order[0])
        .orderBy(order[1])
        .orderBy(order[2])
        .limit(p.value('limit') as unknown as number);
    };
    if (shape !== 'school') return read();
    // Each walked school's first page in name order, merged: one query however few schools.
    const walked = p.list('walk', walk!.length);
    if (walked.length === 1) return read(walked[0]);
    const merged = walked
      .map((school) => db.selectFrom(read(school).as('w')).selectAll())
      .reduce((union, part) => union.unionAll(part));
    return db
      .selectFrom(merged.as('s'))
      .selectAll()
      .orderBy(studentOrder[0])
      .orderBy(studentOrder[1])
      .orderBy(studentOrder[2])
      .limit(p.value('limit') as unknown as number);
  };
  const args: Record<string, string | number | readonly string[]> = {
    org: t.organisationId,
    user: viewer.userId,
    limit: request.limit,
    ...narrowingArgs(request),
  };
  if (viewer.schools !== 'all') args.schools = viewer.schools;
  if (shape === 'school') args.walk = walk!;
  words.forEach((word, i) => {
    args[`needle${i}`] = needleOf(word);
  });
  if (shape === 'search' && rarest) [args.rarestFrom, args.rarestTo] = tokenRange(rarest);
  if (request.after) [args.afterFamily, args.afterGiven, args.afterId] = request.after;
  if (definitions) {
    const values: Placeholders = {
      value: (name) => args[name] as string,
      list: (name) => [...(args[name] as readonly string[])],
    };
    return (await db.executeQuery<StudentRow>(build(values).compile())).rows;
  }
  return runPrepared(db, key, build, args) as Promise<StudentRow[]>;
}

/** The narrowing filters (school, year, roll, group) with their values bound in the query. */
export function narrowingConditions(eb: StudentsEb, filter: StudentFilter): Expression<SqlBool>[] {
  const values = narrowingArgs(filter) as unknown as Record<string, string>;
  const direct: Placeholders = {
    value: (name) => values[name]!,
    list: () => [],
  };
  return narrow(eb, direct, filter);
}

/** Search and narrowing for the queries that are not paged (counts, exports, group members). */
export function applyStudentFilter<O>(
  query: import('kysely').SelectQueryBuilder<DB & { s: StudentsTable }, 's', O>,
  filter: StudentFilter,
) {
  const words = searchTokens(filter.q);
  return query.where((eb) =>
    eb.and([
      ...words.map((w) => matchesWord(eb, ...tokenRange(w))),
      ...narrowingConditions(eb, filter),
    ]),
  );
}

export async function findStudentInOrganisation(
  db: Kysely<DB>,
  organisationId: string,
  studentId: string,
) {
  return db
    .selectFrom('students')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', studentId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** May the viewer see this student? The hot check, compiled once per shape. */
export async function findVisibleStudent(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  studentId: string,
): Promise<StudentRow | undefined> {
  if (t.asOf !== undefined) {
    return visibleStudents(db, t, viewer)
      .selectAll('s')
      .where('s.id', '=', studentId)
      .executeTakeFirst();
  }
  const schools = viewer.schools === 'all' ? 'all' : viewer.schools.length;
  const rows = await runPrepared(
    db,
    `students.check|schools:${schools}`,
    (p) =>
      db
        .selectFrom('students as s')
        .selectAll('s')
        .where('s.id', '=', p.value('student'))
        .where((eb) =>
          studentVisibleTo(
            db,
            eb,
            { organisationId: p.value('org') },
            {
              userId: p.value('user'),
              schools: schools === 'all' ? 'all' : p.list('schools', schools),
            },
          ),
        ),
    {
      student: studentId,
      org: t.organisationId,
      user: viewer.userId,
      ...(viewer.schools === 'all' ? {} : { schools: viewer.schools }),
    },
  );
  return rows[0];
}

/**
 * A student the viewer sees now, with one access path that reaches them (what a profile read's
 * access-log row records), in one statement compiled once: the path is an uncorrelated derived
 * table of at most one row beside the student, so both engines plan it alike.
 */
export async function findVisibleStudentWithPath(
  db: Kysely<DB>,
  organisationId: string,
  viewer: Viewer,
  studentId: string,
): Promise<{ student: StudentRow; path: AccessPathRow | null } | undefined> {
  const schools = viewer.schools === 'all' ? 'all' : viewer.schools.length;
  const rows = await runPrepared(
    db,
    `students.check-with-path|schools:${schools}`,
    (p) => {
      const now = { organisationId: p.value('org') };
      const path = db
        .selectFrom(
          accessPaths(db, now, { user: p.value('user'), student: p.value('student') }).as('ap'),
        )
        .selectAll('ap')
        .limit(1);
      return db
        .selectFrom('students as s')
        .leftJoin(path.as('p'), (join) => join.onTrue())
        .selectAll('s')
        .select([
          'p.kind as path_kind',
          'p.link_id as path_link_id',
          'p.user_group_id as path_user_group_id',
          'p.student_group_id as path_student_group_id',
          'p.member_since as path_member_since',
          'p.link_since as path_link_since',
          'p.in_group_since as path_in_group_since',
        ])
        .where('s.id', '=', p.value('student'))
        .where((eb) =>
          studentVisibleTo(db, eb, now, {
            userId: p.value('user'),
            schools: schools === 'all' ? 'all' : p.list('schools', schools),
          }),
        );
    },
    {
      student: studentId,
      org: organisationId,
      user: viewer.userId,
      ...(viewer.schools === 'all' ? {} : { schools: viewer.schools }),
    },
  );
  const row = rows[0];
  if (!row) return undefined;
  const {
    path_kind,
    path_link_id,
    path_user_group_id,
    path_student_group_id,
    path_member_since,
    path_link_since,
    path_in_group_since,
    ...student
  } = row;
  const path: AccessPathRow | null =
    path_kind === null || path_link_id === null || path_link_since === null
      ? null
      : {
          user_id: viewer.userId,
          student_id: studentId,
          kind: path_kind,
          link_id: path_link_id,
          user_group_id: path_user_group_id,
          student_group_id: path_student_group_id,
          member_since: path_member_since,
          link_since: path_link_since,
          in_group_since: path_in_group_since,
        };
  return { student, path };
}

/** Of these ids, the students the viewer can see (the one set question every redaction asks). */
export const visibleStudentIds = visibleAmong;

/**
 * The names of those of these children the viewer can see, by id: a child missing from the map
 * is shown without name or identifier.
 */
export async function visibleStudentNames(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const visible = [...(await visibleAmong(db, t, viewer, ids))];
  const names = new Map<string, string>();
  for (const slice of chunks(visible)) {
    const rows = await db
      .selectFrom('students')
      .select(['id', 'given_name', 'family_name'])
      .where('id', 'in', slice)
      .execute();
    for (const s of rows) names.set(s.id, `${s.given_name} ${s.family_name}`);
  }
  return names;
}

export async function findStudentByUpn(db: Kysely<DB>, organisationId: string, upn: string) {
  return db
    .selectFrom('students')
    .select(['id'])
    .where('organisation_id', '=', organisationId)
    .where('upn', '=', upn)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Flags, tags and search words are kept twice: on the row (to show) and as rows (to query).
 * Called whenever a student is written.
 */
export async function replaceLabels(db: Kysely<DB>, student: StudentRow): Promise<void> {
  await db.deleteFrom('student_labels').where('student_id', '=', student.id).execute();
  await db.deleteFrom('student_name_tokens').where('student_id', '=', student.id).execute();
  await insertLabels(db, [student]);
}

/** Words sorted as both engines compare them: by their UTF-8 bytes (`prior_token`). */
function inByteOrder(words: readonly string[]): string[] {
  return [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** Labels and search words of new students, in bulk. */
export async function insertLabels(db: Kysely<DB>, students: readonly StudentRow[]): Promise<void> {
  const labels = students.flatMap((row) => [
    ...(JSON.parse(row.flags) as string[]).map((value) => ({ kind: 'flag', value, row })),
    ...(JSON.parse(row.tags) as string[]).map((value) => ({ kind: 'tag', value, row })),
  ]);
  for (const slice of chunks(labels, 400)) {
    await db
      .insertInto('student_labels')
      .values(
        slice.map(({ kind, value, row }) => ({
          organisation_id: row.organisation_id,
          student_id: row.id,
          kind,
          value,
        })),
      )
      .execute();
  }
  const tokens = students.flatMap((row) =>
    inByteOrder(nameTokens(row)).map((token, i, words) => ({
      organisation_id: row.organisation_id,
      student_id: row.id,
      token,
      family_key: row.family_key,
      given_key: row.given_key,
      school_id: row.school_id,
      on_roll: row.on_roll,
      deleted_at: row.deleted_at,
      prior_token: words[i - 1] ?? null,
    })),
  );
  for (const slice of chunks(tokens, 600)) {
    await db.insertInto('student_name_tokens').values(slice).execute();
  }
}
