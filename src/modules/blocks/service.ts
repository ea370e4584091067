import { z } from 'zod';
import { requirePermission, requireSomewhere, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import { studentVisibleTo } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { BlocksTable } from '../../db/tables.ts';
import { conflict, HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { partyName, queueSecurityAlert } from '../notifications/queue.ts';
import { findVisibleStudent } from '../students/repository.ts';
import { findUser } from '../users/repository.ts';

export function presentBlock(row: BlocksTable) {
  return {
    id: row.id,
    userId: row.user_id,
    studentId: row.student_id,
    reason: row.reason,
    createdBy: row.created_by,
    since: row.valid_from,
    until: row.valid_to,
  };
}

const blockCursor = z.tuple([z.string()]);

/**
 * Blocks hide a child from a named member of staff, whatever else grants access (spec
 * section 3): typically a staff member who is the child's parent or relative.
 */
export class BlockService {
  constructor(private readonly database: Database) {}

  async create(
    principal: Principal,
    input: { userId: string; studentId: string; reason: string },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      if (!(await findUser(change.db, organisationId, input.userId))) {
        throw new HavenError(404, 'not_found', 'Not found', 'User not found', { field: 'userId' });
      }
      const student = await findVisibleStudent(
        change.db,
        { organisationId },
        viewerOf(principal),
        input.studentId,
      );
      if (!student)
        throw new HavenError(404, 'not_found', 'Not found', 'Student not found', {
          field: 'studentId',
        });
      requirePermission(principal, 'blocks.manage', { type: 'school', id: student.school_id });
      const existing = await change.db
        .selectFrom('blocks')
        .select('id')
        .where('user_id', '=', input.userId)
        .where('student_id', '=', input.studentId)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      if (existing)
        throw conflict('This child is already blocked for this user', 'already_blocked');
      const row: BlocksTable = {
        id: newId(),
        organisation_id: organisationId,
        user_id: input.userId,
        student_id: input.studentId,
        reason: input.reason,
        created_by: principal.userId,
        removed_by: null,
        removal_reason: null,
        valid_from: change.now,
        valid_to: null,
      };
      await change.db.insertInto('blocks').values(row).execute();
      change.record({
        action: 'block.create',
        targetType: 'student',
        targetId: input.studentId,
        after: { blockId: row.id, userId: input.userId, reason: input.reason },
      });
      return presentBlock(row);
    });
  }

  async remove(
    principal: Principal,
    blockId: string,
    reason: string | undefined,
    origin: ChangeOrigin,
  ) {
    await runChange(this.database, origin, (change) =>
      this.removeIn(change, principal, blockId, reason),
    );
  }

  /** Lifting a block inside a change (the widening preview runs it in one it rolls back). */
  async removeIn(change: Change, principal: Principal, blockId: string, reason?: string) {
    const organisationId = principal.organisationId;
    const block = await change.db
      .selectFrom('blocks')
      .selectAll()
      .where('organisation_id', '=', organisationId)
      .where('id', '=', blockId)
      .where('valid_to', 'is', null)
      .executeTakeFirst();
    if (!block) throw notFound('Block');
    const student = await findVisibleStudent(
      change.db,
      { organisationId },
      viewerOf(principal),
      block.student_id,
    );
    if (!student) throw notFound('Block');
    requirePermission(principal, 'blocks.manage', { type: 'school', id: student.school_id });
    await change.db
      .updateTable('blocks')
      .set({ valid_to: change.now, removed_by: principal.userId, removal_reason: reason ?? null })
      .where('id', '=', blockId)
      .execute();
    change.record({
      action: 'block.remove',
      targetType: 'student',
      targetId: block.student_id,
      before: { blockId, userId: block.user_id, reason: block.reason },
      meta: reason ? { reason } : {},
    });
    const [actor, kept] = await Promise.all([
      partyName(change, organisationId, { type: 'user', id: principal.userId }),
      partyName(change, organisationId, { type: 'user', id: block.user_id }),
    ]);
    // The child is not named: the alert reaches Owners and DSLs who may not see them.
    await queueSecurityAlert(
      change,
      organisationId,
      [{ type: 'school', id: student.school_id }],
      `${actor} lifted a block that kept ${kept} from a child's records.`,
    );
  }

  /** Current blocks on children the caller can see (Deputy DSL or higher). */
  async list(
    principal: Principal,
    query: {
      userId?: string | undefined;
      studentId?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    },
  ) {
    requireSomewhere(principal, 'blocks.manage');
    const db = this.database.db;
    const after = decodeCursor(query.cursor, blockCursor);
    let select = db
      .selectFrom('blocks as b')
      .innerJoin('users as u', 'u.id', 'b.user_id')
      .innerJoin('students as st', 'st.id', 'b.student_id')
      .selectAll('b')
      .select(['u.name as user_name', 'st.given_name', 'st.family_name'])
      .where('b.organisation_id', '=', principal.organisationId)
      .where('b.valid_to', 'is', null)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('students as s')
            .select('s.id')
            .whereRef('s.id', '=', 'b.student_id')
            .where((eb2) =>
              studentVisibleTo(
                db,
                eb2,
                { organisationId: principal.organisationId },
                viewerOf(principal),
              ),
            ),
        ),
      );
    if (query.userId) select = select.where('b.user_id', '=', query.userId);
    if (query.studentId) select = select.where('b.student_id', '=', query.studentId);
    if (after) select = select.where('b.id', '>', after[0]);
    const rows = await select
      .orderBy('b.id')
      .limit(query.limit + 1)
      .execute();
    // The names are for the list only; the child is one the caller can see (checked above).
    const present = (row: (typeof rows)[number]) => ({
      ...presentBlock(row),
      userName: row.user_name,
      studentName: `${row.given_name} ${row.family_name}`,
    });
    return toPage(rows, query.limit, present, (row) => [row.id]);
  }
}
