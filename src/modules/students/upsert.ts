import { can, viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { Change } from '../audit/change.ts';
import { type ImportProblem, rowProblem } from '../imports/problems.ts';
import { listSchools } from '../organisations/repository.ts';
import { type StudentRow, visibleStudentIds } from './repository.ts';
import { createStudentBody, type StudentInput } from './schema.ts';
import { fromRow, insertStudents, type StudentUpdate, updateStudents } from './service.ts';

/**
 * Children from an import (a CSV export, a OneRoster bundle): a child whose UPN the
 * organisation already holds is updated, the others are added. Planned first (every problem
 * found, nothing written), then written in the import's one change.
 */

export type StudentField = keyof StudentInput;

export interface StudentCandidate {
  line: number;
  /** A bundle's file the row is in. */
  file?: string | undefined;
  schoolId: string;
  /** What the source gives; a field it leaves out keeps its value when the child is updated. */
  fields: Partial<StudentInput>;
  /** The column each field came from, to name in a problem. */
  columnOf: (field: StudentField | 'school') => string;
  /** When the source last changed the record: an update older than Haven's copy is passed over. */
  modifiedAt?: string | undefined;
  /** Only update a child Haven holds (a source's removal of a child Haven never had adds nobody). */
  updateOnly?: boolean | undefined;
}

export interface StudentPlan {
  creates: { line: number; input: StudentInput }[];
  updates: (StudentUpdate & { line: number })[];
  unchanged: number;
  problems: ImportProblem[];
  /** Lines with at least one problem. */
  badLines: Set<string>;
}

const lineKey = (c: { line: number; file?: string | undefined }) => `${c.file ?? ''}:${c.line}`;

function normalised(input: StudentInput) {
  const unique = (values: string[] | undefined) => [...new Set(values ?? [])].sort();
  return {
    schoolId: input.schoolId,
    upn: input.upn ? input.upn.toUpperCase() : null,
    givenName: input.givenName,
    familyName: input.familyName,
    preferredName: input.preferredName ?? null,
    dateOfBirth: input.dateOfBirth ?? null,
    yearGroup: input.yearGroup ?? null,
    house: input.house ?? null,
    senStatus: input.senStatus ?? 'none',
    flags: unique(input.flags),
    tags: unique(input.tags),
    onRoll: input.onRoll !== false,
  };
}

export function sameStudent(a: StudentInput, b: StudentInput): boolean {
  return JSON.stringify(normalised(a)) === JSON.stringify(normalised(b));
}

/** Finds every problem and sorts the rows into children to add, to update and unchanged. */
export async function planStudents(
  database: Database,
  principal: Principal,
  candidates: readonly StudentCandidate[],
): Promise<StudentPlan> {
  const db = database.db;
  const organisationId = principal.organisationId;
  const problems: ImportProblem[] = [];
  const badLines = new Set<string>();
  const report = (c: StudentCandidate, column: string, message: string) => {
    problems.push(rowProblem(c.line, column, message, c.file));
    badLines.add(lineKey(c));
  };
  const schoolNames = new Map(
    (await listSchools(db, organisationId)).map((s) => [s.id, s.name] as const),
  );

  // A UPN twice in one file: the later rows are refused, naming the first.
  const firstWithUpn = new Map<string, StudentCandidate>();
  for (const c of candidates) {
    const upn = c.fields.upn;
    if (!upn) continue;
    const first = firstWithUpn.get(upn);
    if (first)
      report(
        c,
        c.columnOf('upn'),
        `the UPN ${upn} is also on ${first.file ? `${first.file} ` : ''}row ${first.line}`,
      );
    else firstWithUpn.set(upn, c);
  }

  const existing = new Map<string, StudentRow>();
  for (const slice of chunks([...firstWithUpn.keys()])) {
    const rows = await db
      .selectFrom('students')
      .selectAll()
      .where('organisation_id', '=', organisationId)
      .where('upn', 'in', slice)
      .where('deleted_at', 'is', null)
      .execute();
    for (const row of rows) existing.set(row.upn!, row);
  }
  const visible = await visibleStudentIds(
    db,
    { organisationId },
    viewerOf(principal),
    [...existing.values()].map((r) => r.id),
  );

  const creates: StudentPlan['creates'] = [];
  const updates: StudentPlan['updates'] = [];
  let unchanged = 0;
  for (const c of candidates) {
    if (badLines.has(lineKey(c))) continue;
    const school = schoolNames.get(c.schoolId);
    if (!school) {
      report(c, c.columnOf('school'), 'the school is not one of your organisation’s schools');
      continue;
    }
    const before = c.fields.upn ? existing.get(c.fields.upn) : undefined;
    if (!before && c.updateOnly) {
      unchanged += 1;
      continue;
    }
    const input: Record<string, unknown> = before ? { ...fromRow(before) } : {};
    for (const [key, value] of Object.entries(c.fields)) {
      if (value !== undefined) input[key] = value;
    }
    input.schoolId = c.schoolId;
    if (before) {
      if (before.school_id !== c.schoolId) {
        report(
          c,
          c.columnOf('upn'),
          `the UPN ${before.upn} belongs to a child at another school (${schoolNames.get(before.school_id) ?? 'another school'}); a move between schools is made as a transfer, not by an import`,
        );
        continue;
      }
      if (!can(principal, 'students.update', { type: 'school', id: c.schoolId })) {
        report(
          c,
          c.columnOf('upn'),
          `you may not change children's details at ${school} (it needs Admin or higher)`,
        );
        continue;
      }
      if (!visible.has(before.id)) {
        report(
          c,
          c.columnOf('upn'),
          `the UPN ${before.upn} belongs to a child you cannot see, so this row cannot update them`,
        );
        continue;
      }
    } else if (!can(principal, 'students.create', { type: 'school', id: c.schoolId })) {
      report(
        c,
        c.columnOf('school'),
        `you may not add children at ${school} (it needs Admin or higher)`,
      );
      continue;
    }
    const parsed = createStudentBody.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '') as StudentField;
        report(c, c.columnOf(field), `${c.columnOf(field)} ${issue.message}`);
      }
      continue;
    }
    if (!before) {
      creates.push({ line: c.line, input: parsed.data });
    } else if (sameStudent(fromRow(before), parsed.data)) {
      unchanged += 1;
    } else if (c.modifiedAt && c.modifiedAt < before.updated_at) {
      // The source's copy is older than Haven's last change: Haven's is kept.
      unchanged += 1;
    } else {
      updates.push({ line: c.line, before, next: parsed.data });
    }
  }
  return { creates, updates, unchanged, problems, badLines };
}

/** Writes a plan in the import's change; the caller has decided the plan may be written. */
export async function writeStudents(
  change: Change,
  organisationId: string,
  plan: Pick<StudentPlan, 'creates' | 'updates'>,
  options: { runId: string; progress?: (written: number) => void },
): Promise<{ created: StudentRow[]; updated: StudentRow[] }> {
  const created = await insertStudents(
    change,
    organisationId,
    plan.creates.map((c) => c.input),
    options.progress,
  );
  for (const slice of chunks(created, 5000)) {
    change.record({
      action: 'student.import',
      targetType: 'student_import',
      after: { count: slice.length, studentIds: slice.map((r) => r.id) },
      meta: { importRunId: options.runId },
    });
  }
  const updated = await updateStudents(change, organisationId, plan.updates, {
    meta: { importRunId: options.runId },
    progress: (n) => options.progress?.(created.length + n),
  });
  return { created, updated };
}
