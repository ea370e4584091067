import { requireImport } from '../../access/imports.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { email as emailSchema } from '../../lib/schemas.ts';
import type { ChangeOrigin } from '../audit/change.ts';
import { listSchools } from '../organisations/repository.ts';
import type { StudentInput } from '../students/schema.ts';
import {
  planStudents,
  type StudentCandidate,
  type StudentField,
  writeStudents,
} from '../students/upsert.ts';
import { planStaff, type StaffCandidate, writeStaff } from '../users/import.ts';
import { normaliseEmail } from '../users/repository.ts';
import * as cells from './cells.ts';
import { byRow, type ImportProblem, rowProblem, rowsWithProblems } from './problems.ts';
import { type ImportOptions, ImportRun } from './runs.ts';
import type { RosterSource } from './source.ts';

/**
 * Applies a roster (`source.ts`) to the caller's organisation, in one change: its schools are
 * matched to Haven's, its pupils added or updated by UPN (taken off roll when the source removes
 * them), its teachers and other staff added holding only Member or renamed by email (disabled
 * when removed). Enrolments in classes are read to place people at schools; Haven has no
 * classes, so they go no further.
 */

export interface RosterImportOptions extends ImportOptions {
  /** The source's school (sourcedId or identifier) -> Haven's school id, where they differ. */
  schools?: Record<string, string> | undefined;
}

interface Counts {
  created: number;
  updated: number;
  unchanged: number;
}

export interface RosterImportReport {
  runId: string;
  dryRun: boolean;
  onError: 'stop' | 'skip';
  source: string;
  schools: { sourcedId: string; name: string; schoolId: string }[];
  students: Counts;
  staff: Counts;
  skipped: number;
  plan: {
    students: { create: number; update: number; unchanged: number };
    staff: { create: number; update: number; unchanged: number };
    skip: number;
  };
  errors: ImportProblem[];
  /** Files and columns ("users.csv: pronouns") the import does not use. */
  ignoredColumns: string[];
  notes: string[];
}

const studentColumns: Record<StudentField | 'school', string> = {
  schoolId: 'orgSourcedIds',
  school: 'orgSourcedIds',
  upn: 'identifier',
  givenName: 'givenName',
  familyName: 'familyName',
  preferredName: 'preferredGivenName',
  dateOfBirth: 'birthDate',
  yearGroup: 'grades',
  house: 'house',
  senStatus: 'senStatus',
  flags: 'flags',
  tags: 'tags',
  onRoll: 'status',
};

export async function importRoster(
  database: Database,
  principal: Principal,
  source: RosterSource,
  options: RosterImportOptions,
  origin: ChangeOrigin,
): Promise<RosterImportReport> {
  requireImport(principal, 'oneroster');
  const run = await ImportRun.start(database, principal, 'oneroster', options, origin);
  return run.guard(async () => {
    const problems: ImportProblem[] = source.problems.map((p) =>
      rowProblem(p.ref.line, p.column, p.message, p.ref.file),
    );
    const ours = await listSchools(database.db, principal.organisationId);
    const byId = new Map(ours.map((s) => [s.id, s]));
    const byName = new Map<string, (typeof ours)[number] | null>();
    for (const s of ours) {
      const key = s.name.trim().toLowerCase();
      byName.set(key, byName.has(key) ? null : s);
    }

    // Schools: by the id given for them, else Haven's id as sourcedId or identifier, else the name.
    const schoolOf = new Map<string, string>();
    const matched: RosterImportReport['schools'] = [];
    for await (const org of source.schools()) {
      const given = options.schools?.[org.sourcedId] ?? options.schools?.[org.identifier ?? ''];
      const school = given
        ? byId.get(given)
        : (byId.get(org.sourcedId) ??
          (org.identifier ? byId.get(org.identifier) : undefined) ??
          byName.get(org.name.trim().toLowerCase()) ??
          undefined);
      if (!school) {
        problems.push(
          rowProblem(
            org.ref.line,
            given ? 'schools' : 'identifier',
            given
              ? `the school given for "${org.name}" is not one of your organisation's schools`
              : `the school "${org.name}"${org.identifier ? ` (identifier ${org.identifier})` : ''} is not one of your organisation's schools: give Haven's school id as its identifier, or match it by name`,
            org.ref.file,
          ),
        );
        continue;
      }
      schoolOf.set(org.sourcedId, school.id);
      matched.push({ sourcedId: org.sourcedId, name: org.name, schoolId: school.id });
    }
    const placed = (schoolSourcedIds: readonly string[]) =>
      schoolSourcedIds.map((id) => schoolOf.get(id)).filter((id): id is string => !!id);

    const students: StudentCandidate[] = [];
    for await (const s of source.students()) {
      const at = (column: string, message: string) =>
        problems.push(rowProblem(s.ref.line, column, message, s.ref.file));
      const schools = placed(s.schoolSourcedIds);
      const upn = cells.upnCell(s.upn ?? '');
      let bad = false;
      if (!upn.ok || !upn.value) {
        at(
          'identifier',
          upn.ok
            ? 'the pupil has no UPN (give it in metadata.upn, in userIds as {UPN:...}, or as the identifier): Haven matches pupils by UPN'
            : upn.problem,
        );
        bad = true;
      }
      if (schools.length === 0) {
        at('orgSourcedIds', 'the pupil is at no school this import could match');
        bad = true;
      }
      const fields: Partial<StudentInput> = {};
      if (s.status === 'tobedeleted') {
        fields.onRoll = false;
      } else {
        const given = cells.personName(s.givenName, 'forename', true);
        const family = cells.personName(s.familyName, 'surname', true);
        const preferred = cells.personName(s.preferredGivenName ?? '', 'preferred forename', false);
        const born = cells.ukDate(s.birthDate ?? '', 'date of birth');
        const year = s.yearGroup === undefined ? undefined : cells.yearGroup(s.yearGroup);
        for (const [cell, column] of [
          [given, 'givenName'],
          [family, 'familyName'],
          [preferred, 'preferredGivenName'],
          [born, 'birthDate'],
          ...(year ? [[year, 'grades'] as const] : []),
        ] as const) {
          if (!cell.ok) {
            at(column, cell.problem);
            bad = true;
          }
        }
        if (given.ok) fields.givenName = given.value!;
        if (family.ok) fields.familyName = family.value!;
        if (preferred.ok && s.preferredGivenName !== undefined)
          fields.preferredName =
            given.ok && preferred.value === given.value ? null : preferred.value;
        if (born.ok && s.birthDate !== undefined) fields.dateOfBirth = born.value;
        if (year?.ok) fields.yearGroup = year.value;
        fields.onRoll = true;
      }
      if (bad) continue;
      fields.upn = upn.ok ? upn.value : null;
      students.push({
        line: s.ref.line,
        file: s.ref.file,
        schoolId: schools[0]!,
        fields,
        columnOf: (field) => studentColumns[field],
        modifiedAt: s.dateLastModified,
        updateOnly: s.status === 'tobedeleted',
      });
    }

    const staff: StaffCandidate[] = [];
    for await (const p of source.staff()) {
      const at = (column: string, message: string) =>
        problems.push(rowProblem(p.ref.line, column, message, p.ref.file));
      const email = normaliseEmail(p.email ?? '');
      if (!email) {
        at('email', 'the member of staff has no email address: Haven signs staff in by email');
        continue;
      }
      if (!emailSchema.safeParse(email).success) {
        at('email', `${email} is not an email address`);
        continue;
      }
      if (p.schoolSourcedIds.length > 0 && placed(p.schoolSourcedIds).length === 0) {
        at('orgSourcedIds', 'the member of staff is at no school this import could match');
        continue;
      }
      const name = cells.personName(
        `${p.preferredGivenName || p.givenName} ${p.preferredFamilyName || p.familyName}`,
        'name',
        true,
      );
      if (!name.ok) {
        at('givenName', name.problem);
        continue;
      }
      staff.push({
        line: p.ref.line,
        file: p.ref.file,
        email,
        name: name.value!,
        emailColumn: 'email',
        disable: p.status === 'tobedeleted',
      });
    }
    if (staff.length > 0) requireImport(principal, 'staff');

    await run.begin(students.length + staff.length, source.ignored);
    const studentPlan = await planStudents(database, principal, students);
    const staffPlan = await planStaff(database, principal, staff);
    await run.checked(students.length + staff.length, true);
    const errors = [...problems, ...studentPlan.problems, ...staffPlan.problems].sort(byRow);
    const badRows = rowsWithProblems(errors);
    const none = () => ({ created: 0, updated: 0, unchanged: 0 });
    const report: RosterImportReport = {
      runId: run.id,
      dryRun: run.dryRun,
      onError: run.onError,
      source: source.description,
      schools: matched,
      students: none(),
      staff: none(),
      skipped: 0,
      plan: {
        students: {
          create: studentPlan.creates.length,
          update: studentPlan.updates.length,
          unchanged: studentPlan.unchanged,
        },
        staff: {
          create: staffPlan.creates.length,
          update: staffPlan.updates.length,
          unchanged: staffPlan.unchanged,
        },
        skip: badRows,
      },
      errors,
      ignoredColumns: [...source.ignored],
      notes: [...source.notes],
    };
    const counts = () => ({
      studentsCreated: report.students.created,
      studentsUpdated: report.students.updated,
      studentsUnchanged: report.students.unchanged,
      staffCreated: report.staff.created,
      staffUpdated: report.staff.updated,
      staffUnchanged: report.staff.unchanged,
      skipped: report.skipped,
    });
    await run.conclude(
      {
        rows: students.length + staff.length,
        toWrite:
          studentPlan.creates.length +
          studentPlan.updates.length +
          staffPlan.creates.length +
          staffPlan.updates.length,
        errors,
        ignoredColumns: report.ignoredColumns,
        counts,
      },
      async (change, wrote) => {
        const pupils = await writeStudents(change, principal.organisationId, studentPlan, {
          runId: run.id,
          progress: wrote,
        });
        const done = pupils.created.length + pupils.updated.length;
        const people = await writeStaff(change, principal, staffPlan, {
          runId: run.id,
          progress: (n) => wrote(done + n),
        });
        report.students = {
          created: pupils.created.length,
          updated: pupils.updated.length,
          unchanged: studentPlan.unchanged,
        };
        report.staff = {
          created: people.createdIds.length,
          updated: people.updated,
          unchanged: staffPlan.unchanged,
        };
        report.skipped = badRows;
      },
    );
    return report;
  });
}
