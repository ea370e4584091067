import { requirePermission, requireSomewhere, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { conflict, HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import {
  findStudentInOrganisation,
  findVisibleStudent,
  visibleStudentIds,
} from '../students/repository.ts';
import { findUser } from '../users/repository.ts';

/**
 * Direct links from a user to specific students: how external partners (a social worker, an
 * educational psychologist) see only the children they work with (spec section 3).
 */
export class DirectLinkService {
  constructor(private readonly database: Database) {}

  async link(principal: Principal, userId: string, studentId: string, origin: ChangeOrigin) {
    return runChange(this.database, origin, (change) =>
      this.linkIn(change, principal, userId, studentId),
    );
  }

  /** A direct link inside a change (the widening preview runs it in one it rolls back). */
  async linkIn(change: Change, principal: Principal, userId: string, studentId: string) {
    const organisationId = principal.organisationId;
    if (!(await findUser(change.db, organisationId, userId))) throw notFound('User');
    const student = await findVisibleStudent(
      change.db,
      { organisationId },
      viewerOf(principal),
      studentId,
    );
    if (!student)
      throw new HavenError(404, 'not_found', 'Not found', 'Student not found', {
        field: 'studentId',
      });
    requirePermission(principal, 'user_groups.manage', { type: 'school', id: student.school_id });
    const existing = await change.db
      .selectFrom('student_links')
      .select('id')
      .where('user_id', '=', userId)
      .where('student_id', '=', studentId)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (existing) throw conflict('This user is already linked to this student', 'already_linked');
    const id = newId();
    await change.db
      .insertInto('student_links')
      .values({
        id,
        organisation_id: organisationId,
        user_group_id: null,
        user_id: userId,
        student_group_id: null,
        student_id: studentId,
        created_by: principal.userId,
        removed_by: null,
        valid_from: change.now,
        valid_to: null,
      })
      .execute();
    change.record({
      action: 'user.link.add',
      targetType: 'user',
      targetId: userId,
      after: { linkId: id, studentId },
    });
    return { id };
  }

  async unlink(principal: Principal, userId: string, linkId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const link = await change.db
        .selectFrom('student_links')
        .selectAll()
        .where('organisation_id', '=', organisationId)
        .where('id', '=', linkId)
        .where('user_id', '=', userId)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      if (!link) throw notFound('Link');
      const student = await findStudentInOrganisation(change.db, organisationId, link.student_id!);
      if (student)
        requirePermission(principal, 'user_groups.manage', {
          type: 'school',
          id: student.school_id,
        });
      else
        requirePermission(principal, 'user_groups.manage', {
          type: 'organisation',
          id: organisationId,
        });
      await change.db
        .updateTable('student_links')
        .set({ valid_to: change.now, removed_by: principal.userId })
        .where('id', '=', linkId)
        .execute();
      change.record({
        action: 'user.link.remove',
        targetType: 'user',
        targetId: userId,
        before: { linkId, studentId: link.student_id },
      });
    });
  }

  async list(principal: Principal, userId: string) {
    requireSomewhere(principal, 'users.manage');
    const db = this.database.db;
    if (!(await findUser(db, principal.organisationId, userId))) throw notFound('User');
    const links = await db
      .selectFrom('student_links as l')
      .innerJoin('students as s', 's.id', 'l.student_id')
      .select(['l.id', 'l.student_id', 'l.valid_from', 's.given_name', 's.family_name'])
      .where('l.organisation_id', '=', principal.organisationId)
      .where('l.user_id', '=', userId)
      .where('l.valid_to', 'is', null)
      .orderBy('l.valid_from')
      .execute();
    const visible = await visibleStudentIds(
      db,
      { organisationId: principal.organisationId },
      viewerOf(principal),
      links.map((l) => l.student_id!),
    );
    return links.map((l) => {
      const shown = visible.has(l.student_id!);
      return {
        id: l.id,
        since: l.valid_from,
        student: shown ? { id: l.student_id!, name: `${l.given_name} ${l.family_name}` } : null,
        redacted: !shown,
      };
    });
  }
}
