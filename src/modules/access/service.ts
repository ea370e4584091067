import { z } from 'zod';
import { requireSomewhere, viewerOf } from '../../access/decide.ts';
import { effectivePermissions, explainStudentAccess, pathsFor } from '../../access/explain.ts';
import type { Principal } from '../../access/principal.ts';
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
import { findSchool, scopeNames } from '../organisations/repository.ts';
import { findVisibleStudent, visibleStudentIds } from '../students/repository.ts';
import { findUser } from '../users/repository.ts';
import { presentHeldGrant } from '../users/service.ts';

const userCursor = z.tuple([z.string(), z.string()]);

export class AccessService {
  constructor(private readonly database: Database) {}

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
    return {
      ...explanation,
      asOf: query.asOf ?? null,
      user: { id: user.id, name: user.name },
      student: { id: student.id, name: `${student.given_name} ${student.family_name}` },
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
    return {
      asOf: query.asOf ?? null,
      items: page.items.map((u) => ({ user: u, paths: paths.get(u.id) ?? [] })),
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
    const visible = await visibleStudentIds(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      mentioned,
    );
    const studentNames = new Map(
      visible.size === 0
        ? []
        : (
            await db
              .selectFrom('students')
              .select(['id', 'given_name', 'family_name'])
              .where('id', 'in', [...visible])
              .execute()
          ).map((s) => [s.id, `${s.given_name} ${s.family_name}`]),
    );
    const shownBlocks = held.blocks.filter((b) => visible.has(b.studentId));
    return {
      asOf: asOf ?? null,
      user: {
        id: user.id,
        name: user.name,
        email: user.email,
        status: user.disabled_at ? 'disabled' : 'active',
      },
      roles: held.roles.map((g) => presentHeldGrant(g, names)),
      clearances: held.clearances,
      memberships: held.memberships,
      paths: held.paths.map((p) => ({
        ...p,
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
    };
  }
}
