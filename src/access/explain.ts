import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { type HeldClearance, loadHeldClearances } from './clearances.ts';
import { can, viewerOf } from './decide.ts';
import { heldAt } from './history.ts';
import {
  type GroupPermission,
  type HeldSet,
  heldSets,
  type PermissionSetKind,
  type SetAssignment,
} from './permission-sets.ts';
import { type HeldGrant, loadHeldGrants, loadPrincipal } from './principal.ts';
import {
  type AccessPathRow,
  type AccessTime,
  accessPaths,
  heldBlocks,
  type PathKind,
  reachableStudentIds,
  studentVisibleTo,
  userLive,
} from './visibility.ts';

/**
 * Explanations (spec section 6). Every path and denial here comes from the builders in
 * visibility.ts that the decision itself uses; nothing is worked out a second way.
 */

export interface PathExplanation {
  kind: PathKind;
  summary: string;
  linkId: string;
  userGroup: { id: string; name: string } | null;
  studentGroup: { id: string; name: string; kind: string; rule: unknown } | null;
  since: { membership: string | null; link: string; inStudentGroup: string | null };
}

export type DenialKind = 'block' | 'no_role' | 'user_inactive' | 'student_inactive';

export interface DenialExplanation {
  kind: DenialKind;
  summary: string;
  block?: { id: string; reason: string; by: { id: string; name: string } | null; since: string };
}

/** Names for the groups on a set of paths. */
async function describePaths(
  db: Kysely<DB>,
  rows: AccessPathRow[],
): Promise<Map<string, PathExplanation>> {
  const userGroupIds = [
    ...new Set(rows.flatMap((r) => (r.user_group_id ? [r.user_group_id] : []))),
  ];
  const studentGroupIds = [
    ...new Set(rows.flatMap((r) => (r.student_group_id ? [r.student_group_id] : []))),
  ];
  const [userGroups, studentGroups] = await Promise.all([
    userGroupIds.length === 0
      ? []
      : db
          .selectFrom('user_groups')
          .select(['id', 'name'])
          .where('id', 'in', userGroupIds)
          .execute(),
    studentGroupIds.length === 0
      ? []
      : db
          .selectFrom('student_groups')
          .select(['id', 'name', 'kind', 'rule'])
          .where('id', 'in', studentGroupIds)
          .execute(),
  ]);
  const ug = new Map(userGroups.map((g) => [g.id, g]));
  const sg = new Map(studentGroups.map((g) => [g.id, g]));
  const described = new Map<string, PathExplanation>();
  for (const row of rows) {
    const userGroup = row.user_group_id ? ug.get(row.user_group_id) : undefined;
    const studentGroup = row.student_group_id ? sg.get(row.student_group_id) : undefined;
    const rule = studentGroup?.rule ? JSON.parse(studentGroup.rule) : null;
    const target = studentGroup
      ? `linked to ${studentGroup.name} (${studentGroup.kind === 'rule' ? `rule: ${describeRule(rule)}` : studentGroup.kind === 'all' ? 'all students' : 'chosen students'})`
      : 'linked to this student directly';
    const summary =
      row.kind === 'user_to_student'
        ? 'linked to this student directly'
        : `member of ${userGroup?.name ?? 'a user group'} -> ${target}`;
    described.set(`${row.user_id}:${row.link_id}`, {
      kind: row.kind,
      summary,
      linkId: row.link_id,
      userGroup: userGroup ? { id: userGroup.id, name: userGroup.name } : null,
      studentGroup: studentGroup
        ? { id: studentGroup.id, name: studentGroup.name, kind: studentGroup.kind, rule }
        : null,
      since: {
        membership: row.member_since,
        link: row.link_since,
        inStudentGroup: row.in_group_since,
      },
    });
  }
  return described;
}

/** A rule in words, for explanations: "year group between 7 and 9 and SEN status in K, E". */
export function describeRule(rule: unknown): string {
  if (!rule || typeof rule !== 'object') return '';
  const r = rule as Record<string, unknown>;
  if (Array.isArray(r.all)) return r.all.map(describeRule).join(' and ');
  if (Array.isArray(r.any)) return `(${r.any.map(describeRule).join(' or ')})`;
  if (r.not) return `not (${describeRule(r.not)})`;
  const field = String(r.field)
    .replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)
    .replace('sen ', 'SEN ');
  const value = r.value;
  switch (r.op) {
    case 'eq':
      return `${field} = ${value}`;
    case 'in':
      return `${field} in ${(value as unknown[]).join(', ')}`;
    case 'between':
      return `${field} between ${(value as unknown[])[0]} and ${(value as unknown[])[1]}`;
    case 'has':
      return `${field} include ${value}`;
    default:
      return '';
  }
}

export async function pathsFor(
  db: Kysely<DB>,
  t: AccessTime,
  filter: { users: readonly string[]; student: string },
): Promise<Map<string, PathExplanation[]>> {
  if (filter.users.length === 0) return new Map();
  const rows = (await accessPaths(db, t, filter).execute()) as AccessPathRow[];
  const described = await describePaths(db, rows);
  const byUser = new Map<string, PathExplanation[]>();
  for (const row of rows) {
    const list = byUser.get(row.user_id) ?? [];
    list.push(described.get(`${row.user_id}:${row.link_id}`)!);
    byUser.set(row.user_id, list);
  }
  return byUser;
}

export interface StudentExplanation {
  allowed: boolean;
  paths: PathExplanation[];
  denials: DenialExplanation[];
}

/** Why a user can or cannot see a student, at a time (`GET /access/explain`). */
export async function explainStudentAccess(
  db: Kysely<DB>,
  t: AccessTime,
  userId: string,
  student: {
    id: string;
    schoolId: string;
    schoolName: string;
    createdAt: string;
    deletedAt: string | null;
  },
): Promise<StudentExplanation> {
  const paths = (await pathsFor(db, t, { users: [userId], student: student.id })).get(userId) ?? [];
  const denials: DenialExplanation[] = [];

  const blocks = await heldBlocks(db, t, { user: userId, student: student.id })
    .leftJoin('users as author', 'author.id', 'b.created_by')
    .select(['b.id', 'b.reason', 'b.valid_from', 'b.created_by', 'author.name as author_name'])
    .execute();
  for (const block of blocks) {
    denials.push({
      kind: 'block',
      summary: `blocked by ${block.author_name ?? 'Haven'} on ${block.valid_from.slice(0, 10)}: ${block.reason}`,
      block: {
        id: block.id,
        reason: block.reason,
        by: block.created_by ? { id: block.created_by, name: block.author_name ?? '' } : null,
        since: block.valid_from,
      },
    });
  }
  // The role part of the decision is the permission check itself, on the user as they were at T.
  const principal = await loadPrincipal(db, t.organisationId, userId, t.asOf);
  if (!can(principal, 'students.view', { type: 'school', id: student.schoolId })) {
    denials.push({ kind: 'no_role', summary: `holds no role at ${student.schoolName}` });
  }
  const live = await db
    .selectFrom('users as u')
    .select('u.id')
    .where('u.id', '=', userId)
    .where((eb) => userLive(eb, t.asOf))
    .executeTakeFirst();
  if (!live) denials.push({ kind: 'user_inactive', summary: 'the account is disabled or removed' });
  const at = t.asOf ?? new Date().toISOString();
  if (student.createdAt > at || (student.deletedAt !== null && student.deletedAt <= at)) {
    denials.push({
      kind: 'student_inactive',
      summary: 'the student record was deleted or did not exist yet',
    });
  }
  return { allowed: paths.length > 0 && denials.length === 0, paths, denials };
}

export interface EffectivePermissions {
  roles: HeldGrant[];
  clearances: HeldClearance[];
  memberships: { userGroupId: string; name: string; since: string }[];
  paths: {
    kind: PathKind;
    linkId: string;
    userGroup: { id: string; name: string } | null;
    studentGroup: { id: string; name: string; kind: string; rule: unknown } | null;
    studentId: string | null;
    students: number;
    since: string;
  }[];
  blocks: { id: string; studentId: string; reason: string; since: string; by: string | null }[];
  visibleStudents: number;
  /** Every permission set held on a user group, and through which assignment (spec section 5). */
  groupPermissions: GroupPermissionExplanation[];
}

export interface GroupPermissionExplanation {
  userGroup: { id: string; name: string };
  set: { id: string; kind: PermissionSetKind; name: string };
  permissions: GroupPermission[];
  via: SetAssignment;
}

/** A held set as effective permissions answer it. */
export function explainHeldSet(held: HeldSet): GroupPermissionExplanation {
  return {
    userGroup: { id: held.userGroupId, name: held.userGroupName },
    set: { id: held.setId, kind: held.kind, name: held.name },
    permissions: held.permissions,
    via: held.via,
  };
}

/** Everything a user holds at a time, each with its source (`GET /users/:id/effective-permissions`). */
export async function effectivePermissions(
  db: Kysely<DB>,
  t: AccessTime,
  userId: string,
): Promise<EffectivePermissions> {
  const [roles, clearances, sets] = await Promise.all([
    loadHeldGrants(db, t.organisationId, userId, t.asOf),
    loadHeldClearances(db, t.organisationId, userId, t.asOf),
    // The same reading of the sets that decides every group action.
    heldSets(db, { organisationId: t.organisationId, userId, asOf: t.asOf }),
  ]);
  const memberships = await db
    .selectFrom('user_group_members as m')
    .innerJoin('user_groups as g', 'g.id', 'm.user_group_id')
    .select(['g.id', 'g.name', 'm.valid_from'])
    .where('m.organisation_id', '=', t.organisationId)
    .where('m.user_id', '=', userId)
    .where((eb) => heldAt(eb, 'm', t.asOf))
    .orderBy('g.name')
    .execute();
  const links = await db
    .selectFrom('student_links as l')
    .leftJoin('user_groups as ug', 'ug.id', 'l.user_group_id')
    .leftJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
    .select([
      'l.id',
      'l.user_group_id',
      'ug.name as user_group_name',
      'l.student_group_id',
      'sg.name as student_group_name',
      'sg.kind as student_group_kind',
      'sg.rule as student_group_rule',
      'l.student_id',
      'l.valid_from',
    ])
    .where('l.organisation_id', '=', t.organisationId)
    .where((eb) => heldAt(eb, 'l', t.asOf))
    .where((eb) =>
      eb.or([
        eb('l.user_id', '=', userId),
        eb(
          'l.user_group_id',
          'in',
          eb
            .selectFrom('user_group_members as m2')
            .select('m2.user_group_id')
            .where('m2.user_id', '=', userId)
            .where((eb2) => heldAt(eb2, 'm2', t.asOf)),
        ),
      ]),
    )
    .orderBy('ug.name')
    .orderBy('l.valid_from')
    .execute();
  const groupSizes = new Map<string, number>();
  for (const link of links) {
    if (!link.student_group_id || groupSizes.has(link.student_group_id)) continue;
    const size = await db
      .selectFrom('student_group_members as sgm')
      .innerJoin('students as s', 's.id', 'sgm.student_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sgm.student_group_id', '=', link.student_group_id)
      .where((eb) => heldAt(eb, 'sgm', t.asOf))
      .executeTakeFirstOrThrow();
    groupSizes.set(link.student_group_id, Number(size.n));
  }
  const blocks = await heldBlocks(db, t, { user: userId })
    .select(['b.id', 'b.student_id', 'b.reason', 'b.valid_from', 'b.created_by'])
    .orderBy('b.valid_from')
    .execute();
  const viewer = viewerOf(await loadPrincipal(db, t.organisationId, userId, t.asOf));
  const visible = await db
    .selectFrom('students as s')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where((eb) => studentVisibleTo(db, eb, t, viewer))
    // Only students some path reaches can be visible: start from them (the short list, mostly).
    .where('s.id', 'in', reachableStudentIds(db, t, userId))
    .executeTakeFirstOrThrow();
  return {
    roles,
    clearances,
    memberships: memberships.map((m) => ({ userGroupId: m.id, name: m.name, since: m.valid_from })),
    paths: links.map((l) => ({
      kind:
        l.user_group_id === null
          ? 'user_to_student'
          : l.student_group_id
            ? 'group_to_student_group'
            : 'group_to_student',
      linkId: l.id,
      userGroup: l.user_group_id ? { id: l.user_group_id, name: l.user_group_name ?? '' } : null,
      studentGroup: l.student_group_id
        ? {
            id: l.student_group_id,
            name: l.student_group_name ?? '',
            kind: l.student_group_kind ?? '',
            rule: l.student_group_rule ? JSON.parse(l.student_group_rule) : null,
          }
        : null,
      studentId: l.student_id,
      students: l.student_group_id ? (groupSizes.get(l.student_group_id) ?? 0) : 1,
      since: l.valid_from,
    })),
    blocks: blocks.map((b) => ({
      id: b.id,
      studentId: b.student_id,
      reason: b.reason,
      since: b.valid_from,
      by: b.created_by,
    })),
    visibleStudents: Number(visible.n),
    groupPermissions: sets.map(explainHeldSet),
  };
}
