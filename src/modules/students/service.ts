import { z } from 'zod';
import { requirePermission, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { AccessTime } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { StudentsTable } from '../../db/tables.ts';
import { toCsv } from '../../lib/csv.ts';
import { conflict, HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { type Change, type ChangeOrigin, runChange, runRead } from '../audit/change.ts';
import { findSchool, listSchools } from '../organisations/repository.ts';
import {
  endStudentGroupMemberships,
  recountStudentGroup,
  syncNewStudentsIntoGroups,
  syncStudentsIntoGroups,
} from '../student-groups/membership.ts';
import { countVisibleStudents } from './count.ts';
import { keyStageOf, nameKey, searchWords } from './names.ts';
import {
  findStudentByUpn,
  findVisibleStudent,
  findVisibleStudentWithPath,
  insertLabels,
  pageOfVisibleStudents,
  replaceLabels,
  type StudentFilter,
  type StudentRow,
} from './repository.ts';
import type { StudentInput, StudentPatch, StudentView } from './schema.ts';

export function presentStudent(row: StudentRow): StudentView {
  return {
    id: row.id,
    schoolId: row.school_id,
    upn: row.upn,
    givenName: row.given_name,
    familyName: row.family_name,
    preferredName: row.preferred_name,
    dateOfBirth: row.date_of_birth,
    yearGroup: row.year_group,
    keyStage: row.key_stage,
    house: row.house,
    senStatus: row.sen_status as StudentView['senStatus'],
    flags: JSON.parse(row.flags) as string[],
    tags: JSON.parse(row.tags) as string[],
    onRoll: row.on_roll === 1,
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What the audit log keeps of a student: the record's fields, without internal keys. */
function auditFields(row: StudentRow) {
  const { id: _id, createdAt: _c, updatedAt: _u, revision: _r, ...fields } = presentStudent(row);
  return fields;
}

function toRow(
  organisationId: string,
  id: string,
  input: StudentInput,
  now: string,
): StudentsTable {
  const yearGroup = input.yearGroup ?? null;
  const unique = (values: string[] | undefined) => [...new Set(values ?? [])].sort();
  const keys = {
    upn: input.upn ? input.upn.toUpperCase() : null,
    family_key: nameKey(input.familyName),
    given_key: nameKey(input.givenName),
    preferred_key: input.preferredName ? nameKey(input.preferredName) : null,
  };
  return {
    id,
    organisation_id: organisationId,
    school_id: input.schoolId,
    given_name: input.givenName,
    family_name: input.familyName,
    preferred_name: input.preferredName ?? null,
    ...keys,
    date_of_birth: input.dateOfBirth ?? null,
    year_group: yearGroup,
    key_stage: keyStageOf(yearGroup),
    house: input.house ?? null,
    sen_status: input.senStatus ?? 'none',
    flags: JSON.stringify(unique(input.flags)),
    tags: JSON.stringify(unique(input.tags)),
    on_roll: input.onRoll === false ? 0 : 1,
    revision: 1,
    created_at: now,
    updated_at: now,
    deleted_at: null,
    // The same words `insertLabels` writes as tokens, from the same keys.
    search_words: searchWords(keys),
  };
}

/** A student's record as the fields an edit or an import starts from. */
export function fromRow(row: StudentRow): StudentInput {
  const view = presentStudent(row);
  return {
    schoolId: view.schoolId,
    upn: view.upn,
    givenName: view.givenName,
    familyName: view.familyName,
    preferredName: view.preferredName,
    dateOfBirth: view.dateOfBirth,
    yearGroup: view.yearGroup,
    house: view.house,
    senStatus: view.senStatus,
    flags: view.flags,
    tags: view.tags,
    onRoll: view.onRoll,
  };
}

/** Inserts students with their labels, then lets every automatic group take them in. */
export async function insertStudents(
  change: Change,
  organisationId: string,
  inputs: readonly StudentInput[],
  progress?: (written: number) => void,
): Promise<StudentRow[]> {
  const rows = inputs.map((input) => toRow(organisationId, newId(), input, change.now));
  for (let i = 0; i < rows.length; i += 200) {
    const slice = rows.slice(i, i + 200);
    await change.db.insertInto('students').values(slice).execute();
    await insertLabels(change.db, slice);
    progress?.(i + slice.length);
  }
  // A large batch joins its groups one statement per group; a few students, per student.
  if (rows.length > 1000) await syncNewStudentsIntoGroups(change, organisationId);
  else
    await syncStudentsIntoGroups(
      change,
      organisationId,
      rows.map((r) => r.id),
    );
  return rows;
}

export interface StudentUpdate {
  before: StudentRow;
  /** The whole record after the edit. */
  next: StudentInput;
}

/**
 * Writes edits of students as an edit does: the next revision, labels and search words, the
 * automatic groups refreshed, and one `student.update` audit entry per child naming only the
 * fields that changed. The caller has checked permissions and that the UPNs are free.
 */
export async function updateStudents(
  change: Change,
  organisationId: string,
  updates: readonly StudentUpdate[],
  options: { meta?: Record<string, unknown>; progress?: (written: number) => void } = {},
): Promise<StudentRow[]> {
  const written: StudentRow[] = [];
  for (const { before, next: input } of updates) {
    const next = {
      ...toRow(organisationId, before.id, input, change.now),
      created_at: before.created_at,
      revision: before.revision + 1,
    };
    await change.db.updateTable('students').set(next).where('id', '=', before.id).execute();
    await replaceLabels(change.db, next);
    const was = auditFields(before);
    const now = auditFields(next);
    const changed = (Object.keys(now) as (keyof typeof now)[]).filter(
      (k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]),
    );
    change.record({
      action: 'student.update',
      targetType: 'student',
      targetId: before.id,
      before: Object.fromEntries(changed.map((k) => [k, was[k]])),
      after: Object.fromEntries(changed.map((k) => [k, now[k]])),
      ...(options.meta ? { meta: options.meta } : {}),
    });
    written.push(next);
    options.progress?.(written.length);
  }
  await syncStudentsIntoGroups(
    change,
    organisationId,
    written.map((r) => r.id),
  );
  return written;
}

const studentCursor = z.tuple([z.string(), z.string(), z.string()]);

export interface StudentListQuery extends StudentFilter {
  limit: number;
  cursor?: string | undefined;
}

export class StudentService {
  constructor(private readonly database: Database) {}

  #now(principal: Principal): AccessTime {
    return { organisationId: principal.organisationId };
  }

  async create(
    principal: Principal,
    input: StudentInput,
    origin: ChangeOrigin,
  ): Promise<StudentView> {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      if (!(await findSchool(change.db, organisationId, input.schoolId))) {
        throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
          field: 'schoolId',
        });
      }
      requirePermission(principal, 'students.create', { type: 'school', id: input.schoolId });
      if (
        input.upn &&
        (await findStudentByUpn(change.db, organisationId, input.upn.toUpperCase()))
      ) {
        throw conflict('A student with this UPN already exists', 'upn_taken');
      }
      const [row] = await insertStudents(change, organisationId, [input]);
      change.record({
        action: 'student.create',
        targetType: 'student',
        targetId: row!.id,
        after: auditFields(row!),
      });
      return presentStudent(row!);
    });
  }

  /** The path that lets the caller see the child, for the access log: a user group and student group, or a direct link. */
  /**
   * A child's profile as read by the caller, with the access path the read's log row records:
   * one statement (`findVisibleStudentWithPath`). 404 if the caller cannot see them.
   */
  async read(principal: Principal, studentId: string) {
    const found = await findVisibleStudentWithPath(
      this.database.db,
      principal.organisationId,
      viewerOf(principal),
      studentId,
    );
    if (!found) throw notFound('Student');
    return { student: presentStudent(found.student), path: found.path };
  }

  /** One page of the students the caller can see: one query, with search, sort and cursor inside it. */
  async list(principal: Principal, query: StudentListQuery) {
    const after = decodeCursor(query.cursor, studentCursor);
    const rows = await pageOfVisibleStudents(
      this.database.db,
      this.#now(principal),
      viewerOf(principal),
      {
        ...query,
        limit: query.limit + 1,
        after,
      },
    );
    return toPage(rows, query.limit, presentStudent, (row) => [
      row.family_key,
      row.given_key,
      row.id,
    ]);
  }

  async count(principal: Principal, filter: StudentFilter): Promise<number> {
    return countVisibleStudents(
      this.database.db,
      this.#now(principal),
      viewerOf(principal),
      filter,
    );
  }

  /** CSV of every student the caller can see that matches; the export itself is logged. */
  async exportCsv(
    principal: Principal,
    filter: StudentFilter,
    origin: ChangeOrigin,
  ): Promise<string> {
    const db = this.database.db;
    const schools = new Map(
      (await listSchools(db, principal.organisationId)).map((s) => [s.id, s.name]),
    );
    const header = [
      'id',
      'upn',
      'givenName',
      'familyName',
      'preferredName',
      'dateOfBirth',
      'school',
      'yearGroup',
      'keyStage',
      'house',
      'senStatus',
      'flags',
      'tags',
      'onRoll',
    ];
    const lines: unknown[][] = [header];
    let cursor: string | undefined;
    do {
      const page = await this.list(principal, { ...filter, limit: 200, cursor });
      for (const s of page.items) {
        lines.push([
          s.id,
          s.upn,
          s.givenName,
          s.familyName,
          s.preferredName,
          s.dateOfBirth,
          schools.get(s.schoolId) ?? s.schoolId,
          s.yearGroup,
          s.keyStage,
          s.house,
          s.senStatus,
          s.flags.join(';'),
          s.tags.join(';'),
          s.onRoll ? 'yes' : 'no',
        ]);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    await runRead(this.database, origin, async (change) => {
      change.record({
        category: 'access',
        action: 'student.export',
        targetType: 'student_list',
        meta: { filter, rows: lines.length - 1 },
      });
    });
    return toCsv(lines);
  }

  async update(
    principal: Principal,
    studentId: string,
    patch: StudentPatch,
    origin: ChangeOrigin,
  ): Promise<StudentView> {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const before = await findVisibleStudent(
        change.db,
        this.#now(principal),
        viewerOf(principal),
        studentId,
      );
      if (!before) throw notFound('Student');
      requirePermission(principal, 'students.update', { type: 'school', id: before.school_id });
      if (patch.schoolId !== undefined && patch.schoolId !== before.school_id) {
        if (!(await findSchool(change.db, organisationId, patch.schoolId))) {
          throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
            field: 'schoolId',
          });
        }
        requirePermission(principal, 'students.update', { type: 'school', id: patch.schoolId });
      }
      const merged: StudentInput = { ...fromRow(before) };
      for (const [key, value] of Object.entries(patch)) {
        if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
      }
      const upn = merged.upn ? merged.upn.toUpperCase() : null;
      if (upn && upn !== before.upn && (await findStudentByUpn(change.db, organisationId, upn))) {
        throw conflict('A student with this UPN already exists', 'upn_taken');
      }
      const [next] = await updateStudents(change, organisationId, [{ before, next: merged }]);
      return presentStudent(next!);
    });
  }

  /** Soft delete: the record stays, hidden from every list, and leaves every group. */
  async remove(principal: Principal, studentId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      const before = await findVisibleStudent(
        change.db,
        this.#now(principal),
        viewerOf(principal),
        studentId,
      );
      if (!before) throw notFound('Student');
      requirePermission(principal, 'students.delete', { type: 'school', id: before.school_id });
      await change.db
        .updateTable('students')
        .set({ deleted_at: change.now, updated_at: change.now })
        .where('id', '=', studentId)
        .execute();
      const groups = await change.db
        .selectFrom('student_group_members')
        .select('student_group_id')
        .where('student_id', '=', studentId)
        .where('valid_to', 'is', null)
        .execute();
      for (const { student_group_id } of groups) {
        await endStudentGroupMemberships(change, student_group_id, (eb) =>
          eb('student_id', '=', studentId),
        );
        await recountStudentGroup(change, student_group_id);
      }
      change.record({
        action: 'student.delete',
        targetType: 'student',
        targetId: studentId,
        before: auditFields(before),
      });
    });
  }
}
