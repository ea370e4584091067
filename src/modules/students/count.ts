import {
  type CompiledQuery,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  PostgresAdapter,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import { type AccessTime, heldBlocks, userLive, type Viewer } from '../../access/visibility.ts';
import type { DB } from '../../db/tables.ts';
import { mentionsOnRoll, type Rule } from '../student-groups/rules.ts';
import { searchTokens } from './names.ts';
import {
  type DefinedReach,
  definedReach,
  inDefinedGroup,
  matchesAnyRule,
  otherPaths,
  startsAWord,
} from './reach.ts';
import {
  applyStudentFilter,
  narrowingConditions,
  type StudentFilter,
  tokenRange,
  visibleStudents,
} from './repository.ts';

type StudentsEb = ExpressionBuilder<DB & { s: DB['students'] }, 's'>;

/**
 * Reading one child by id and testing it costs about as much as walking this many children in
 * `students_for_counts` and testing each (measured on the benchmark's trust: some 2 against 0.1
 * microseconds on SQLite, 6 against 0.25 on PostgreSQL). A search whose word starts fewer words
 * than the walk would read over this starts from its matches.
 */
const LOOKUP_PER_WALKED = 25;

/**
 * Count statements as compiled, by everything their text and values come from (read afresh on
 * each request, so none can be out of date): a wide caller's statement is large, and building it
 * cost as much as running it. Not named on PostgreSQL, as `runPrepared`'s are: the text is one
 * caller's.
 */
const compiled = new Map<string, CompiledQuery>();
const COMPILED_KEPT = 500;

function engineOf(db: Kysely<DB>): 'postgres' | 'sqlite' {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * How the children of the groups read as definitions are counted: by an index range per school
 * and roll when those groups are whole schools (`cells`), by walking the schools and testing
 * each child against the rules (`walk`), or from a search's matches one by one (`matches`).
 */
export type CountWay = 'cells' | 'walk' | 'matches';

/**
 * How many students the viewer can see, with the same filters as the list. Now, the children of
 * the automatic groups the caller is linked to are counted from the groups' definitions
 * (`reach.ts`) rather than by testing each child's paths; as of a past time, through the one
 * visibility filter.
 */
export async function countVisibleStudents(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  filter: StudentFilter,
  /** Overrides the choice (tests use it to hold both ways to the same answer). */
  way?: CountWay,
): Promise<number> {
  if (t.asOf !== undefined) {
    const row = await applyStudentFilter(
      visibleStudents(db, t, viewer).select((eb) => eb.fn.countAll<number>().as('n')),
      filter,
    ).executeTakeFirstOrThrow();
    return Number(row.n);
  }
  const reach = await definedReach(db, t, viewer);
  const words = searchTokens(filter.q);
  const rarest = [...words].sort((a, b) => b.length - a.length)[0];
  let chosen = way;
  if (chosen === undefined) {
    // Starting from few matches beats walking rules, or whole schools for a search their words'
    // index cannot count alone.
    const walksRules = splitWholeSchools(reach, true).rest;
    const rangesOnly =
      walksRules.organisationWide.size === 0 &&
      walksRules.bySchool.size === 0 &&
      tokenCellsFit(filter, words);
    chosen =
      rarest !== undefined && !rangesOnly && (await fewMatches(db, t, rarest, reach.members))
        ? 'matches'
        : 'cells';
  }
  // Everything the statement's text and values come from: the same caller asking again reuses it.
  const key = JSON.stringify([
    engineOf(db),
    t.organisationId,
    viewer,
    filter,
    chosen,
    reach.definedGroupIds,
    [...reach.organisationWide.keys()],
    [...reach.bySchool].map(([school, rules]) => [school, [...rules.keys()]]),
  ]);
  let query = compiled.get(key);
  if (!query) {
    const count =
      chosen === 'matches' && rarest !== undefined
        ? countFromMatches(db, t, viewer, reach, filter, rarest)
        : countByWalking(db, t, viewer, reach, filter, chosen === 'cells');
    query = db
      .selectNoFrom((eb) =>
        // The viewer is live too, as in `studentVisibleTo`.
        sql<number>`case when ${eb.exists(
          db
            .selectFrom('users as u')
            .select('u.id')
            .where('u.id', '=', viewer.userId)
            .where((eb2) => userLive(eb2, undefined)),
        )} then ${count} else 0 end`.as('n'),
      )
      .compile();
    if (compiled.size >= COMPILED_KEPT) compiled.clear();
    compiled.set(key, query);
  }
  const [row] = (await db.executeQuery<{ n: number | string }>(query)).rows;
  return Number(row!.n);
}

/** Whether the word starts fewer words than the walk would read, over `LOOKUP_PER_WALKED`. */
async function fewMatches(
  db: Kysely<DB>,
  t: AccessTime,
  word: string,
  walked: number,
): Promise<boolean> {
  const cap = Math.floor(walked / LOOKUP_PER_WALKED);
  const [from, to] = tokenRange(word);
  const row = await db
    .selectFrom(
      db
        .selectFrom('student_name_tokens as nt')
        .select('nt.student_id')
        .where('nt.organisation_id', '=', t.organisationId)
        .where('nt.token', '>=', from)
        .where('nt.token', '<', to)
        .limit(cap + 1)
        .as('capped'),
    )
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) <= cap;
}

/** The conditions every counted child meets: live, in the viewer's schools, searched and narrowed. */
function seeable(db: Kysely<DB>, t: AccessTime, viewer: Viewer, filter: StudentFilter) {
  const words = searchTokens(filter.q);
  return {
    live: (eb: StudentsEb) => [
      eb('s.organisation_id', '=', t.organisationId),
      eb('s.deleted_at', 'is', null),
    ],
    inViewersSchools: (eb: StudentsEb) =>
      viewer.schools === 'all'
        ? []
        : [
            viewer.schools.length === 0
              ? sql<SqlBool>`1 = 0`
              : eb('s.school_id', 'in', [...viewer.schools]),
          ],
    // Searched first: a word is a cheaper test than most rules, and often a narrower one.
    searched: (eb: StudentsEb, except?: string) => [
      ...words.filter((w) => w !== except).map((word) => startsAWord(db, word)),
      ...narrowingConditions(eb, filter),
    ],
  };
}

/** What `howManyOf` asks of each id: `seen(where)` (the id is a student meeting `where`). */
interface IdTest {
  // biome-ignore lint/suspicious/noExplicitAny: the builder of the outer query over the ids
  eb: ExpressionBuilder<any, any>;
  id: Expression<string>;
  seen: (where: (eb: StudentsEb) => Expression<SqlBool>[]) => Expression<SqlBool>;
}

/**
 * Children read one by one from a short list of ids, each by its primary key in a subquery of
 * its own: neither engine may then walk the viewer's schools and test each child against the
 * ids instead (SQLite prefers that once the viewer has a handful of schools, PostgreSQL hashes
 * the ids against every student). Sets the test needs (paths, blocks) are asked of the id
 * outside that subquery: PostgreSQL would otherwise price them once per id, and a price past
 * `jit_above_cost` has it compile the statement, at some 30 ms.
 */
function howManyOf(
  db: Kysely<DB>,
  ids: SelectQueryBuilder<DB, never, { student_id: string }>,
  test: (t: IdTest) => Expression<SqlBool>,
) {
  return db
    .selectFrom(ids.as('r'))
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) =>
      test({
        eb,
        id: sql.ref<string>('r.student_id'),
        seen: (where) =>
          sql<SqlBool>`${eb
            .selectFrom('students as s')
            .select((eb2) => eb2.fn.countAll<number>().as('n'))
            .whereRef('s.id', '=', 'r.student_id')
            .where((eb2) => eb2.and(where(eb2 as unknown as StudentsEb)))} > 0`,
      }),
    );
}

/** On roll (1) or not (0): the schools where the caller's groups hold every such child. */
type WholeSchools = Map<0 | 1, 'everywhere' | string[]>;

/** Rules by where they hold, as in `DefinedReach`. */
type Rules = Pick<DefinedReach, 'organisationWide' | 'bySchool'>;

/**
 * The groups read as definitions, split: those holding every child of their school (or
 * organisation) on roll, or every child not on roll (`all` groups, and rules asking that alone,
 * as a school's "Former students"), counted by index ranges of school and roll; and the other
 * rules, less those whose every child such a group already holds (a year group beside its
 * school's "All students"). `cells: false` leaves every rule to be walked.
 */
function splitWholeSchools(
  reach: DefinedReach,
  cells: boolean,
): { whole: WholeSchools; rest: Rules } {
  const rollOf = (rule: Rule | null): 0 | 1 | null => {
    if (rule === null) return 1;
    if ('field' in rule && rule.field === 'onRoll' && rule.op === 'eq') return rule.value ? 1 : 0;
    return null;
  };
  const whole: WholeSchools = new Map();
  if (cells) {
    for (const rule of reach.organisationWide.values()) {
      const roll = rollOf(rule);
      if (roll !== null) whole.set(roll, 'everywhere');
    }
    for (const [school, rules] of reach.bySchool) {
      for (const rule of rules.values()) {
        const roll = rollOf(rule);
        if (roll === null) continue;
        const schools = whole.get(roll) ?? [];
        if (schools !== 'everywhere') whole.set(roll, [...schools, school]);
      }
    }
  }
  const holds = (roll: 0 | 1, school: string | null) => {
    const where = whole.get(roll);
    return where === 'everywhere' || (school !== null && (where?.includes(school) ?? false));
  };
  // A rule not speaking of the roll asks for it (`matchesRule`); one that does may match either.
  const covered = (rule: Rule | null, school: string | null) =>
    rule !== null && mentionsOnRoll(rule) ? holds(0, school) && holds(1, school) : holds(1, school);
  const rest: Rules = { organisationWide: new Map(), bySchool: new Map() };
  for (const [key, rule] of reach.organisationWide) {
    if (!covered(rule, null)) rest.organisationWide.set(key, rule);
  }
  for (const [school, rules] of reach.bySchool) {
    for (const [key, rule] of rules) {
      if (!covered(rule, school))
        rest.bySchool.set(school, (rest.bySchool.get(school) ?? new Map()).set(key, rule));
    }
  }
  return { whole, rest };
}

/** A search the words' index can count alone: one word, narrowed by school or roll at most. */
function tokenCellsFit(filter: StudentFilter, words: readonly string[]): boolean {
  return (
    words.length === 1 && filter.yearGroup === undefined && filter.studentGroupId === undefined
  );
}

/**
 * The count in three parts, each walking an index alone or reading few rows:
 *
 *  D  children of the groups read as definitions (live, in the viewer's schools, searched and
 *     narrowed). Whole schools: one range of `students_by_school_roll` per school and roll, or
 *     of `student_name_tokens_for_counts` for a one-word search. Other rules: one walk of
 *     `students_for_counts` over the viewer's schools for the organisation-wide ones and one
 *     over each school for that school's own, testing each child's columns against the rules
 *     and leaving out what a whole school or an organisation-wide rule already counted. No
 *     child's paths or blocks are looked up.
 *  M  children reached any other way (members of the other groups, children linked to a group
 *     or to the caller), read one by one, that D did not count.
 *  B  blocked children that D or M counted, taken off again.
 *
 * Nothing but the viewer's paths, blocks and schools decides, as in `studentVisibleTo`; the
 * property test holds this count to the list and to the reference model.
 */
function countByWalking(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  reach: DefinedReach,
  filter: StudentFilter,
  cells: boolean,
) {
  const { live, inViewersSchools, searched } = seeable(db, t, viewer, filter);
  const user = viewer.userId;
  const howMany = (where: (eb: StudentsEb) => Expression<SqlBool>[]) =>
    db
      .selectFrom('students as s')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => eb.and(where(eb)));
  const reachedOtherwise = db
    .selectFrom(otherPaths(db, t, { user }, reach).as('p'))
    .select('p.student_id');
  const { whole, rest } = splitWholeSchools(reach, cells);
  const reachedAndSeen = seenAndReached(reach, reachedOtherwise);
  /** The student is in one of the whole schools (on roll, or not) counted by ranges. */
  const inWholeSchool = (eb: StudentsEb) =>
    whole.size === 0
      ? sql<SqlBool>`1 = 0`
      : eb.or(
          [...whole].map(([roll, where]) =>
            where === 'everywhere'
              ? eb('s.on_roll', '=', roll)
              : eb.and([eb('s.on_roll', '=', roll), eb('s.school_id', 'in', where)]),
          ),
        );
  const parts = [
    ...countWholeSchools(db, t, viewer, filter, whole),
    ...(rest.organisationWide.size > 0
      ? [
          howMany((eb) => [
            ...live(eb),
            ...inViewersSchools(eb),
            ...searched(eb),
            matchesAnyRule(eb, rest.organisationWide),
            eb.not(inWholeSchool(eb)),
          ]),
        ]
      : []),
    // The school is one of the viewer's: no need to ask again.
    ...[...rest.bySchool].map(([school, rules]) =>
      howMany((eb) => [
        ...live(eb),
        eb('s.school_id', '=', school),
        ...searched(eb),
        matchesAnyRule(eb, rules),
        eb.not(matchesAnyRule(eb, rest.organisationWide)),
        eb.not(inWholeSchool(eb)),
      ]),
    ),
    howManyOf(db, reachedOtherwise.distinct(), ({ seen }) =>
      seen((eb) => [
        ...live(eb),
        ...inViewersSchools(eb),
        ...searched(eb),
        eb.not(inDefinedGroup(eb, reach)),
      ]),
    ),
  ];
  const blocked = howManyOf(db, heldBlocks(db, t, { user }).select('b.student_id'), (x) =>
    reachedAndSeen(x, (eb) => [...live(eb), ...inViewersSchools(eb), ...searched(eb)]),
  );
  return sql<number>`${sql.join(parts, sql` + `)} - ${blocked}`;
}

/**
 * D for whole schools: the live children of each (school, roll) the groups hold, each range
 * counted from an index alone. A one-word search counts the words in its prefix's range whose
 * student's word before them falls outside it: each child once (`prior_token`).
 */
function countWholeSchools(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  filter: StudentFilter,
  cells: WholeSchools,
) {
  const { live, searched } = seeable(db, t, viewer, filter);
  const words = searchTokens(filter.q);
  const byWords = words.length > 0 && tokenCellsFit(filter, words);
  // The organisation's schools, to seek each one's range (the viewer's, when listed).
  const schoolsOf = (where: 'everywhere' | string[]) =>
    where !== 'everywhere'
      ? where
      : viewer.schools !== 'all'
        ? [...viewer.schools]
        : db.selectFrom('schools').select('id').where('organisation_id', '=', t.organisationId);
  return [...cells].flatMap(([roll, where]) => {
    const schools = schoolsOf(where);
    if (Array.isArray(schools) && schools.length === 0) return [];
    if (!byWords) {
      // Every school of the organisation is the organisation's range: no school to name.
      const everyone = where === 'everywhere' && viewer.schools === 'all';
      return db
        .selectFrom('students as s')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where((eb) =>
          eb.and([
            ...live(eb),
            ...(everyone ? [] : [eb('s.school_id', 'in', schools)]),
            eb('s.on_roll', '=', roll),
            ...searched(eb),
          ]),
        );
    }
    const [from, to] = tokenRange(words[0]!);
    return db
      .selectFrom('student_name_tokens as nt')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('nt.organisation_id', '=', t.organisationId)
      .where('nt.deleted_at', 'is', null)
      .where('nt.school_id', 'in', schools)
      .where('nt.on_roll', '=', roll)
      .where('nt.token', '>=', from)
      .where('nt.token', '<', to)
      .where((eb) => eb.or([eb('nt.prior_token', 'is', null), eb('nt.prior_token', '<', from)]))
      .$if(filter.schoolId !== undefined, (q) => q.where('nt.school_id', '=', filter.schoolId!))
      .$if(filter.onRoll !== undefined, (q) => q.where('nt.on_roll', '=', filter.onRoll ? 1 : 0));
  });
}

/**
 * The count of a search whose word starts few words: its matches (each child once), read one by
 * one and tested as the list tests them, the groups read as definitions.
 */
function countFromMatches(
  db: Kysely<DB>,
  t: AccessTime,
  viewer: Viewer,
  reach: DefinedReach,
  filter: StudentFilter,
  word: string,
) {
  const { live, inViewersSchools, searched } = seeable(db, t, viewer, filter);
  const user = viewer.userId;
  const [from, to] = tokenRange(word);
  const matches = db
    .selectFrom('student_name_tokens as nt')
    .select('nt.student_id')
    .distinct()
    .where('nt.organisation_id', '=', t.organisationId)
    .where('nt.token', '>=', from)
    .where('nt.token', '<', to);
  const reachedAndSeen = seenAndReached(
    reach,
    db.selectFrom(otherPaths(db, t, { user }, reach).as('p')).select('p.student_id'),
  );
  return howManyOf(db, matches, (x) =>
    x.eb.and([
      // The word itself is the match.
      reachedAndSeen(x, (eb) => [...live(eb), ...inViewersSchools(eb), ...searched(eb, word)]),
      x.eb(x.id, 'not in', heldBlocks(db, t, { user }).select('b.student_id')),
    ]),
  );
}

/**
 * The id is a student meeting `where` whom the caller reaches: a member of a group read as a
 * definition (asked of the student's columns), or reached any other way (asked of the id).
 */
function seenAndReached(
  reach: DefinedReach,
  reachedOtherwise: SelectQueryBuilder<DB, never, { student_id: string }>,
) {
  return ({ eb, id, seen }: IdTest, where: (eb: StudentsEb) => Expression<SqlBool>[]) =>
    eb.or([
      seen((eb2) => [...where(eb2), inDefinedGroup(eb2, reach)]),
      eb.and([eb(id, 'in', reachedOtherwise), seen(where)]),
    ]);
}
