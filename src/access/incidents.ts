import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import { chunks, sqlTrue } from '../db/sql.ts';
import type { DB, Sensitivity } from '../db/tables.ts';
import type { Clearance } from './clearances.ts';
import { can } from './decide.ts';
import { heldAt } from './history.ts';
import type { Principal } from './principal.ts';
import {
  holdsClearance,
  holdsSomeRole,
  type Reader,
  type ReaderRef,
  seesStudent,
  userOf,
} from './readers.ts';
import { type AccessTime, accessPaths, reachingUserIds, userLive } from './visibility.ts';

/**
 * Who reads an incident (spec section 4), in one place. A user reads incident I when no denial
 * applies and one way in holds:
 *  - ways in: they reported I; I is assigned to them or to a group they belong to; or they see
 *    one of I's children and hold the clearance I's sensitivity requires (none for standard);
 *  - denials, which win: they are on I's exclusion list; I is an allegation about them; they are
 *    blocked from an involved child and see none of the others; I is child-protection or an
 *    allegation and their session has not passed the two-factor step-up where the school asks.
 * Every list, count, search, export, chronology, read, revision, action, document, alert, audit
 * row and widening preview asks `incidentReadable`; nothing else decides who reads a record.
 */

/** The clearance each sensitivity requires on the children's path. */
export const clearanceFor: Record<Sensitivity, Clearance | null> = {
  standard: null,
  child_protection: 'child_protection',
  allegation: 'allegations',
};

/** Sensitivities ranked for "lowering": an allegation and a child-protection record are both above standard. */
const sensitive = (s: Sensitivity) => s !== 'standard';

// biome-ignore lint/suspicious/noExplicitAny: the policy is used inside queries over incidents, revisions and users
type AnyBuilder = ExpressionBuilder<any, any>;
// biome-ignore lint/suspicious/noExplicitAny: a correlated subquery selecting `student_id`
type StudentIdQuery = SelectQueryBuilder<any, any, { student_id: string }>;

/**
 * The record as the policy sees it. The incident as it stands now (`incidents as i`), or one of
 * its earlier revisions (`incident_revisions as r` joined to its incident `i`): a revision is
 * read as a record with that revision's school, sensitivity, allegation subject and children,
 * and the incident's own reporter, assignees and exclusions.
 */
export interface RecordShape {
  school: Expression<string>;
  sensitivity: Expression<string>;
  subject: Expression<string | null>;
  involved: (db: Kysely<DB>) => StudentIdQuery;
}

export const currentRecord: RecordShape = {
  school: sql.ref<string>('i.school_id'),
  sensitivity: sql.ref<string>('i.sensitivity'),
  subject: sql.ref<string | null>('i.subject_user_id'),
  involved: (db) =>
    db
      .selectFrom('incident_students as is')
      .select('is.student_id as student_id')
      .where('is.incident_id', '=', sql.ref<string>('i.id')),
};

export const revisionRecord: RecordShape = {
  school: sql.ref<string>('r.school_id'),
  sensitivity: sql.ref<string>('r.sensitivity'),
  subject: sql.ref<string | null>('r.subject_user_id'),
  involved: (db) =>
    db
      .selectFrom('incident_revision_students as rs')
      .select('rs.student_id as student_id')
      .where('rs.incident_id', '=', sql.ref<string>('r.incident_id'))
      .where('rs.revision', '=', sql.ref<number>('r.revision')),
};

/** The record's children that the reader sees. */
function visibleInvolved(db: Kysely<DB>, t: AccessTime, who: ReaderRef, shape: RecordShape) {
  return db
    .selectFrom('students as s')
    .select('s.id')
    .where('s.id', 'in', shape.involved(db))
    .where((eb) => seesStudent(db, eb, t, who));
}

/** Sensitive records need a session that passed TOTP where the school asks (users of a query: assumed). */
function stepUpAllows(eb: AnyBuilder, who: ReaderRef, shape: RecordShape): Expression<SqlBool> {
  const schools = who.kind === 'caller' ? who.reader.sensitiveSchools : 'all';
  const open =
    schools === 'all'
      ? sql<SqlBool>`1 = 1`
      : schools.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb(shape.school, 'in', [...schools]);
  return eb.or([eb(shape.sensitivity, '=', 'standard'), open]);
}

/**
 * The records the caller is kept from only by a two-factor step-up their session has not passed
 * (`stepUp: 'actual'`): the step-up is the one part of the policy a session changes, so "readable
 * after a step-up but not now" is `incidentReadable` with the step-up assumed, and this. Lists and
 * counts say how many (`stepUpNeeded`) rather than leave them out silently.
 */
export function heldBackByStepUp(
  eb: AnyBuilder,
  actual: Reader,
  shape: RecordShape = currentRecord,
): Expression<SqlBool> {
  return eb.not(stepUpAllows(eb, { kind: 'caller', reader: actual }, shape));
}

/** The reader holds the clearance the record's sensitivity requires on the children's path. */
function clearedFor(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  who: ReaderRef,
  shape: RecordShape,
): Expression<SqlBool> {
  const options: Expression<SqlBool>[] = [eb(shape.sensitivity, '=', 'standard')];
  for (const s of ['child_protection', 'allegation'] as const) {
    const held = holdsClearance(db, eb, t, who, clearanceFor[s]!);
    if (held === false) continue;
    options.push(
      held === true ? eb(shape.sensitivity, '=', s) : eb.and([eb(shape.sensitivity, '=', s), held]),
    );
  }
  return eb.or(options);
}

const thisIncident = sql.ref<string>('i.id');

function assignedToUser(
  db: Kysely<DB>,
  user: string | Expression<string>,
  incident: string | Expression<string> = thisIncident,
) {
  return db
    .selectFrom('incident_assignees as a')
    .select('a.assignee_id')
    .where('a.incident_id', '=', incident)
    .where('a.assignee_type', '=', 'user')
    .where('a.assignee_id', '=', user);
}

function assignedToGroupOf(
  db: Kysely<DB>,
  t: AccessTime,
  user: string | Expression<string>,
  incident: string | Expression<string> = thisIncident,
) {
  return db
    .selectFrom('incident_assignees as a')
    .innerJoin('user_group_members as am', 'am.user_group_id', 'a.assignee_id')
    .where('a.incident_id', '=', incident)
    .where('a.assignee_type', '=', 'user_group')
    .where('am.user_id', '=', user)
    .where((eb) => heldAt(eb, 'am', t.asOf));
}

/** Denial: the user is on the incident's exclusion list. */
function excluded(db: Kysely<DB>, eb: AnyBuilder, user: string | Expression<string>) {
  return eb.exists(
    db
      .selectFrom('incident_exclusions as x')
      .select('x.user_id')
      .where('x.incident_id', '=', thisIncident)
      .where('x.user_id', '=', user),
  );
}

/** Denial: the record is an allegation about the user. */
function allegationAbout(eb: AnyBuilder, shape: RecordShape, user: string | Expression<string>) {
  return eb.and([eb(shape.sensitivity, '=', 'allegation'), eb(shape.subject, '=', user)]);
}

/**
 * The policy, as a condition on `incidents as i` (and, for a revision, `incident_revisions as r`).
 * For the caller it is the filter of every list; for `users as u` it answers who reads a record.
 */
export function incidentReadable(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  who: ReaderRef,
  shape: RecordShape = currentRecord,
  /** The audit log still shows who deleted a record to those who could read it. */
  deleted: 'exclude' | 'include' = 'exclude',
): Expression<SqlBool> {
  const user = userOf(who);
  return eb.and([
    eb('i.organisation_id', '=', t.organisationId),
    ...(deleted === 'exclude' ? [eb('i.deleted_at', 'is', null)] : []),
    stepUpAllows(eb, who, shape),
    // Denials, which win over every way in.
    eb.not(excluded(db, eb, user)),
    eb.not(allegationAbout(eb, shape, user)),
    // Blocked from an involved child, and no involved child left that they see.
    eb.not(
      eb.and([
        eb.exists(
          db
            .selectFrom('blocks as b')
            .select('b.id')
            .where('b.student_id', 'in', shape.involved(db))
            .where('b.user_id', '=', user)
            .where((eb2) => heldAt(eb2, 'b', t.asOf)),
        ),
        eb.not(eb.exists(visibleInvolved(db, t, who, shape))),
      ]),
    ),
    // The ways in.
    eb.or([
      eb('i.reporter_id', '=', user),
      eb.exists(assignedToUser(db, user)),
      eb.exists(assignedToGroupOf(db, t, user).select('a.assignee_id')),
      eb.and([clearedFor(db, eb, t, who, shape), eb.exists(visibleInvolved(db, t, who, shape))]),
    ]),
  ]);
}

/** Which way in let the reader read a record: what the access log records with each read. */
export type WayIn =
  | { kind: 'reporter' }
  | { kind: 'assignee' }
  | { kind: 'assigned_group'; userGroupId: string; name: string }
  | {
      kind: 'student';
      studentId: string;
      via: {
        kind: string;
        link_id: string;
        user_group_id: string | null;
        student_group_id: string | null;
      } | null;
    };

/**
 * The record if the caller reads it, with the way in that let them: the read and its reason come
 * from this one query, so the access log can never name a path the decision did not take.
 */
export async function readIncident(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  incidentId: string,
): Promise<{ id: string; way: WayIn } | undefined> {
  const who: ReaderRef = { kind: 'caller', reader };
  const user = reader.userId;
  const decided = db
    .selectFrom('incidents as i')
    .where('i.id', '=', incidentId)
    .where((eb) => incidentReadable(db, eb, t, who))
    .select((eb) => [
      'i.id',
      eb('i.reporter_id', '=', user).$castTo<SqlBool>().as('by_reporter'),
      eb.exists(assignedToUser(db, user)).$castTo<SqlBool>().as('by_assignee'),
      assignedToGroupOf(db, t, user)
        .innerJoin('user_groups as ag', 'ag.id', 'a.assignee_id')
        .select('ag.id')
        .orderBy('ag.name')
        .limit(1)
        .as('group_id'),
      eb
        .case()
        .when(clearedFor(db, eb, t, who, currentRecord))
        .then(
          visibleInvolved(db, t, who, currentRecord)
            .clearSelect()
            .select('s.id')
            .orderBy('s.family_key')
            .orderBy('s.id')
            .limit(1),
        )
        .else(null)
        .end()
        .as('student_id'),
    ]);
  // The path to the child, read in the same statement from the decided row: its link, from
  // which the rest of the path (the group, the student group, the kind) follows.
  const link = db
    .selectFrom(accessPaths(db, t, { user, student: sql.ref<string>('d.student_id') }).as('p'))
    .select('p.link_id')
    .orderBy('p.kind')
    .orderBy('p.link_id')
    .limit(1);
  const row = await db
    .selectFrom(decided.as('d'))
    .leftJoin('user_groups as dg', 'dg.id', 'd.group_id')
    .leftJoin('student_links as dl', (j) => j.on('dl.id', '=', link))
    .selectAll('d')
    .select([
      'dg.name as group_name',
      'dl.id as via_link_id',
      'dl.user_id as via_user_id',
      'dl.user_group_id as via_user_group_id',
      'dl.student_group_id as via_student_group_id',
    ])
    .executeTakeFirst();
  if (!row) return undefined;
  let way: WayIn;
  if (sqlTrue(row.by_reporter)) way = { kind: 'reporter' };
  else if (sqlTrue(row.by_assignee)) way = { kind: 'assignee' };
  else if (row.group_id)
    way = { kind: 'assigned_group', userGroupId: row.group_id, name: row.group_name ?? '' };
  else
    way = {
      kind: 'student',
      studentId: row.student_id as string,
      via: row.via_link_id
        ? {
            kind: row.via_user_id
              ? 'user_to_student'
              : row.via_student_group_id
                ? 'group_to_student_group'
                : 'group_to_student',
            link_id: row.via_link_id,
            user_group_id: row.via_user_group_id,
            student_group_id: row.via_student_group_id,
          }
        : null,
    };
  return { id: row.id, way };
}

/** The revisions of an incident that the caller may read, each as a record of its own shape. */
export async function readableRevisions(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  incidentId: string,
  deleted: 'exclude' | 'include' = 'exclude',
): Promise<Set<number>> {
  const rows = await db
    .selectFrom('incident_revisions as r')
    .innerJoin('incidents as i', 'i.id', 'r.incident_id')
    .select('r.revision')
    .where('r.incident_id', '=', incidentId)
    .where((eb) => incidentReadable(db, eb, t, { kind: 'caller', reader }, revisionRecord, deleted))
    .execute();
  return new Set(rows.map((r) => Number(r.revision)));
}

/**
 * Everyone who might read these records, by the ways in seen from the users' side: reporters,
 * assignees, members of assigned groups, and whoever a path reaches an involved child from. A
 * superset: `incidentReaders` then asks the policy of each. At most `limit` users (by id).
 */
export async function possibleReaders(
  db: Kysely<DB>,
  t: AccessTime,
  incidentIds: readonly string[],
  limit: number,
): Promise<{ userIds: string[]; partial: boolean }> {
  if (incidentIds.length === 0) return { userIds: [], partial: false };
  const ids = [...incidentIds];
  const involved = (
    await db
      .selectFrom('incident_students')
      .select('student_id')
      .where('incident_id', 'in', ids)
      .execute()
  ).map((r) => r.student_id);
  const found = new Set<string>();
  const add = (rows: { user_id: string | null }[]) => {
    for (const r of rows) if (r.user_id) found.add(r.user_id);
  };
  add(
    await db
      .selectFrom('incidents')
      .select('reporter_id as user_id')
      .where('id', 'in', ids)
      .unionAll(
        db
          .selectFrom('incident_assignees')
          .select('assignee_id as user_id')
          .where('incident_id', 'in', ids)
          .where('assignee_type', '=', 'user'),
      )
      .unionAll(
        db
          .selectFrom('incident_assignees as a')
          .innerJoin('user_group_members as m', 'm.user_group_id', 'a.assignee_id')
          .select('m.user_id as user_id')
          .where('a.incident_id', 'in', ids)
          .where('a.assignee_type', '=', 'user_group')
          .where((eb) => heldAt(eb, 'm', t.asOf)),
      )
      .execute(),
  );
  for (const studentId of new Set(involved)) {
    if (found.size > limit) break;
    add(
      (await reachingUserIds(db, t, studentId)
        .distinct()
        .limit(limit + 1)
        .execute()) as { user_id: string }[],
    );
  }
  const sorted = [...found].sort();
  return { userIds: sorted.slice(0, limit), partial: sorted.length > limit };
}

/**
 * The policy asked of each user of a query over `users as u` and `incidents as i`: a live user,
 * holding a role, who reads the record (a step-up assumed: it belongs to a session, not a person).
 */
export function userReads(
  db: Kysely<DB>,
  eb: AnyBuilder,
  t: AccessTime,
  user: Expression<string> = sql.ref<string>('u.id'),
): Expression<SqlBool> {
  return eb.and([
    userLive(eb as never, t.asOf),
    holdsSomeRole(db, eb, t, user),
    incidentReadable(db, eb, t, { kind: 'users', user }),
  ]);
}

/**
 * Which of these users read which of these records, by the very policy that filters every
 * caller's lists, asked from the users' side (`userReads`). Live users holding a role only.
 */
export async function incidentReaders(
  db: Kysely<DB>,
  t: AccessTime,
  incidentIds: readonly string[],
  userIds: readonly string[],
): Promise<{ user_id: string; incident_id: string }[]> {
  if (incidentIds.length === 0 || userIds.length === 0) return [];
  const out: { user_id: string; incident_id: string }[] = [];
  const user = sql.ref<string>('u.id');
  for (const users of chunks([...new Set(userIds)], 200)) {
    for (const records of chunks([...new Set(incidentIds)], 200)) {
      const rows = await db
        .selectFrom(['incidents as i', 'users as u'])
        .select(['u.id as user_id', 'i.id as incident_id'])
        .where('i.id', 'in', records)
        .where('u.id', 'in', users)
        .where('u.organisation_id', '=', t.organisationId)
        .where((eb) => userReads(db, eb, t, user))
        .execute();
      out.push(...rows);
    }
  }
  return out;
}

/**
 * What the caller may do with a record they read; the web app hides what would be refused.
 * `moveTo`: the other schools (of `schools`, the organisation's) the record may be moved to, since
 * a move needs `incidents.reclassify` at both ends.
 */
export function incidentAbilities(
  principal: Principal,
  record: { school_id: string },
  schools: readonly string[] = [],
) {
  const school = { type: 'school' as const, id: record.school_id };
  const reclassify = can(principal, 'incidents.reclassify', school);
  return {
    update: can(principal, 'incidents.update', school),
    reclassify,
    moveTo: reclassify
      ? schools.filter(
          (id) =>
            id !== record.school_id &&
            can(principal, 'incidents.reclassify', { type: 'school', id }),
        )
      : [],
    delete: can(principal, 'incidents.delete', school),
    manageExclusions: can(principal, 'incidents.exclusions.manage', school),
    assign: can(principal, 'incidents.assign', school),
    addActions: can(principal, 'actions.create', school),
    manageDocuments: can(principal, 'documents.manage', school),
  };
}

export type SafeguardingDecision =
  | 'lowers_sensitivity'
  | 'removes_child'
  | 'moves_school'
  | 'closes_sensitive_record'
  | 'changes_allegation_subject';

/**
 * The parts of an edit that decide who reads a record (spec section 4, "sensitivity is a
 * safeguarding decision"): each needs `incidents.reclassify` (Deputy DSL) at the record's school,
 * and at the school it moves to. Raising the sensitivity and correcting the account stay open to
 * anyone who may update the record; so does adding a child the editor can see, which opens the
 * record to that child's readers (the web app previews it like the rest).
 */
export function safeguardingDecisions(
  before: {
    sensitivity: Sensitivity;
    schoolId: string;
    status: string;
    subjectUserId: string | null;
    studentIds: readonly string[];
  },
  after: {
    sensitivity: Sensitivity;
    schoolId: string;
    status: string;
    subjectUserId: string | null;
    studentIds: readonly string[];
  },
): SafeguardingDecision[] {
  const decisions: SafeguardingDecision[] = [];
  if (sensitive(before.sensitivity) && after.sensitivity !== before.sensitivity)
    decisions.push('lowers_sensitivity');
  const kept = new Set(after.studentIds);
  if (before.studentIds.some((id) => !kept.has(id))) decisions.push('removes_child');
  if (after.schoolId !== before.schoolId) decisions.push('moves_school');
  if (
    after.status === 'closed' &&
    before.status !== 'closed' &&
    (sensitive(before.sensitivity) || sensitive(after.sensitivity))
  )
    decisions.push('closes_sensitive_record');
  if (
    before.sensitivity === 'allegation' &&
    after.sensitivity === 'allegation' &&
    after.subjectUserId !== before.subjectUserId
  )
    decisions.push('changes_allegation_subject');
  return decisions;
}

/** One way in that holds for a user, or one denial that applies, in an incident's explanation. */
export interface IncidentFacts {
  allowed: boolean;
  live: boolean;
  holdsRole: boolean;
  reporter: boolean;
  assignee: boolean;
  assignedGroups: { id: string; name: string }[];
  cleared: boolean;
  /** The involved children the user sees (the student way in, when `cleared`). */
  seenChildren: string[];
  blockedChildren: string[];
  excluded: boolean;
  allegationSubject: boolean;
  sensitivity: Sensitivity;
}

/**
 * Why a user may or may not read an incident (`GET /access/explain?incidentId=`): each part of
 * `incidentReadable` asked on its own, from the users' side, in one statement with the decision
 * itself, so the explanation cannot name a reason the decision did not use. A step-up belongs to
 * a session and is not part of it.
 */
export async function explainIncident(
  db: Kysely<DB>,
  t: AccessTime,
  userId: string,
  incidentId: string,
): Promise<IncidentFacts | undefined> {
  const user = sql.ref<string>('u.id');
  const who: ReaderRef = { kind: 'users', user };
  const bool = (e: Expression<SqlBool>) => sql<boolean>`case when ${e} then 1 else 0 end`;
  const row = await db
    .selectFrom(['incidents as i', 'users as u'])
    .where('i.id', '=', incidentId)
    .where('i.organisation_id', '=', t.organisationId)
    .where('i.deleted_at', 'is', null)
    .where('u.id', '=', userId)
    .where('u.organisation_id', '=', t.organisationId)
    .select((eb) => [
      'i.sensitivity',
      bool(
        eb.and([
          userLive(eb as never, t.asOf),
          holdsSomeRole(db, eb, t, user),
          incidentReadable(db, eb, t, who),
        ]),
      ).as('allowed'),
      bool(userLive(eb as never, t.asOf)).as('live'),
      bool(holdsSomeRole(db, eb, t, user)).as('holds_role'),
      bool(eb('i.reporter_id', '=', user)).as('reporter'),
      bool(eb.exists(assignedToUser(db, user))).as('assignee'),
      bool(clearedFor(db, eb, t, who, currentRecord)).as('cleared'),
      bool(excluded(db, eb, user)).as('excluded'),
      bool(allegationAbout(eb, currentRecord, user)).as('subject'),
    ])
    .executeTakeFirst();
  if (!row) return undefined;
  const [groups, seen, blocked] = await Promise.all([
    assignedToGroupOf(db, t, userId, incidentId)
      .innerJoin('user_groups as ag', 'ag.id', 'a.assignee_id')
      .select(['ag.id', 'ag.name'])
      .orderBy('ag.name')
      .execute(),
    db
      .selectFrom('incidents as i')
      .where('i.id', '=', incidentId)
      .innerJoin('incident_students as is', 'is.incident_id', 'i.id')
      .innerJoin('students as s', 's.id', 'is.student_id')
      .innerJoin('users as u', (j) => j.on('u.id', '=', userId))
      .select('s.id')
      .where((eb) => seesStudent(db, eb as never, t, who))
      .orderBy('s.id')
      .execute(),
    db
      .selectFrom('incident_students as is')
      .innerJoin('blocks as b', 'b.student_id', 'is.student_id')
      .select('is.student_id')
      .where('is.incident_id', '=', incidentId)
      .where('b.user_id', '=', userId)
      .where((eb) => heldAt(eb, 'b', t.asOf))
      .execute(),
  ]);
  return {
    allowed: sqlTrue(row.allowed),
    live: sqlTrue(row.live),
    holdsRole: sqlTrue(row.holds_role),
    reporter: sqlTrue(row.reporter),
    assignee: sqlTrue(row.assignee),
    assignedGroups: groups.map((g) => ({ id: g.id, name: g.name })),
    cleared: sqlTrue(row.cleared),
    seenChildren: seen.map((s) => s.id),
    blockedChildren: [...new Set(blocked.map((b) => b.student_id))],
    excluded: sqlTrue(row.excluded),
    allegationSubject: sqlTrue(row.subject),
    sensitivity: row.sensitivity as Sensitivity,
  };
}
