import { can, permissionDenied } from '../../access/decide.ts';
import { requireImport } from '../../access/imports.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { HavenError, invalidField, validationFailed } from '../../lib/errors.ts';
import type { ChangeOrigin } from '../audit/change.ts';
import * as cells from '../imports/cells.ts';
import { mapHeadings, type StudentColumn, studentHeadings } from '../imports/headings.ts';
import { byRow, type ImportProblem, readCsvText, rowProblem } from '../imports/problems.ts';
import { type CsvImportReport, concludeCsv, csvImportReport } from '../imports/report.ts';
import { type ImportOptions, ImportRun } from '../imports/runs.ts';
import { listSchools } from '../organisations/repository.ts';
import type { StudentInput } from './schema.ts';
import { planStudents, type StudentCandidate, type StudentField, writeStudents } from './upsert.ts';

export type { ImportProblem } from '../imports/problems.ts';

export interface StudentImportOptions extends ImportOptions {
  /** The school of every row that names none (an MIS export has no school column). */
  schoolId?: string | undefined;
}

export type ImportReport = CsvImportReport;

/** Fields a student row fills directly from a cell, and how each cell is read. */
const readers: Partial<
  Record<StudentColumn, (raw: string) => cells.Cell<StudentInput[StudentField] | null>>
> = {
  upn: cells.upnCell,
  givenName: (raw) => cells.personName(raw, 'forename', true),
  familyName: (raw) => cells.personName(raw, 'surname', true),
  preferredName: (raw) => cells.personName(raw, 'preferred forename', false),
  dateOfBirth: (raw) => cells.ukDate(raw, 'date of birth'),
  yearGroup: cells.yearGroup,
  house: (raw) => cells.personName(raw, 'house', false),
  senStatus: cells.senStatus,
  flags: (raw) => cells.labels(raw, 'flag'),
  tags: (raw) => cells.labels(raw, 'tag'),
  onRoll: (raw) => cells.yesNo(raw, 'on roll'),
};

/**
 * Reads a students CSV as a school's MIS exports it (docs/imports.md), finds every problem row
 * by row, and writes it in one change: a child whose UPN the organisation holds is updated (as
 * an edit, with a revision), the others are added. With problems, nothing is written unless
 * `onError` is `skip`; a dry run reports the same and writes nothing.
 */
export async function importStudents(
  database: Database,
  principal: Principal,
  csv: string,
  options: StudentImportOptions,
  origin: ChangeOrigin,
): Promise<ImportReport> {
  requireImport(principal, 'students');
  const schools = await listSchools(database.db, principal.organisationId);
  if (options.schoolId !== undefined && !schools.some((s) => s.id === options.schoolId)) {
    throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
      field: 'schoolId',
    });
  }
  if (
    options.schoolId !== undefined &&
    !can(principal, 'students.create', { type: 'school', id: options.schoolId }) &&
    !can(principal, 'students.update', { type: 'school', id: options.schoolId })
  )
    throw permissionDenied('students.create');

  const run = await ImportRun.start(database, principal, 'students', options, origin);
  return run.guard(async () => {
    const { head, body } = readCsvText(csv);
    const map = mapHeadings(head, studentHeadings);
    const at = map.at;
    // A file with preferred names only: they are the names.
    if (at.givenName === undefined && at.preferredName !== undefined) {
      at.givenName = at.preferredName;
      delete at.preferredName;
    }
    if (at.familyName === undefined && at.preferredSurname !== undefined) {
      at.familyName = at.preferredSurname;
      delete at.preferredSurname;
    }
    // Haven keeps one family name: a preferred surname is not stored (docs/imports.md).
    const unused = new Set(map.ignored);
    if (at.preferredSurname !== undefined) unused.add(head[at.preferredSurname]!);
    const missing: string[] = [];
    if (at.givenName === undefined)
      missing.push('a forename column (e.g. Legal Forename or Forename)');
    if (at.familyName === undefined)
      missing.push('a surname column (e.g. Legal Surname or Surname)');
    if (missing.length > 0)
      throw validationFailed(missing.map((m) => ({ field: 'body', message: `needs ${m}` })));
    const fixedSchool =
      options.schoolId ??
      (at.school === undefined && at.schoolId === undefined && schools.length === 1
        ? schools[0]!.id
        : undefined);
    if (fixedSchool === undefined && at.school === undefined && at.schoolId === undefined)
      throw invalidField(
        'schoolId',
        'choose the school these children are at (or give the file a School column)',
      );

    const columns = (Object.entries(at) as [StudentColumn, number][])
      .filter(([field]) => field !== 'preferredSurname')
      .sort((a, b) => a[1] - b[1])
      .map(([field, index]) => ({ column: head[index]!, field }));
    const ignoredColumns = head.filter((h) => unused.has(h));
    const columnOf = (field: StudentField | 'school') => {
      const index = field === 'school' ? (at.school ?? at.schoolId) : at[field];
      return index === undefined ? (field === 'school' ? 'School' : field) : head[index]!;
    };

    await run.begin(body.length, ignoredColumns);
    const byName = new Map(schools.map((s) => [s.name.trim().toLowerCase(), s.id]));
    const byId = new Set(schools.map((s) => s.id));
    const problems: ImportProblem[] = [];
    const candidates: StudentCandidate[] = [];
    const firstRowWith = new Map<string, number>();
    let processed = 0;
    for (const { line, cells: row } of body) {
      const fields: Partial<StudentInput> = {};
      let bad = false;
      for (const [field, read] of Object.entries(readers) as [
        StudentField,
        (raw: string) => cells.Cell<unknown>,
      ][]) {
        const index = at[field as StudentColumn];
        if (index === undefined) continue;
        const cell = read(row[index] ?? '');
        if (!cell.ok) {
          problems.push(rowProblem(line, head[index]!, cell.problem));
          bad = true;
        } else if (cell.value !== undefined) {
          (fields as Record<string, unknown>)[field] = cell.value;
        }
      }
      // A preferred forename the same as the legal one (as some systems export) is no other name.
      if (fields.preferredName && fields.preferredName === fields.givenName)
        fields.preferredName = null;
      // A UPN twice in the file: the later rows are refused, naming the first.
      const upn = fields.upn;
      if (upn) {
        const first = firstRowWith.get(upn);
        if (first !== undefined) {
          problems.push(
            rowProblem(line, columnOf('upn'), `the UPN ${upn} is also on row ${first}`),
          );
          bad = true;
        } else {
          firstRowWith.set(upn, line);
        }
      }
      let schoolId = fixedSchool;
      const schoolAt = at.school ?? at.schoolId;
      if (schoolAt !== undefined) {
        const named = (row[schoolAt] ?? '').trim();
        if (named !== '') {
          schoolId = byName.get(named.toLowerCase()) ?? (byId.has(named) ? named : undefined);
          if (!schoolId) {
            problems.push(
              rowProblem(
                line,
                head[schoolAt]!,
                `there is no school called "${named}" in your organisation`,
              ),
            );
            bad = true;
          }
        } else if (!schoolId) {
          problems.push(rowProblem(line, head[schoolAt]!, 'the school is missing'));
          bad = true;
        }
      }
      if (!bad && schoolId) candidates.push({ line, schoolId, fields, columnOf });
      processed += 1;
      await run.checked(processed);
    }
    const plan = await planStudents(database, principal, candidates);
    // Row by row, and within a row in the file's column order.
    const errors = [...problems, ...plan.problems].sort(
      (a, b) => byRow(a, b) || head.indexOf(a.column) - head.indexOf(b.column),
    );
    const report = csvImportReport(run, {
      rows: body.length,
      plan,
      errors,
      ignoredColumns,
      columns,
    });
    return concludeCsv(run, report, plan, async (change, wrote) => {
      const written = await writeStudents(change, principal.organisationId, plan, {
        runId: run.id,
        progress: wrote,
      });
      report.created = written.created.length;
      report.updated = written.updated.length;
    });
  });
}
