import { unzipSync } from 'fflate';
import { invalidField, validationFailed } from '../../lib/errors.ts';
import { headingKey } from './headings.ts';
import { type CsvRow, readCsvText } from './problems.ts';
import type {
  RosterEnrolment,
  RosterSchool,
  RosterSource,
  RosterStaffMember,
  RosterStatus,
  RosterStudent,
  SourceRef,
} from './source.ts';

/**
 * A OneRoster 1.2 CSV bundle (1EdTech): manifest.csv and the files it lists (orgs, users, roles,
 * demographics, classes, enrollments, academicSessions...), from a zip or as named texts. Read
 * into a `RosterSource`. Version 1.1 bundles are read too: their users.csv carries `role` and
 * `orgSourcedIds`, which 1.2 moved to roles.csv. docs/imports.md says what is read from where.
 */

/** The files Haven reads; any other file of the bundle is listed as not used. */
const READ = [
  'manifest.csv',
  'orgs.csv',
  'users.csv',
  'roles.csv',
  'demographics.csv',
  'enrollments.csv',
];
const STAFF_ROLES = new Set(['teacher', 'aide', 'administrator', 'proctor']);
/** The most a bundle may hold once unzipped. */
const MAX_BUNDLE_BYTES = 200 * 1024 * 1024;
const MAX_ROWS = 500_000;

/** The files of a zip, by their name without folders, lower-cased; only CSV files are opened. */
export function unzipBundle(zip: Uint8Array): Map<string, string> {
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        if (!file.name.toLowerCase().endsWith('.csv') || file.name.includes('__MACOSX'))
          return false;
        total += file.originalSize;
        if (total > MAX_BUNDLE_BYTES)
          throw invalidField('body', `unzips to more than ${MAX_BUNDLE_BYTES / 1024 / 1024} MB`);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'HavenError') throw error;
    throw invalidField('body', `is not a readable zip file: ${(error as Error).message}`);
  }
  const texts = new Map<string, string>();
  for (const [name, bytes] of Object.entries(files)) {
    const base = name.split('/').pop()!.toLowerCase();
    if (texts.has(base)) throw invalidField('body', `holds ${base} twice`);
    texts.set(base, new TextDecoder('utf-8', { fatal: false }).decode(bytes));
  }
  return texts;
}

/** Named texts (`{ "users.csv": "..." }`) as the bundle's files. */
export function namedFiles(files: Record<string, string>): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [name, text] of Object.entries(files)) {
    texts.set(name.split('/').pop()!.toLowerCase(), text);
  }
  return texts;
}

interface Table {
  file: string;
  head: string[];
  rows: CsvRow[];
  /** The cell of a column (named without case), or '' when the file has no such column. */
  get(row: CsvRow, column: string): string;
  has(column: string): boolean;
  /** Columns read, by key: the rest are listed as not used. */
  used: Set<string>;
}

function table(file: string, text: string): Table {
  const { head, body } = readCsvText(text, file, MAX_ROWS);
  const index = new Map<string, number>();
  head.forEach((h, i) => {
    const key = headingKey(h);
    if (!index.has(key)) index.set(key, i);
  });
  const used = new Set<string>();
  return {
    file,
    head,
    rows: body,
    used,
    has: (column) => index.has(headingKey(column)),
    get(row, column) {
      const key = headingKey(column);
      used.add(key);
      const i = index.get(key);
      return i === undefined ? '' : (row.cells[i] ?? '').trim();
    },
  };
}

/** 1.2 writes lists as comma-separated values inside one cell. */
const list = (cell: string) =>
  cell
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** A UK year group as some sources put it in `grades` ("Y9", "Year 9", "R", "N1"). */
const UK_YEAR = /^(y|yr|year|nc\s*year)\s*\d{1,2}$|^(r|reception|n|n1|n2|nursery)$/i;

export class OneRosterCsvBundle implements RosterSource {
  readonly description: string;
  readonly problems: { ref: SourceRef; column: string; message: string }[] = [];
  readonly ignored: string[] = [];
  readonly notes: string[] = [];
  readonly #schools: RosterSchool[] = [];
  readonly #students: RosterStudent[] = [];
  readonly #staff: RosterStaffMember[] = [];
  readonly #enrolments: RosterEnrolment[] = [];

  constructor(files: Map<string, string>) {
    const manifestText = files.get('manifest.csv');
    if (manifestText === undefined)
      throw invalidField('body', 'the bundle has no manifest.csv: is it a OneRoster CSV bundle?');
    const manifest = new Map<string, string>();
    const m = table('manifest.csv', manifestText);
    for (const row of m.rows)
      manifest.set(m.get(row, 'propertyName').toLowerCase(), m.get(row, 'value'));
    const version = manifest.get('oneroster.version') ?? '';
    if (!['1.1', '1.2'].includes(version))
      throw invalidField(
        'manifest.csv',
        `gives oneroster.version "${version}"; Haven reads OneRoster 1.2 (and 1.1) bundles`,
      );
    this.description = `OneRoster ${version} CSV bundle${manifest.get('source.systemname') ? ` from ${manifest.get('source.systemname')}` : ''}`;

    // A file the manifest calls absent is not read, even if the bundle holds it.
    const present = (name: string) => {
      const mode = (
        manifest.get(`file.${name.replace(/\.csv$/, '')}`.toLowerCase()) ?? ''
      ).toLowerCase();
      if (mode === 'absent') return undefined;
      const text = files.get(name);
      if (text === undefined && (mode === 'bulk' || mode === 'delta'))
        throw invalidField('body', `manifest.csv lists ${name}, but the bundle has no ${name}`);
      return text === undefined ? undefined : table(name, text);
    };
    const missing = ['orgs.csv', 'users.csv'].filter((f) => !files.has(f));
    if (missing.length > 0)
      throw validationFailed(
        missing.map((f) => ({ field: 'body', message: `the bundle has no ${f}` })),
      );
    for (const name of files.keys()) if (!READ.includes(name)) this.ignored.push(name);

    const orgs = present('orgs.csv');
    const users = present('users.csv');
    const roles = present('roles.csv');
    const demographics = present('demographics.csv');
    const enrollments = present('enrollments.csv');

    if (orgs) this.#readOrgs(orgs);
    const enrolledAt = new Map<string, Set<string>>();
    const enrolledAs = new Map<string, string>();
    if (enrollments) {
      for (const row of enrollments.rows) {
        const record = this.#record(enrollments, row);
        if (!record) continue;
        const enrolment: RosterEnrolment = {
          ...record,
          userSourcedId: enrollments.get(row, 'userSourcedId'),
          classSourcedId: enrollments.get(row, 'classSourcedId'),
          schoolSourcedId: enrollments.get(row, 'schoolSourcedId'),
          role: enrollments.get(row, 'role').toLowerCase(),
        };
        enrollments.get(row, 'primary');
        enrollments.get(row, 'beginDate');
        enrollments.get(row, 'endDate');
        this.#enrolments.push(enrolment);
        if (enrolment.status !== 'active') continue;
        const at = enrolledAt.get(enrolment.userSourcedId) ?? new Set();
        if (enrolment.schoolSourcedId) at.add(enrolment.schoolSourcedId);
        enrolledAt.set(enrolment.userSourcedId, at);
        if (enrolment.role) enrolledAs.set(enrolment.userSourcedId, enrolment.role);
      }
      this.#unused(enrollments);
    }
    // 1.2: a person's roles, each at an org; the primary one decides what they are.
    const roleOf = new Map<string, { role: string; primary: boolean; orgs: Set<string> }>();
    if (roles) {
      for (const row of roles.rows) {
        const record = this.#record(roles, row);
        if (record?.status !== 'active') continue;
        const userId = roles.get(row, 'userSourcedId');
        const role = roles.get(row, 'role').toLowerCase();
        const primary = roles.get(row, 'roleType').toLowerCase() === 'primary';
        const org = roles.get(row, 'orgSourcedId');
        roles.get(row, 'beginDate');
        roles.get(row, 'endDate');
        const held = roleOf.get(userId);
        if (!held || (primary && !held.primary)) {
          roleOf.set(userId, { role, primary, orgs: new Set([...(held?.orgs ?? []), org]) });
        } else {
          held.orgs.add(org);
        }
      }
      this.#unused(roles);
    }
    const birthDates = new Map<string, string>();
    if (demographics) {
      for (const row of demographics.rows) {
        const id = demographics.get(row, 'sourcedId');
        const birthDate = demographics.get(row, 'birthDate');
        if (id && birthDate) birthDates.set(id, birthDate);
      }
      this.#unused(demographics);
    }
    if (users) this.#readUsers(users, { roleOf, enrolledAt, enrolledAs, birthDates });
  }

  #record(t: Table, row: CsvRow) {
    const ref = { file: t.file, line: row.line };
    const sourcedId = t.get(row, 'sourcedId');
    if (!sourcedId) {
      this.problems.push({ ref, column: 'sourcedId', message: 'the sourcedId is missing' });
      return undefined;
    }
    const rawStatus = t.get(row, 'status').toLowerCase();
    let status: RosterStatus;
    if (rawStatus === '' || rawStatus === 'active') status = 'active';
    else if (rawStatus === 'tobedeleted' || rawStatus === 'inactive') status = 'tobedeleted';
    else {
      this.problems.push({
        ref,
        column: 'status',
        message: `the status "${rawStatus}" is not one OneRoster uses (active or tobedeleted)`,
      });
      return undefined;
    }
    const modified = t.get(row, 'dateLastModified');
    let dateLastModified: string | undefined;
    if (modified) {
      const time = new Date(modified);
      if (Number.isNaN(time.getTime()))
        this.problems.push({
          ref,
          column: 'dateLastModified',
          message: `the dateLastModified "${modified}" is not a date and time`,
        });
      else dateLastModified = time.toISOString();
    }
    return { sourcedId, status, dateLastModified, ref };
  }

  #unused(t: Table) {
    for (const h of t.head)
      if (!t.used.has(headingKey(h)) && h !== '') this.ignored.push(`${t.file}: ${h}`);
  }

  #readOrgs(orgs: Table) {
    for (const row of orgs.rows) {
      const record = this.#record(orgs, row);
      const type = orgs.get(row, 'type').toLowerCase();
      const name = orgs.get(row, 'name');
      const identifier = orgs.get(row, 'identifier') || undefined;
      orgs.get(row, 'parentSourcedId');
      // Only schools are matched; a trust ("district"), department or local authority is not.
      if (!record || type !== 'school') continue;
      this.#schools.push({ ...record, name, identifier });
    }
    this.#unused(orgs);
  }

  #readUsers(
    users: Table,
    by: {
      roleOf: Map<string, { role: string; orgs: Set<string> }>;
      enrolledAt: Map<string, Set<string>>;
      enrolledAs: Map<string, string>;
      birthDates: Map<string, string>;
    },
  ) {
    let numericGrades = 0;
    let others = 0;
    for (const row of users.rows) {
      const record = this.#record(users, row);
      // Read for every row, so the columns count as used.
      const legacyRole = users.get(row, 'role').toLowerCase();
      const legacyOrgs = list(users.get(row, 'orgSourcedIds'));
      const primaryOrg = users.get(row, 'primaryOrg');
      const person = {
        givenName: users.get(row, 'givenName'),
        familyName: users.get(row, 'familyName'),
        preferredGivenName: users.get(row, 'preferredGivenName') || undefined,
        preferredFamilyName: users.get(row, 'preferredFamilyName') || undefined,
      };
      const identifier = users.get(row, 'identifier');
      const userIds = users.get(row, 'userIds');
      const email = users.get(row, 'email');
      const grades = list(users.get(row, 'grades'));
      const metadata = {
        upn: users.get(row, 'metadata.upn'),
        yearGroup:
          users.get(row, 'metadata.yearGroup') ||
          users.get(row, 'metadata.ncYear') ||
          users.get(row, 'metadata.year'),
        birthDate: users.get(row, 'metadata.birthDate') || users.get(row, 'metadata.dob'),
      };
      if (!record) continue;
      const held = by.roleOf.get(record.sourcedId);
      const role = held?.role || legacyRole || by.enrolledAs.get(record.sourcedId) || '';
      const schools = new Set<string>([
        ...(held?.orgs ?? []),
        ...legacyOrgs,
        ...(primaryOrg ? [primaryOrg] : []),
        ...(by.enrolledAt.get(record.sourcedId) ?? []),
      ]);
      schools.delete('');
      const base = { ...record, ...person, schoolSourcedIds: [...schools] };
      if (role === 'student') {
        const fromUserIds = /\{\s*UPN\s*:\s*([^}]+)\}/i.exec(userIds)?.[1]?.trim();
        const upn =
          metadata.upn ||
          fromUserIds ||
          (/^[A-Za-z][0-9]{11}[0-9A-Za-z]$/.test(identifier) ? identifier : undefined);
        let yearGroup = metadata.yearGroup || undefined;
        if (!yearGroup) {
          const uk = grades.find((g) => UK_YEAR.test(g));
          if (uk) yearGroup = uk;
          else if (grades.length > 0) numericGrades += 1;
        }
        this.#students.push({
          ...base,
          upn: upn || undefined,
          birthDate: metadata.birthDate || by.birthDates.get(record.sourcedId) || undefined,
          yearGroup,
        });
      } else if (STAFF_ROLES.has(role)) {
        this.#staff.push({ ...base, email: email || undefined, role });
      } else {
        others += 1;
      }
    }
    this.#unused(users);
    if (numericGrades > 0)
      this.notes.push(
        `${numericGrades} pupils' grades are US grade codes (such as "09"), which do not say an English year group: their year group was left as it was. Give it as "Year 9" in grades or in a metadata.yearGroup column.`,
      );
    if (others > 0)
      this.notes.push(
        `${others} people are neither pupils nor staff (parents, guardians and others): Haven does not import them.`,
      );
  }

  async *schools() {
    yield* this.#schools;
  }
  async *students() {
    yield* this.#students;
  }
  async *staff() {
    yield* this.#staff;
  }
  async *enrolments() {
    yield* this.#enrolments;
  }
}
