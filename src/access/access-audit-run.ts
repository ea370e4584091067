import { type Kysely, PostgresAdapter, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { notFound } from '../lib/errors.ts';
import type { Clearance } from './clearances.ts';
import { heldAt } from './history.ts';
import { loadSchoolGroupsBySchool } from './principal.ts';
import type { GrantableRole } from './roles.ts';
import type { SchoolGroupsBySchool, Scope, ScopeType } from './scopes.ts';
import { userLive } from './visibility.ts';

/**
 * What an Access Audit Report run loads once, before its first page of people: the scope's
 * schools, every live child as a bit of a dense index, each user group's reach as a bitset over
 * that index, the groups' grants, clearances and links, and the organisation's active Owners.
 * Per person, the report then only ORs the bitsets of their groups (spec section 3, counted).
 */

/** A set of children: one bit per child of the run's dense index. */
export type StudentSet = Uint32Array;

export function emptySet(words: number): StudentSet {
  return new Uint32Array(words);
}

export function setBit(set: StudentSet, index: number): void {
  set[index >>> 5]! |= 1 << (index & 31);
}

export function clearBit(set: StudentSet, index: number): void {
  set[index >>> 5]! &= ~(1 << (index & 31));
}

export function hasBit(set: StudentSet, index: number): boolean {
  return (set[index >>> 5]! & (1 << (index & 31))) !== 0;
}

export function orInto(target: StudentSet, source: StudentSet): void {
  for (let i = 0; i < target.length; i++) target[i]! |= source[i]!;
}

export function andInto(target: StudentSet, source: StudentSet): void {
  for (let i = 0; i < target.length; i++) target[i]! &= source[i]!;
}

export function popcount(set: StudentSet): number {
  let n = 0;
  for (let i = 0; i < set.length; i++) {
    let x = set[i]!;
    if (x === 0) continue;
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    x = (x + (x >>> 4)) & 0x0f0f0f0f;
    n += Math.imul(x, 0x01010101) >>> 24;
  }
  return n;
}

/**
 * `column in (ids)` as one bound parameter on either engine, however long the list. On
 * PostgreSQL a set-returning subquery, not `= any(array)`: the planner guesses 200 rows for it and
 * probes the index per id, where for `= any` of 10,000 ids it scans a million memberships.
 */
export function inIds(db: Kysely<DB>, column: string, ids: readonly string[]) {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    return sql<SqlBool>`${sql.ref(column)} in (select unnest(cast(${[...ids]} as text[])))`;
  }
  return sql<SqlBool>`${sql.ref(column)} in (select value from json_each(${JSON.stringify(ids)}))`;
}

export interface GroupGrant {
  grantId: string;
  role: GrantableRole;
  scope: Scope;
  reason: string | null;
}

export interface AuditGroup {
  id: string;
  name: string;
  home: Scope;
  grants: GroupGrant[];
  clearances: Clearance[];
  /** Student groups the group is linked to at T. */
  studentGroupIds: string[];
  /** Children (dense indexes) the group is linked to one by one at T. */
  linkedStudents: number[];
  /** Every live child a path through the group reaches at T; null: none. */
  reach: StudentSet | null;
}

export interface AuditStudentGroup {
  id: string;
  name: string;
  kind: string;
  schoolId: string | null;
}

export interface AuditRun {
  organisationId: string;
  asOf: string | undefined;
  /** The instant dormancy counts back from: asOf, or the run's now. */
  at: string;
  scope: Scope;
  /** The scope's schools at T; null for the organisation. */
  scopeSchools: ReadonlySet<string> | null;
  schoolGroupsBySchool: SchoolGroupsBySchool;
  scopeNames: Map<string, string>;
  /** Dense index of the organisation's children live at T. */
  studentIndex: Map<string, number>;
  studentSchool: string[];
  words: number;
  schoolSets: Map<string, StudentSet>;
  /** The children of the scope's schools; null for the organisation. */
  scopeSet: StudentSet | null;
  groups: Map<string, AuditGroup>;
  studentGroups: Map<string, AuditStudentGroup>;
  /** Users live at T holding Owner (directly or through a group). */
  activeOwners: ReadonlySet<string>;
  /** The organisation's memberships now (the groups' member counts): a size, not an answer. */
  currentMemberships: number;
}

/**
 * A group homed outside the report's scope (another school's, say), as a role's source or a
 * permission set's assignee: the role or set is the scope's business, the group is not, so
 * neither its id nor its name is in the row.
 */
export const withheldGroup: Readonly<{ id: string; name: string }> = Object.freeze({
  id: '',
  name: 'a user group outside this report',
});

/** A grant or a group's home at `scope` concerns the report: it covers the report's scope or lies inside it. */
export function scopeConcerns(run: AuditRun, scope: Scope): boolean {
  const target = run.scope;
  if (target.type === 'organisation' || scope.type === 'organisation') return true;
  if (scope.type === 'school') return run.scopeSchools!.has(scope.id);
  // A school group: the report's own, or one holding the report's school.
  if (target.type === 'school_group') return scope.id === target.id;
  return run.schoolGroupsBySchool.get(target.id)?.has(scope.id) ?? false;
}

export function scopeKey(scope: Scope): string {
  return `${scope.type}:${scope.id}`;
}

export async function loadAuditRun(
  db: Kysely<DB>,
  request: { organisationId: string; scope: Scope; asOf: string | undefined; now: string },
): Promise<AuditRun> {
  const { organisationId: org, asOf, scope } = request;
  const at = asOf ?? request.now;
  const [organisation, schools, schoolGroups, schoolGroupsBySchool] = await Promise.all([
    db.selectFrom('organisations').select(['id', 'name']).where('id', '=', org).executeTakeFirst(),
    db.selectFrom('schools').select(['id', 'name']).where('organisation_id', '=', org).execute(),
    db
      .selectFrom('school_groups')
      .select(['id', 'name'])
      .where('organisation_id', '=', org)
      .execute(),
    loadSchoolGroupsBySchool(db, org, asOf),
  ]);
  if (!organisation) throw notFound('Organisation');
  const scopeNames = new Map<string, string>([
    [scopeKey({ type: 'organisation', id: org }), organisation.name],
  ]);
  for (const s of schools) scopeNames.set(scopeKey({ type: 'school', id: s.id }), s.name);
  for (const g of schoolGroups)
    scopeNames.set(scopeKey({ type: 'school_group', id: g.id }), g.name);

  let scopeSchools: Set<string> | null = null;
  if (scope.type === 'organisation') {
    if (scope.id !== org) throw notFound('Organisation');
  } else {
    if (!scopeNames.has(scopeKey(scope)))
      throw notFound(scope.type === 'school' ? 'School' : 'School group');
    scopeSchools =
      scope.type === 'school'
        ? new Set([scope.id])
        : new Set(
            schools.filter((s) => schoolGroupsBySchool.get(s.id)?.has(scope.id)).map((s) => s.id),
          );
  }

  // Every child live at T, as a dense index.
  const students = await db
    .selectFrom('students as s')
    .select(['s.id', 's.school_id'])
    .where('s.organisation_id', '=', org)
    .$if(asOf === undefined, (q) => q.where('s.deleted_at', 'is', null))
    .$if(asOf !== undefined, (q) =>
      q
        .where('s.created_at', '<=', asOf!)
        .where((eb) => eb.or([eb('s.deleted_at', 'is', null), eb('s.deleted_at', '>', asOf!)])),
    )
    .execute();
  const studentIndex = new Map<string, number>();
  const studentSchool: string[] = [];
  const words = Math.max(1, Math.ceil(students.length / 32));
  const schoolSets = new Map<string, StudentSet>();
  // One string per school, not one per child (a hundred thousand copies of fifty ids).
  const schoolIds = new Map(schools.map((school) => [school.id, school.id]));
  for (const s of students) {
    const index = studentSchool.length;
    studentIndex.set(s.id, index);
    studentSchool.push(schoolIds.get(s.school_id) ?? s.school_id);
    let set = schoolSets.get(s.school_id);
    if (!set) {
      set = emptySet(words);
      schoolSets.set(s.school_id, set);
    }
    setBit(set, index);
  }
  let scopeSet: StudentSet | null = null;
  if (scopeSchools) {
    scopeSet = emptySet(words);
    for (const school of scopeSchools) {
      const set = schoolSets.get(school);
      if (set) orInto(scopeSet, set);
    }
  }

  const [groupRows, grantRows, clearanceRows, linkRows, studentGroupRows] = await Promise.all([
    db
      .selectFrom('user_groups')
      .select(['id', 'name', 'home_scope_type', 'home_scope_id', 'member_count'])
      .where('organisation_id', '=', org)
      .execute(),
    db
      .selectFrom('role_grants as g')
      .select(['g.id', 'g.user_group_id', 'g.role', 'g.scope_type', 'g.scope_id', 'g.reason'])
      .where('g.organisation_id', '=', org)
      .where('g.user_group_id', 'is not', null)
      .where((eb) => heldAt(eb, 'g', asOf))
      .orderBy('g.valid_from')
      .execute(),
    db
      .selectFrom('user_group_clearances as c')
      .select(['c.user_group_id', 'c.clearance'])
      .where('c.organisation_id', '=', org)
      .where((eb) => heldAt(eb, 'c', asOf))
      .orderBy('c.clearance')
      .execute(),
    db
      .selectFrom('student_links as l')
      .select(['l.user_group_id', 'l.student_group_id', 'l.student_id'])
      .where('l.organisation_id', '=', org)
      .where('l.user_group_id', 'is not', null)
      .where((eb) => heldAt(eb, 'l', asOf))
      .execute(),
    db
      .selectFrom('student_groups')
      .select(['id', 'name', 'kind', 'school_id'])
      .where('organisation_id', '=', org)
      .execute(),
  ]);
  const groups = new Map<string, AuditGroup>();
  for (const g of groupRows) {
    groups.set(g.id, {
      id: g.id,
      name: g.name,
      home: { type: g.home_scope_type as ScopeType, id: g.home_scope_id },
      grants: [],
      clearances: [],
      studentGroupIds: [],
      linkedStudents: [],
      reach: null,
    });
  }
  for (const g of grantRows) {
    groups.get(g.user_group_id!)?.grants.push({
      grantId: g.id,
      role: g.role as GrantableRole,
      scope: { type: g.scope_type as ScopeType, id: g.scope_id },
      reason: g.reason,
    });
  }
  for (const c of clearanceRows)
    groups.get(c.user_group_id)?.clearances.push(c.clearance as Clearance);
  const studentGroups = new Map<string, AuditStudentGroup>(
    studentGroupRows.map((g) => [
      g.id,
      { id: g.id, name: g.name, kind: g.kind, schoolId: g.school_id },
    ]),
  );

  // Each linked student group's children at T, read once (one query per student group).
  const linkedStudentGroups = new Set<string>();
  for (const l of linkRows) if (l.student_group_id) linkedStudentGroups.add(l.student_group_id);
  const studentGroupSets = new Map<string, StudentSet>();
  for (const id of linkedStudentGroups) {
    const members = await db
      .selectFrom('student_group_members as sgm')
      .select('sgm.student_id')
      .where('sgm.student_group_id', '=', id)
      .where((eb) => heldAt(eb, 'sgm', asOf))
      .execute();
    const set = emptySet(words);
    for (const m of members) {
      const index = studentIndex.get(m.student_id);
      if (index !== undefined) setBit(set, index);
    }
    studentGroupSets.set(id, set);
  }
  for (const l of linkRows) {
    const group = groups.get(l.user_group_id!);
    if (!group) continue;
    if (l.student_group_id) {
      group.studentGroupIds.push(l.student_group_id);
      group.reach ??= emptySet(words);
      orInto(group.reach, studentGroupSets.get(l.student_group_id)!);
    } else if (l.student_id) {
      const index = studentIndex.get(l.student_id);
      if (index === undefined) continue;
      group.linkedStudents.push(index);
      group.reach ??= emptySet(words);
      setBit(group.reach, index);
    }
  }

  return {
    organisationId: org,
    asOf,
    at,
    scope,
    scopeSchools,
    schoolGroupsBySchool,
    scopeNames,
    studentIndex,
    studentSchool,
    words,
    schoolSets,
    scopeSet,
    groups,
    studentGroups,
    activeOwners: await loadActiveOwners(db, org, asOf),
    currentMemberships: groupRows.reduce((n, g) => n + Number(g.member_count), 0),
  };
}

/** The distinct people live at T who hold Owner, directly or through a group. */
async function loadActiveOwners(
  db: Kysely<DB>,
  org: string,
  asOf: string | undefined,
): Promise<Set<string>> {
  // From the Owner grants (a handful), not from the users (a million).
  const holders = db
    .selectFrom('role_grants as g')
    .select('g.user_id as user_id')
    .where('g.organisation_id', '=', org)
    .where('g.role', '=', 'owner')
    .where('g.user_id', 'is not', null)
    .where((eb) => heldAt(eb, 'g', asOf))
    .$castTo<{ user_id: string }>()
    .union(
      db
        .selectFrom('role_grants as g')
        .innerJoin('user_group_members as m', 'm.user_group_id', 'g.user_group_id')
        .select('m.user_id as user_id')
        .where('g.organisation_id', '=', org)
        .where('g.role', '=', 'owner')
        .where((eb) => heldAt(eb, 'g', asOf))
        .where((eb) => heldAt(eb, 'm', asOf)),
    );
  const rows = await db
    .selectFrom('users as u')
    .select('u.id')
    .where('u.organisation_id', '=', org)
    .where('u.id', 'in', holders)
    .where((eb) => userLive(eb, asOf))
    .execute();
  return new Set(rows.map((r) => r.id));
}
