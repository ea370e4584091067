import { z } from 'zod';
import { requireSomewhere, viewerOf } from '../../access/decide.ts';
import {
  effectivePermissions,
  explainStudentAccess,
  type GroupPermissionExplanation,
  type PathExplanation,
  pathsFor,
} from '../../access/explain.ts';
import { clearanceFor, explainIncident, readIncident } from '../../access/incidents.ts';
import type { Principal } from '../../access/principal.ts';
import { type Caller, readerOf } from '../../access/readers.ts';
import {
  visibleUserGroupIds,
  withholdGrantSource,
  withholdPathGroup,
} from '../../access/user-groups.ts';
import {
  type AccessTime,
  planWhoCanSee,
  reachingUserIds,
  roleHolderIds,
  userSeesStudent,
  type WhoShape,
} from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import { notFound } from '../../lib/errors.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { mfaRequired } from '../incidents/service.ts';
import { findSchool, scopeNames } from '../organisations/repository.ts';
import { findVisibleStudent, visibleStudentNames } from '../students/repository.ts';
import { findUser } from '../users/repository.ts';
import { presentHeldGrant } from '../users/service.ts';

const userCursor = z.tuple([z.string(), z.string()]);

/** The groups a set of paths names. */
function groupsOn(paths: readonly PathExplanation[]): string[] {
  return paths.flatMap((p) => (p.userGroup ? [p.userGroup.id] : []));
}

/**
 * Sets on a group the caller may not see are left out (the group is not named, nor is there a
 * trace of it); a set held through an assignee group the caller may not see keeps its set but
 * not that group's id or name.
 */
function withholdUnseenSets(
  sets: readonly GroupPermissionExplanation[],
  visible: ReadonlySet<string>,
) {
  return sets
    .filter((s) => visible.has(s.userGroup.id))
    .map((s) =>
      s.via.type !== 'user_group' || visible.has(s.via.userGroupId)
        ? s
        : { ...s, via: { type: 'user_group' as const, userGroupId: null, userGroupName: null } },
    );
}

export class AccessService {
  constructor(
    private readonly database: Database,
    private readonly options: { mfaWindowMs: number },
  ) {}

  /** Explaining someone else's access, or listing who can see a child, is an access-audit task (Admin). */
  #requireAudit(principal: Principal, userId?: string) {
    if (userId !== principal.userId) requireSomewhere(principal, 'reports.access_audit');
  }

  /** The caller must be able to see the child they ask about; otherwise it does not exist for them. */
  async #visibleStudent(principal: Principal, studentId: string) {
    const student = await findVisibleStudent(
      this.database.db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      studentId,
    );
    if (!student) throw notFound('Student');
    const school = await findSchool(this.database.db, principal.organisationId, student.school_id);
    return { student, schoolName: school?.name ?? '' };
  }

  async explain(
    principal: Principal,
    query: { userId: string; studentId: string; asOf?: string | undefined },
  ) {
    this.#requireAudit(principal, query.userId);
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, query.userId);
    if (!user) throw notFound('User');
    const { student, schoolName } = await this.#visibleStudent(principal, query.studentId);
    const t: AccessTime = { organisationId: principal.organisationId, asOf: query.asOf };
    const explanation = await explainStudentAccess(db, t, user.id, {
      id: student.id,
      schoolId: student.school_id,
      schoolName,
      createdAt: student.created_at,
      deletedAt: student.deleted_at,
    });
    const groups = await visibleUserGroupIds(db, principal, groupsOn(explanation.paths));
    return {
      ...explanation,
      paths: explanation.paths.map((p) => withholdPathGroup(p, groups)),
      asOf: query.asOf ?? null,
      user: { id: user.id, name: user.name },
      student: { id: student.id, name: `${student.given_name} ${student.family_name}` },
    };
  }

  /**
   * Why a user may or may not read an incident (`GET /access/explain?incidentId=`): the ways in
   * that hold and the denials that apply, from the incident policy itself. The caller must read
   * the incident (404 otherwise, or 403 `mfa_required`); children the caller cannot see are
   * redacted in the answer.
   */
  async explainIncident(caller: Caller, query: { userId: string; incidentId: string }) {
    const { principal } = caller;
    this.#requireAudit(principal, query.userId);
    const db = this.database.db;
    const t: AccessTime = { organisationId: principal.organisationId };
    const user = await findUser(db, principal.organisationId, query.userId);
    if (!user) throw notFound('User');
    const reader = await readerOf(db, caller, this.options.mfaWindowMs);
    if (!(await readIncident(db, t, reader, query.incidentId))) {
      const assumed = await readerOf(db, caller, this.options.mfaWindowMs, 'assume');
      if (await readIncident(db, t, assumed, query.incidentId)) throw mfaRequired();
      throw notFound('Incident');
    }
    const facts = await explainIncident(db, t, user.id, query.incidentId);
    if (!facts) throw notFound('Incident');
    const names = await visibleStudentNames(db, t, reader, [
      ...facts.seenChildren,
      ...facts.blockedChildren,
    ]);
    const viaPaths = new Map<string, PathExplanation[]>();
    if (facts.cleared)
      for (const id of facts.seenChildren)
        viaPaths.set(
          id,
          (await pathsFor(db, t, { users: [user.id], student: id })).get(user.id) ?? [],
        );
    const groups = await visibleUserGroupIds(db, principal, [
      ...facts.assignedGroups.map((g) => g.id),
      ...groupsOn([...viaPaths.values()].flat()),
    ]);
    const child = (id: string) => {
      const name = names.get(id);
      return name === undefined ? null : { id, name };
    };
    const paths: {
      kind: 'reporter' | 'assignee' | 'assigned_group' | 'student';
      summary: string;
      userGroup: { id: string; name: string } | null;
      student: { id: string; name: string } | null;
      via: PathExplanation[];
    }[] = [];
    if (facts.reporter)
      paths.push({
        kind: 'reporter',
        summary: 'reported it',
        userGroup: null,
        student: null,
        via: [],
      });
    if (facts.assignee)
      paths.push({
        kind: 'assignee',
        summary: 'it is assigned to them',
        userGroup: null,
        student: null,
        via: [],
      });
    for (const group of facts.assignedGroups)
      paths.push({
        kind: 'assigned_group',
        summary: `it is assigned to ${groups.has(group.id) ? group.name : 'a group you cannot see'}, a group they are in`,
        userGroup: groups.has(group.id) ? group : null,
        student: null,
        via: [],
      });
    if (facts.cleared)
      for (const id of facts.seenChildren) {
        const shown = child(id);
        const via = (viaPaths.get(id) ?? []).map((p) => withholdPathGroup(p, groups));
        paths.push({
          kind: 'student',
          summary: `sees ${shown ? shown.name : 'a child on it'}${
            facts.sensitivity === 'standard'
              ? ''
              : ` and holds the ${clearanceFor[facts.sensitivity]} clearance`
          }`,
          userGroup: null,
          student: shown,
          via,
        });
      }
    const denials: {
      kind:
        | 'user_inactive'
        | 'no_role'
        | 'excluded'
        | 'allegation_subject'
        | 'blocked'
        | 'no_clearance';
      summary: string;
    }[] = [];
    if (!facts.live)
      denials.push({ kind: 'user_inactive', summary: 'their account is disabled or removed' });
    if (!facts.holdsRole)
      denials.push({ kind: 'no_role', summary: 'holds no role, so cannot sign in' });
    if (facts.excluded)
      denials.push({ kind: 'excluded', summary: 'is on this record’s exclusion list' });
    if (facts.allegationSubject)
      denials.push({
        kind: 'allegation_subject',
        summary: 'is the member of staff this allegation is about',
      });
    if (facts.blockedChildren.length > 0 && facts.seenChildren.length === 0)
      denials.push({
        kind: 'blocked',
        summary: 'is blocked from every child on it they could otherwise see',
      });
    if (!facts.cleared && facts.seenChildren.length > 0 && facts.sensitivity !== 'standard')
      denials.push({
        kind: 'no_clearance',
        summary: `sees a child on it but holds no ${clearanceFor[facts.sensitivity]} clearance`,
      });
    return {
      allowed: facts.allowed,
      asOf: null,
      user: { id: user.id, name: user.name },
      incident: { id: query.incidentId, sensitivity: facts.sensitivity },
      paths,
      denials,
    };
  }

  /** Who can see a child, each with their paths, paginated by name (`GET /students/:id/access`). */
  async whoCanSee(
    principal: Principal,
    studentId: string,
    query: {
      asOf?: string | undefined;
      limit: number;
      cursor?: string | undefined;
      /** Overrides the planner (tests hold every shape to the same answer). */
      shape?: WhoShape | undefined;
    },
  ) {
    this.#requireAudit(principal);
    const db = this.database.db;
    const { student } = await this.#visibleStudent(principal, studentId);
    const t: AccessTime = { organisationId: principal.organisationId, asOf: query.asOf };
    const after = decodeCursor(query.cursor, userCursor);
    const target = { id: student.id, schoolId: student.school_id };
    const plan = query.shape ? { shape: query.shape } : await planWhoCanSee(db, t, target);
    let select = db
      .selectFrom('users as u')
      .select(['u.id', 'u.name', 'u.email'])
      .where((eb) => userSeesStudent(db, eb, t, target));
    if (plan.shape === 'holders')
      select = select.where('u.id', 'in', roleHolderIds(db, t, student.school_id));
    if (plan.shape === 'reachers')
      select = select.where('u.id', 'in', reachingUserIds(db, t, student.id));
    if (after) {
      select = select.where((eb) =>
        eb.or([
          eb('u.name', '>', after[0]),
          eb.and([eb('u.name', '=', after[0]), eb('u.id', '>', after[1])]),
        ]),
      );
    }
    const rows = await select
      .orderBy('u.name')
      .orderBy('u.id')
      .limit(query.limit + 1)
      .execute();
    const page = toPage(
      rows,
      query.limit,
      (row) => row,
      (row) => [row.name, row.id],
    );
    const paths = await pathsFor(db, t, {
      users: page.items.map((u) => u.id),
      student: student.id,
    });
    const groups = await visibleUserGroupIds(db, principal, groupsOn([...paths.values()].flat()));
    return {
      asOf: query.asOf ?? null,
      items: page.items.map((u) => ({
        user: u,
        paths: (paths.get(u.id) ?? []).map((p) => withholdPathGroup(p, groups)),
      })),
      nextCursor: page.nextCursor,
    };
  }

  async effective(principal: Principal, userId: string, asOf: string | undefined) {
    this.#requireAudit(principal, userId);
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, userId);
    if (!user) throw notFound('User');
    const t: AccessTime = { organisationId: principal.organisationId, asOf };
    const [held, names] = await Promise.all([
      effectivePermissions(db, t, userId),
      scopeNames(db, principal.organisationId),
    ]);
    // Children the caller cannot see are shown without name or identifier.
    const mentioned = [
      ...held.paths.flatMap((p) => (p.studentId ? [p.studentId] : [])),
      ...held.blocks.map((b) => b.studentId),
    ];
    const studentNames = await visibleStudentNames(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      mentioned,
    );
    const visible = new Set(studentNames.keys());
    const shownBlocks = held.blocks.filter((b) => visible.has(b.studentId));
    const groups = await visibleUserGroupIds(db, principal, [
      ...held.memberships.map((m) => m.userGroupId),
      ...held.clearances.map((c) => c.source.userGroupId),
      ...held.roles.flatMap((g) => (g.source.type === 'user_group' ? [g.source.userGroupId] : [])),
      ...held.paths.flatMap((p) => (p.userGroup ? [p.userGroup.id] : [])),
      ...held.groupPermissions.flatMap((s) => [
        s.userGroup.id,
        ...(s.via.type === 'user_group' ? [s.via.userGroupId] : []),
      ]),
    ]);
    return {
      asOf: asOf ?? null,
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        status: user.disabled_at ? 'disabled' : 'active',
      },
      roles: held.roles.map((g) => withholdGrantSource(presentHeldGrant(g, names), groups)),
      clearances: held.clearances.map((c) =>
        groups.has(c.source.userGroupId)
          ? c
          : { ...c, source: { ...c.source, userGroupId: null, userGroupName: null } },
      ),
      memberships: held.memberships.map((m) =>
        groups.has(m.userGroupId) ? m : { ...m, userGroupId: null, name: null },
      ),
      paths: held.paths.map((p) => ({
        ...p,
        userGroup: p.userGroup && groups.has(p.userGroup.id) ? p.userGroup : null,
        studentId: p.studentId && visible.has(p.studentId) ? p.studentId : null,
        student:
          p.studentId && visible.has(p.studentId)
            ? { id: p.studentId, name: studentNames.get(p.studentId) ?? '' }
            : null,
        redacted: p.studentId !== null && !visible.has(p.studentId),
      })),
      blocks: shownBlocks.map((b) => ({
        id: b.id,
        student: { id: b.studentId, name: studentNames.get(b.studentId) ?? '' },
        reason: b.reason,
        since: b.since,
        by: b.by,
      })),
      hiddenBlocks: held.blocks.length - shownBlocks.length,
      visibleStudents: held.visibleStudents,
      groupPermissions: withholdUnseenSets(held.groupPermissions, groups),
    };
  }
}
