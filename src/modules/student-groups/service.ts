import type { Kysely, SelectQueryBuilder } from 'kysely';
import { z } from 'zod';
import { can, requirePermission, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Scope, ScopeType } from '../../access/scopes.ts';
import { userGroupVisibleTo } from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { DB, StudentGroupsTable } from '../../db/tables.ts';
import {
  conflict,
  HavenError,
  invalidField,
  notFound,
  validationFailed,
} from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { existingSchoolIds, findSchool, scopeNames } from '../organisations/repository.ts';
import { visibleStudentIds, visibleStudents } from '../students/repository.ts';
import { presentStudent } from '../students/service.ts';
import {
  type AutomaticGroup,
  belongs,
  endStudentGroupMemberships,
  recountStudentGroup,
  refreshAutomaticGroup,
} from './membership.ts';
import { parseRule, type Rule, schoolIdsIn } from './rules.ts';

export type StudentGroupKind = 'all' | 'manual' | 'rule';

export function presentStudentGroup(row: StudentGroupsTable) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    schoolId: row.school_id,
    kind: row.kind as StudentGroupKind,
    rule: row.rule ? (JSON.parse(row.rule) as Rule) : null,
    memberCount: row.member_count,
    system: row.system_key !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * How many current members of each group the caller can see (issue 11, finding 12): a count of
 * every member would tell an Admin how many children a "flag cp_plan" group holds while they
 * see none of them. One query for all the groups `groupIds` selects, with the student list's own
 * filter. It reads the visible members first and their memberships second (a CROSS JOIN keeps
 * SQLite to that order), so each child is tested once however many groups they are in.
 */
export async function visibleMemberCounts(
  db: Kysely<DB>,
  principal: Principal,
  groupIds: SelectQueryBuilder<DB, 'student_groups', { id: string }>,
): Promise<Map<string, number>> {
  const t = { organisationId: principal.organisationId };
  const members = db
    .selectFrom('student_group_members as cm')
    .select('cm.student_id')
    .where('cm.student_group_id', 'in', groupIds)
    .where('cm.valid_to', 'is', null);
  const rows = await visibleStudents(db, t, viewerOf(principal))
    .where('s.id', 'in', members)
    .crossJoin('student_group_members as gm')
    .whereRef('gm.student_id', '=', 's.id')
    .where('gm.student_group_id', 'in', groupIds)
    .where('gm.valid_to', 'is', null)
    .select(['gm.student_group_id as id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('gm.student_group_id')
    .execute();
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

/** Student groups as the caller may see them: each member count is of the children they can see. */
async function presentForCaller(
  db: Kysely<DB>,
  principal: Principal,
  rows: readonly StudentGroupsTable[],
  groupIds: SelectQueryBuilder<DB, 'student_groups', { id: string }>,
) {
  const counts = rows.length > 0 ? await visibleMemberCounts(db, principal, groupIds) : new Map();
  return rows.map((row) => presentStudentGroup({ ...row, member_count: counts.get(row.id) ?? 0 }));
}

/** One group as the caller may see it (read through `db`, the change's own handle inside one). */
async function presentOneForCaller(db: Kysely<DB>, principal: Principal, groupId: string) {
  const row = await findStudentGroup(db, principal.organisationId, groupId);
  if (!row) throw notFound('Student group');
  const only = db.selectFrom('student_groups').select('id').where('id', '=', row.id);
  const [group] = await presentForCaller(db, principal, [row], only);
  return group!;
}

export function scopeOfStudentGroup(organisationId: string, schoolId: string | null): Scope {
  return schoolId ? { type: 'school', id: schoolId } : { type: 'organisation', id: organisationId };
}

export async function findStudentGroup(db: Kysely<DB>, organisationId: string, groupId: string) {
  return db
    .selectFrom('student_groups')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', groupId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

function automatic(row: StudentGroupsTable): AutomaticGroup | null {
  if (row.kind === 'manual') return null;
  return {
    id: row.id,
    organisationId: row.organisation_id,
    schoolId: row.school_id,
    rule: row.rule ? (JSON.parse(row.rule) as Rule) : null,
  };
}

export interface NewStudentGroup {
  name: string;
  description?: string | undefined;
  schoolId: string | null;
  kind: StudentGroupKind;
  rule?: unknown;
  studentIds?: string[] | undefined;
}

/** Creates a student group and fills it, inside the caller's change. Used by the API and by school set-up. */
export async function addStudentGroup(
  change: Change,
  organisationId: string,
  input: NewStudentGroup & { systemKey?: string },
): Promise<StudentGroupsTable> {
  const rule = input.kind === 'rule' ? (input.rule as Rule) : null;
  const row: StudentGroupsTable = {
    id: newId(),
    organisation_id: organisationId,
    school_id: input.schoolId,
    name: input.name,
    description: input.description ?? '',
    kind: input.kind,
    rule: rule ? JSON.stringify(rule) : null,
    system_key: input.systemKey ?? null,
    member_count: 0,
    created_at: change.now,
    updated_at: change.now,
    deleted_at: null,
  };
  await change.db.insertInto('student_groups').values(row).execute();
  const auto = automatic(row);
  if (auto) await refreshAutomaticGroup(change, auto);
  const count = await change.db
    .selectFrom('student_groups')
    .select('member_count')
    .where('id', '=', row.id)
    .executeTakeFirstOrThrow();
  return { ...row, member_count: count.member_count };
}

const memberCursor = z.tuple([z.string(), z.string(), z.string()]);

export class StudentGroupService {
  constructor(private readonly database: Database) {}

  async #validateRule(db: Kysely<DB>, organisationId: string, input: unknown): Promise<Rule> {
    const { rule, errors } = parseRule(input);
    if (!rule) throw validationFailed(errors);
    const named = schoolIdsIn(rule);
    const known = await existingSchoolIds(
      db,
      organisationId,
      named.map((n) => n.id),
    );
    const unknown = named.find((n) => !known.has(n.id));
    if (unknown) throw invalidField(unknown.path, `no school ${unknown.id} in this organisation`);
    return rule;
  }

  async #nameFree(
    db: Kysely<DB>,
    organisationId: string,
    schoolId: string | null,
    name: string,
    except?: string,
  ) {
    let query = db
      .selectFrom('student_groups')
      .select('id')
      .where('organisation_id', '=', organisationId)
      .where('name', '=', name)
      .where('deleted_at', 'is', null);
    query = schoolId
      ? query.where('school_id', '=', schoolId)
      : query.where('school_id', 'is', null);
    if (except) query = query.where('id', '<>', except);
    if (await query.executeTakeFirst())
      throw conflict(`A student group named "${name}" already exists`, 'name_taken');
  }

  async #requireVisibleStudents(
    principal: Principal,
    db: Kysely<DB>,
    studentIds: readonly string[],
    schoolId: string | null,
  ) {
    const t = { organisationId: principal.organisationId };
    const visible = await visibleStudentIds(db, t, viewerOf(principal), studentIds);
    const missing = studentIds.find((s) => !visible.has(s));
    if (missing)
      throw new HavenError(404, 'not_found', 'Not found', `Student ${missing} not found`, {
        field: 'studentIds',
      });
    if (schoolId) {
      const elsewhere = await db
        .selectFrom('students')
        .select('id')
        .where('id', 'in', [...new Set(studentIds)].slice(0, 10_000))
        .where('school_id', '<>', schoolId)
        .executeTakeFirst();
      if (elsewhere)
        throw invalidField('studentIds', `student ${elsewhere.id} is not at this group's school`);
    }
  }

  async create(principal: Principal, input: NewStudentGroup, origin: ChangeOrigin) {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const db = change.db;
      if (input.schoolId && !(await findSchool(db, organisationId, input.schoolId))) {
        throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
          field: 'schoolId',
        });
      }
      requirePermission(
        principal,
        'student_groups.manage',
        scopeOfStudentGroup(organisationId, input.schoolId),
      );
      if (input.kind === 'rule') {
        if (input.rule === undefined) throw invalidField('rule', 'is required for a rule group');
        input.rule = await this.#validateRule(db, organisationId, input.rule);
      } else if (input.rule !== undefined) {
        throw invalidField('rule', `only rule groups take a rule, not ${input.kind} groups`);
      }
      if (input.studentIds && input.kind !== 'manual') {
        throw invalidField(
          'studentIds',
          `only manual groups take students, not ${input.kind} groups`,
        );
      }
      await this.#nameFree(db, organisationId, input.schoolId, input.name);
      const studentIds = [...new Set(input.studentIds ?? [])];
      if (studentIds.length > 0)
        await this.#requireVisibleStudents(principal, db, studentIds, input.schoolId);
      const row = await addStudentGroup(change, organisationId, input);
      if (studentIds.length > 0) await addManualMembers(change, row.id, organisationId, studentIds);
      change.record({
        action: 'student_group.create',
        targetType: 'student_group',
        targetId: row.id,
        after: {
          name: row.name,
          schoolId: row.school_id,
          kind: row.kind,
          rule: input.rule ?? null,
          studentIds,
        },
      });
      return presentOneForCaller(db, principal, row.id);
    });
  }

  async list(
    principal: Principal,
    filter: { schoolId?: string | undefined; kind?: StudentGroupKind | undefined },
  ) {
    const db = this.database.db;
    let query = db
      .selectFrom('student_groups')
      .where('organisation_id', '=', principal.organisationId)
      .where('deleted_at', 'is', null);
    if (filter.schoolId) query = query.where('school_id', '=', filter.schoolId);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    const rows = await query.selectAll().orderBy('name').orderBy('id').limit(5000).execute();
    return presentForCaller(db, principal, rows, query.select('id'));
  }

  async get(principal: Principal, groupId: string) {
    return presentOneForCaller(this.database.db, principal, groupId);
  }

  /**
   * The user groups linked to this student group now (issue 14, item 6: who sees "All students"):
   * those the caller may see, by the user-group policy, with their home, member count, since when
   * and why; and, for an Admin over the student group, how many more are linked from homes they
   * do not administer (named nowhere, but not hidden from the count either).
   */
  async linkedUserGroups(principal: Principal, groupId: string) {
    const db = this.database.db;
    const group = await findStudentGroup(db, principal.organisationId, groupId);
    if (!group) throw notFound('Student group');
    const links = db
      .selectFrom('student_links as l')
      .innerJoin('user_groups as g', 'g.id', 'l.user_group_id')
      .where('l.organisation_id', '=', principal.organisationId)
      .where('l.student_group_id', '=', group.id)
      .where('l.valid_to', 'is', null)
      .where('g.deleted_at', 'is', null);
    const [rows, total, names] = await Promise.all([
      links
        .where((eb) => userGroupVisibleTo(eb, principal))
        .select([
          'g.id',
          'g.name',
          'g.home_scope_type',
          'g.home_scope_id',
          'g.member_count',
          'l.id as link_id',
          'l.valid_from',
          'l.rationale',
        ])
        .orderBy('g.name')
        .orderBy('g.id')
        .execute(),
      links.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      scopeNames(db, principal.organisationId),
    ]);
    const administers = can(
      principal,
      'user_groups.manage',
      scopeOfStudentGroup(principal.organisationId, group.school_id),
    );
    return {
      items: rows.map((r) => ({
        id: r.id,
        name: r.name,
        homeScope: {
          type: r.home_scope_type as ScopeType,
          id: r.home_scope_id,
          name: names.get(r.home_scope_id) ?? '',
        },
        memberCount: Number(r.member_count),
        linkId: r.link_id,
        since: r.valid_from,
        rationale: r.rationale,
      })),
      otherGroups: administers ? Number(total.n) - rows.length : null,
    };
  }

  async update(
    principal: Principal,
    groupId: string,
    patch: { name?: string | undefined; description?: string | undefined; rule?: unknown },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const db = change.db;
      const before = await findStudentGroup(db, organisationId, groupId);
      if (!before) throw notFound('Student group');
      requirePermission(
        principal,
        'student_groups.manage',
        scopeOfStudentGroup(organisationId, before.school_id),
      );
      let rule = before.rule;
      if (patch.rule !== undefined) {
        if (before.kind !== 'rule')
          throw invalidField('rule', `a ${before.kind} group has no rule`);
        rule = JSON.stringify(await this.#validateRule(db, organisationId, patch.rule));
      }
      const name = patch.name ?? before.name;
      if (name !== before.name)
        await this.#nameFree(db, organisationId, before.school_id, name, groupId);
      const description = patch.description ?? before.description;
      await db
        .updateTable('student_groups')
        .set({ name, description, rule, updated_at: change.now })
        .where('id', '=', groupId)
        .execute();
      const after = { ...before, name, description, rule, updated_at: change.now };
      let membership = { joined: 0, left: 0 };
      if (rule !== before.rule) membership = await refreshAutomaticGroup(change, automatic(after)!);
      change.record({
        action: 'student_group.update',
        targetType: 'student_group',
        targetId: groupId,
        before: {
          name: before.name,
          description: before.description,
          rule: before.rule ? JSON.parse(before.rule) : null,
        },
        after: { name, description, rule: rule ? JSON.parse(rule) : null },
        meta: membership,
      });
      return presentOneForCaller(db, principal, groupId);
    });
  }

  /** Soft delete: the group's memberships and every link to it end, so access through it ends. */
  async remove(principal: Principal, groupId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const db = change.db;
      const before = await findStudentGroup(db, organisationId, groupId);
      if (!before) throw notFound('Student group');
      requirePermission(
        principal,
        'student_groups.manage',
        scopeOfStudentGroup(organisationId, before.school_id),
      );
      if (before.system_key) {
        throw conflict("A school's own groups can be renamed but not deleted", 'system_group');
      }
      await endStudentGroupMemberships(change, groupId, (eb) => eb('student_id', 'is not', null));
      const links = await db
        .updateTable('student_links')
        .set({ valid_to: change.now, removed_by: principal.userId })
        .where('student_group_id', '=', groupId)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      await db
        .updateTable('student_groups')
        .set({ deleted_at: change.now, updated_at: change.now, member_count: 0 })
        .where('id', '=', groupId)
        .execute();
      change.record({
        action: 'student_group.delete',
        targetType: 'student_group',
        targetId: groupId,
        before: { name: before.name, kind: before.kind },
        meta: { linksEnded: Number(links.numUpdatedRows) },
      });
    });
  }

  /** The group's members that the caller can see, by family name. */
  async members(
    principal: Principal,
    groupId: string,
    page: { limit: number; cursor?: string | undefined },
  ) {
    const db = this.database.db;
    if (!(await findStudentGroup(db, principal.organisationId, groupId)))
      throw notFound('Student group');
    const after = decodeCursor(page.cursor, memberCursor);
    let select = visibleStudents(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
    )
      .selectAll('s')
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('student_group_members as gm')
            .select('gm.student_id')
            .where('gm.student_group_id', '=', groupId)
            .whereRef('gm.student_id', '=', 's.id')
            .where('gm.valid_to', 'is', null),
        ),
      );
    if (after) {
      const [family, given, id] = after;
      select = select.where((eb) =>
        eb.or([
          eb('s.family_key', '>', family),
          eb.and([eb('s.family_key', '=', family), eb('s.given_key', '>', given)]),
          eb.and([
            eb('s.family_key', '=', family),
            eb('s.given_key', '=', given),
            eb('s.id', '>', id),
          ]),
        ]),
      );
    }
    const rows = await select
      .orderBy('s.family_key')
      .orderBy('s.given_key')
      .orderBy('s.id')
      .limit(page.limit + 1)
      .execute();
    return toPage(rows, page.limit, presentStudent, (r) => [r.family_key, r.given_key, r.id]);
  }

  /** Who a rule would match, before saving it: how many the caller can see, and the first few of them. */
  async preview(principal: Principal, input: { schoolId: string | null; rule: unknown }) {
    const db = this.database.db;
    const organisationId = principal.organisationId;
    if (input.schoolId && !(await findSchool(db, organisationId, input.schoolId))) {
      throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
        field: 'schoolId',
      });
    }
    requirePermission(
      principal,
      'student_groups.manage',
      scopeOfStudentGroup(organisationId, input.schoolId),
    );
    const rule = await this.#validateRule(db, organisationId, input.rule);
    const matching = db
      .selectFrom('students as s')
      .where((eb) => belongs(eb, { organisationId, schoolId: input.schoolId, rule }));
    // Like a group's member count, the count is of the matches the caller can see.
    const visibleMatches = visibleStudents(db, { organisationId }, viewerOf(principal)).where(
      's.id',
      'in',
      matching.select('s.id'),
    );
    const count = await visibleMatches
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const sample = await visibleMatches
      .selectAll('s')
      .orderBy('s.family_key')
      .orderBy('s.given_key')
      .limit(20)
      .execute();
    return { count: Number(count.n), sample: sample.map(presentStudent) };
  }

  async changeManualMembers(
    principal: Principal,
    groupId: string,
    change_: { add?: string[]; remove?: string[] },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const db = change.db;
      const group = await findStudentGroup(db, organisationId, groupId);
      if (!group) throw notFound('Student group');
      requirePermission(
        principal,
        'students.assign_groups',
        scopeOfStudentGroup(organisationId, group.school_id),
      );
      if (group.kind !== 'manual') {
        throw conflict(
          `Members of ${group.kind} groups follow the students; only manual groups take members`,
          'not_manual',
        );
      }
      const add = [...new Set(change_.add ?? [])];
      const remove = [...new Set(change_.remove ?? [])];
      if (add.length > 0) await this.#requireVisibleStudents(principal, db, add, group.school_id);
      if (remove.length > 0) await this.#requireVisibleStudents(principal, db, remove, null);
      const added = await addManualMembers(change, groupId, organisationId, add);
      let removed = 0;
      for (const slice of chunks(remove)) {
        removed += await endStudentGroupMemberships(change, groupId, (eb) =>
          eb('student_id', 'in', slice),
        );
      }
      await recountStudentGroup(change, groupId);
      change.record({
        action: 'student_group.members',
        targetType: 'student_group',
        targetId: groupId,
        after: { added: add, removed: remove },
      });
      return { added, removed };
    });
  }
}

/** Puts students in a manual group (those already in it are left as they are). */
export async function addManualMembers(
  change: Change,
  groupId: string,
  organisationId: string,
  studentIds: string[],
) {
  let added = 0;
  for (const slice of chunks(studentIds)) {
    const current = new Set(
      (
        await change.db
          .selectFrom('student_group_members')
          .select('student_id')
          .where('student_group_id', '=', groupId)
          .where('student_id', 'in', slice)
          .where('valid_to', 'is', null)
          .execute()
      ).map((r) => r.student_id),
    );
    const fresh = slice.filter((s) => !current.has(s));
    if (fresh.length === 0) continue;
    await change.db
      .insertInto('student_group_members')
      .values(
        fresh.map((student_id) => ({
          organisation_id: organisationId,
          student_group_id: groupId,
          student_id,
          valid_from: change.now,
          valid_to: null,
        })),
      )
      .execute();
    added += fresh.length;
  }
  await recountStudentGroup(change, groupId);
  return added;
}
