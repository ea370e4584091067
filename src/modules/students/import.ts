import { parse } from 'csv-parse/sync';
import { can } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import { validationFailed } from '../../lib/errors.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { listSchools } from '../organisations/repository.ts';
import { createStudentBody, type StudentInput, upn } from './schema.ts';
import { insertStudents } from './service.ts';

/** Column headings Haven understands, compared without case, spaces or punctuation. */
const headings: Record<string, keyof StudentInput | 'school'> = {
  upn: 'upn',
  givenname: 'givenName',
  firstname: 'givenName',
  forename: 'givenName',
  familyname: 'familyName',
  surname: 'familyName',
  lastname: 'familyName',
  preferredname: 'preferredName',
  dateofbirth: 'dateOfBirth',
  dob: 'dateOfBirth',
  school: 'school',
  schoolid: 'schoolId',
  yeargroup: 'yearGroup',
  year: 'yearGroup',
  house: 'house',
  senstatus: 'senStatus',
  sen: 'senStatus',
  flags: 'flags',
  tags: 'tags',
  onroll: 'onRoll',
};

export interface ImportProblem {
  line: number;
  column: string;
  message: string;
}

export interface ImportReport {
  dryRun: boolean;
  rows: number;
  created: number;
  errors: ImportProblem[];
}

const MAX_ROWS = 200_000;

function cellValue(field: string, raw: string): unknown {
  const value = raw.trim();
  switch (field) {
    case 'yearGroup': {
      if (value === '') return null;
      if (/^r(eception)?$/i.test(value)) return 0;
      if (/^n(ursery)?$/i.test(value)) return -1;
      const n = Number(value.replace(/^year\s*/i, ''));
      return Number.isFinite(n) ? n : value;
    }
    case 'flags':
    case 'tags':
      return value === ''
        ? []
        : value
            .split(/[;|]/)
            .map((v) => v.trim().toLowerCase())
            .filter(Boolean);
    case 'onRoll':
      if (/^(yes|y|true|1|on)$/i.test(value)) return true;
      if (/^(no|n|false|0|off)$/i.test(value)) return false;
      return value === '' ? undefined : value;
    case 'senStatus':
      return value === '' ? undefined : value === 'N' ? 'none' : value;
    default:
      return value === ''
        ? ['givenName', 'familyName', 'schoolId'].includes(field)
          ? ''
          : null
        : value;
  }
}

/**
 * Reads a students CSV. Every bad row is reported by line and column; if any row is bad,
 * nothing is written. A dry run reports the same without writing.
 */
export async function importStudents(
  database: Database,
  principal: Principal,
  csv: string,
  options: { dryRun: boolean },
  origin: ChangeOrigin,
): Promise<ImportReport> {
  const errors: ImportProblem[] = [];
  let records: string[][];
  try {
    records = parse(csv, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: false,
    });
  } catch (error) {
    throw validationFailed([
      { field: 'body', message: `is not readable CSV: ${(error as Error).message}` },
    ]);
  }
  const [head, ...body] = records;
  if (!head)
    throw validationFailed([
      { field: 'body', message: 'is empty: the first line must name the columns' },
    ]);
  if (body.length > MAX_ROWS) {
    throw validationFailed([
      { field: 'body', message: `holds ${body.length} rows; at most ${MAX_ROWS} per import` },
    ]);
  }
  const columns = head.map((h) => headings[h.toLowerCase().replace(/[^a-z]/g, '')]);
  const unknown = head.filter((_, i) => columns[i] === undefined);
  if (unknown.length > 0) {
    throw validationFailed([{ field: 'body', message: `unknown columns: ${unknown.join(', ')}` }]);
  }
  for (const needed of ['givenName', 'familyName'] as const) {
    if (!columns.includes(needed))
      throw validationFailed([{ field: 'body', message: `needs a ${needed} column` }]);
  }
  if (!columns.includes('school') && !columns.includes('schoolId')) {
    throw validationFailed([{ field: 'body', message: 'needs a school or schoolId column' }]);
  }

  const schools = await listSchools(database.db, principal.organisationId);
  const byName = new Map(schools.map((s) => [s.name.toLowerCase(), s.id]));
  const byId = new Set(schools.map((s) => s.id));
  const seenUpns = new Map<string, number>();
  const inputs: { line: number; input: StudentInput }[] = [];

  body.forEach((cells, index) => {
    const line = index + 2;
    const candidate: Record<string, unknown> = {};
    let schoolColumn = 'schoolId';
    columns.forEach((field, i) => {
      const raw = cells[i] ?? '';
      if (field === 'school') {
        schoolColumn = head[i]!;
        const id =
          byName.get(raw.trim().toLowerCase()) ?? (byId.has(raw.trim()) ? raw.trim() : undefined);
        candidate.schoolId = id ?? '';
        if (!id)
          errors.push({ line, column: head[i]!, message: `no school called "${raw.trim()}"` });
      } else if (field) {
        const value = cellValue(field, raw);
        if (value !== undefined) candidate[field] = value;
      }
    });
    const rawUpn = typeof candidate.upn === 'string' ? candidate.upn.toUpperCase() : null;
    if (rawUpn && upn.safeParse(rawUpn).success) {
      const first = seenUpns.get(rawUpn);
      if (first)
        errors.push({
          line,
          column: head[columns.indexOf('upn')] ?? 'upn',
          message: `repeats the UPN on line ${first}`,
        });
      else seenUpns.set(rawUpn, line);
    }
    const parsed = createStudentBody.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? '');
        if (field === 'schoolId' && errors.some((e) => e.line === line)) continue;
        const column = head[columns.indexOf(field as never)] ?? field;
        errors.push({ line, column, message: issue.message });
      }
      return;
    }
    const input = parsed.data;
    if (!byId.has(input.schoolId)) {
      errors.push({ line, column: schoolColumn, message: 'no such school' });
      return;
    }
    if (!can(principal, 'students.create', { type: 'school', id: input.schoolId })) {
      errors.push({
        line,
        column: schoolColumn,
        message: 'you may not add students at this school (requires Admin or higher)',
      });
      return;
    }
    inputs.push({ line, input });
  });

  // UPNs already in use in the organisation
  for (const slice of chunks([...seenUpns.keys()])) {
    const taken = await database.db
      .selectFrom('students')
      .select('upn')
      .where('organisation_id', '=', principal.organisationId)
      .where('upn', 'in', slice)
      .where('deleted_at', 'is', null)
      .execute();
    for (const row of taken) {
      errors.push({
        line: seenUpns.get(row.upn!)!,
        column: head[columns.indexOf('upn')] ?? 'upn',
        message: 'a student with this UPN already exists',
      });
    }
  }
  errors.sort((a, b) => a.line - b.line);

  const report: ImportReport = { dryRun: options.dryRun, rows: body.length, created: 0, errors };
  if (errors.length > 0 || options.dryRun) return report;

  const created = await runChange(database, origin, async (change) => {
    const rows = await insertStudents(
      change,
      principal.organisationId,
      inputs.map((i) => i.input),
    );
    for (const slice of chunks(rows, 5000)) {
      change.record({
        action: 'student.import',
        targetType: 'student_import',
        after: { count: slice.length, studentIds: slice.map((r) => r.id) },
      });
    }
    return rows.length;
  });
  return { ...report, created };
}
