import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { runHaven } from '../support/cli.ts';
import {
  addSchool,
  createUser,
  grantRole,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const mis = (name: string) => readFileSync(path.join(FIXTURES, 'mis', name), 'utf8');

function oneRosterFiles(): Record<string, string> {
  const dir = path.join(FIXTURES, 'oneroster');
  return Object.fromEntries(
    readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]),
  );
}

function importCsv(
  h: TestHaven,
  token: string,
  what: 'students' | 'users',
  csv: string,
  query: Record<string, string> = {},
) {
  return h.request('POST', `/api/v1/${what}/import`, {
    token,
    query,
    headers: { 'content-type': 'text/csv' },
    body: csv,
  });
}

async function studentByUpn(h: TestHaven, token: string, upn: string) {
  const found = (await h.get('/api/v1/students', token, { q: upn })).body.items;
  expect(found).toHaveLength(1);
  return found[0];
}

async function auditRows(h: TestHaven, action: string, targetId?: string) {
  let query = h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action)
    .orderBy('seq');
  if (targetId) query = query.where('target_id', '=', targetId);
  return query.execute();
}

async function countStudents(h: TestHaven) {
  return (await h.database.db.selectFrom('students').select('id').execute()).length;
}

describe('importing MIS exports', () => {
  const haven = useHaven();

  const headerSets = [
    {
      file: 'sims-students.csv',
      rows: 4,
      ignored: ['Adno', 'Preferred Surname', 'Gender', 'Reg Group', 'Ethnicity'],
      child: {
        upn: 'A999000000102',
        givenName: 'Oluwaseun',
        familyName: 'Brennan-Holt',
        preferredName: 'Seun',
        dateOfBirth: '2015-11-02',
        yearGroup: 9,
        house: 'Heron',
        senStatus: 'K',
      },
      others: [
        { upn: 'A999000000101', dateOfBirth: '2016-03-14', yearGroup: 9, preferredName: null },
        { upn: 'A999000000103', yearGroup: 0, keyStage: 0, senStatus: 'E' },
        { upn: 'A999000000104', dateOfBirth: '2015-09-01', senStatus: 'none' },
      ],
    },
    {
      file: 'arbor-students.csv',
      rows: 3,
      ignored: [
        'Student ID',
        'First Name',
        'Last Name',
        'Gender',
        'Registration Form',
        'Admission Number',
      ],
      child: {
        upn: 'A999000000201',
        givenName: 'Esperanza',
        familyName: 'Fairweather',
        preferredName: 'Espe',
        dateOfBirth: '2016-03-14',
        yearGroup: 7,
        senStatus: 'K',
      },
      others: [
        { upn: 'A999000000202', yearGroup: 0, senStatus: 'none', preferredName: null },
        { upn: 'A999000000203', senStatus: 'E', dateOfBirth: '2015-12-25' },
      ],
    },
    {
      file: 'bromcom-students.csv',
      rows: 3,
      ignored: ['Admission No', 'Preferred Surname', 'Gender', 'Reg Group'],
      child: {
        upn: 'A999000000301',
        givenName: 'Keziah',
        familyName: 'Lindqvist',
        preferredName: 'Kez',
        dateOfBirth: '2016-03-14',
        yearGroup: 9,
        house: 'Osprey',
        senStatus: 'none',
      },
      others: [
        { upn: 'A999000000302', yearGroup: 0, senStatus: 'K', dateOfBirth: '2019-05-05' },
        { upn: 'A999000000303', yearGroup: 10, keyStage: 4, senStatus: 'E' },
      ],
    },
  ];

  it.each(headerSets)(
    '$file: checked, then imported, with the columns it does not use listed',
    async (set) => {
      const h = haven();
      const org = await setupOrganisation(h);
      const csv = mis(set.file);
      const dry = await importCsv(h, org.ownerToken, 'students', csv, { dryRun: 'true' });
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({
        dryRun: true,
        rows: set.rows,
        created: 0,
        plan: { create: set.rows, update: 0, unchanged: 0, skip: 0 },
        errors: [],
        ignoredColumns: set.ignored,
      });
      expect(await countStudents(h)).toBe(0);

      const real = await importCsv(h, org.ownerToken, 'students', csv);
      expect(real.status).toBe(201);
      expect(real.body).toMatchObject({ created: set.rows, updated: 0, unchanged: 0, errors: [] });
      expect(real.body.ignoredColumns).toEqual(set.ignored);
      expect(await studentByUpn(h, org.ownerToken, set.child.upn)).toMatchObject({
        ...set.child,
        schoolId: org.schoolId,
        revision: 1,
      });
      for (const other of set.others)
        expect(await studentByUpn(h, org.ownerToken, other.upn)).toMatchObject(other);
      expect(await auditRows(h, 'student.import')).toHaveLength(1);
    },
  );

  it('imports the same file again as nothing changed, and a changed name as an update with a revision', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const csv = mis('sims-students.csv');
    expect((await importCsv(h, org.ownerToken, 'students', csv)).status).toBe(201);
    const before = await studentByUpn(h, org.ownerToken, 'A999000000101');

    const again = await importCsv(h, org.ownerToken, 'students', csv);
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ created: 0, updated: 0, unchanged: 4 });

    // The MIS corrected a forename and moved a child up a year; the file is otherwise the same.
    const changed = csv
      .replace('Ashworth,Tilly,Ashworth,Tilly', 'Ashworth,Matilda,Ashworth,Tilly')
      .replace('1/9/2015,9,', '1/9/2015,Year 10,');
    const dry = await importCsv(h, org.ownerToken, 'students', changed, { dryRun: 'true' });
    expect(dry.body.plan).toEqual({ create: 0, update: 2, unchanged: 2, skip: 0 });
    const real = await importCsv(h, org.ownerToken, 'students', changed);
    expect(real.status).toBe(201);
    expect(real.body).toMatchObject({ created: 0, updated: 2, unchanged: 2 });
    expect(await countStudents(h)).toBe(4);

    const after = await studentByUpn(h, org.ownerToken, 'A999000000101');
    expect(after).toMatchObject({
      id: before.id,
      givenName: 'Matilda',
      preferredName: 'Tilly',
      revision: before.revision + 1,
    });
    const [edit] = await auditRows(h, 'student.update', before.id);
    expect(JSON.parse(edit!.before_json!)).toEqual({ givenName: 'Tilly', preferredName: null });
    expect(JSON.parse(edit!.after_json!)).toEqual({ givenName: 'Matilda', preferredName: 'Tilly' });
    expect(JSON.parse(edit!.meta_json!)).toMatchObject({ importRunId: real.body.runId });
    const finlay = await studentByUpn(h, org.ownerToken, 'A999000000104');
    expect(finlay).toMatchObject({ yearGroup: 10, keyStage: 4, revision: 2 });
  });

  it('lists every problem row by row in words a school reads, and writes nothing unless asked to skip them', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const csv = [
      'UPN,Legal Forename,Legal Surname,DOB,Year,School,Reg Group',
      'A999000000501,Ada,Lovelace,10/12/2015,Y5,Oak Primary,5L',
      'A999000000502,Charles,Babbage,31/02/2016,Y5,Oak Primary,5L',
      'A999000000503,Grace,,01/01/2016,Year 19,Oak Primary,5L',
      'A999000000501,Alan,Turing,23/06/2015,Y5,Oak Primary,5L',
      'A999000000504,Edsger,Dijkstra,11/05/2015,Y5,Elm Academy,5L',
      'not-a-upn,Tim,Berners-Lee,08/06/2055,R,Oak Primary,RB',
      ',Barbara,Liskov,07/11/15,R,Oak Primary,RB',
      'A999000000505,Katherine,Johnson,26-08-2015,Year 5,Oak Primary,5J',
    ].join('\n');
    const dry = await importCsv(h, org.ownerToken, 'students', csv, { dryRun: 'true' });
    expect(dry.status).toBe(200);
    expect(dry.body.errors.map((e: any) => e.text)).toEqual([
      'Row 3: the date of birth 31/02/2016 is not a real date',
      'Row 4: the surname is missing',
      'Row 4: the year group Year 19 is not one Haven knows (Nursery, Reception, or 1 to 14)',
      'Row 5: the UPN A999000000501 is also on row 2',
      'Row 6: there is no school called "Elm Academy" in your organisation',
      'Row 7: the UPN not-a-upn is not a UPN (a letter, 11 digits and one more: 13 characters)',
      'Row 7: the date of birth 08/06/2055 is in the future',
      'Row 8: the date of birth 07/11/15 has a two-digit year: write it in full, e.g. 14/03/2016',
    ]);
    expect(dry.body.errors[0]).toEqual({
      line: 3,
      column: 'DOB',
      message: 'the date of birth 31/02/2016 is not a real date',
      text: 'Row 3: the date of birth 31/02/2016 is not a real date',
    });
    expect(dry.body.plan).toEqual({ create: 2, update: 0, unchanged: 0, skip: 6 });
    expect(dry.body.ignoredColumns).toEqual(['Reg Group']);

    const refused = await importCsv(h, org.ownerToken, 'students', csv);
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation_failed');
    expect(refused.body.problems).toHaveLength(8);
    expect(refused.body.errors[0]).toEqual({
      field: 'line 3, DOB',
      message: 'the date of birth 31/02/2016 is not a real date',
    });
    expect(await countStudents(h)).toBe(0);
    const run = await h.get(`/api/v1/imports/${refused.body.runId}`, org.ownerToken);
    expect(run.body).toMatchObject({ status: 'refused', errorCount: 8, totalRows: 8 });

    const skipped = await importCsv(h, org.ownerToken, 'students', csv, { onError: 'skip' });
    expect(skipped.status).toBe(201);
    expect(skipped.body).toMatchObject({ created: 2, skipped: 6 });
    expect(skipped.body.errors).toHaveLength(8);
    expect((await studentByUpn(h, org.ownerToken, 'A999000000505')).dateOfBirth).toBe('2015-08-26');
    expect(await countStudents(h)).toBe(2);
  });

  it('needs a school for a file without a School column once the organisation has several', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const elm = await addSchool(h, org.ownerToken, 'Elm Academy');
    const csv = mis('bromcom-students.csv');
    const unsure = await importCsv(h, org.ownerToken, 'students', csv);
    expect(unsure.status).toBe(400);
    expect(unsure.body.errors[0].field).toBe('schoolId');
    const placed = await importCsv(h, org.ownerToken, 'students', csv, { schoolId: elm });
    expect(placed.status).toBe(201);
    expect((await studentByUpn(h, org.ownerToken, 'A999000000301')).schoolId).toBe(elm);
    // A known child seen in another school's file is not moved by an import.
    const moved = await importCsv(h, org.ownerToken, 'students', csv, {
      schoolId: org.schoolId,
      dryRun: 'true',
    });
    expect(moved.body.errors).toHaveLength(3);
    expect(moved.body.errors[0].message).toMatch(/at another school \(Elm Academy\).*transfer/);
  });

  it.each([
    {
      file: 'sims-staff.csv',
      names: ['Pippa Quennell', 'Rafael Santiago'],
      ignored: ['Title', 'Staff Code', 'Personal Email', 'Job Title'],
    },
    {
      file: 'arbor-staff.csv',
      names: ['Tamsin Underwood', 'Valentin Whitcombe'],
      ignored: ['Staff ID', 'Title', 'Role'],
    },
    {
      file: 'bromcom-staff.csv',
      names: ['Xanthe Yardley', 'Zoltan Abernethy'],
      ignored: ['Title', 'Staff Code', 'Department'],
    },
  ])('$file: staff are added holding only Member, and renamed on a later import', async (set) => {
    const h = haven();
    const org = await setupOrganisation(h);
    const csv = mis(set.file);
    const real = await importCsv(h, org.ownerToken, 'users', csv);
    expect(real.status).toBe(201);
    expect(real.body).toMatchObject({ created: 2, updated: 0, errors: [] });
    expect(real.body.ignoredColumns).toEqual(set.ignored);
    const users = await h.database.db
      .selectFrom('users')
      .select(['id', 'name', 'email'])
      .where('id', 'in', real.body.createdIds)
      .orderBy('name')
      .execute();
    expect(users.map((u) => u.name).sort()).toEqual([...set.names].sort());
    const grants = await h.database.db
      .selectFrom('role_grants')
      .select('id')
      .where('user_id', 'in', real.body.createdIds)
      .execute();
    expect(grants).toEqual([]);

    const [first, second] = set.names;
    const renamed = csv.replace(first!.split(' ')[1]!, 'Featherstonehaugh');
    const again = await importCsv(h, org.ownerToken, 'users', renamed);
    expect(again.body).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    const person = users.find((u) => u.name === first)!;
    const [edit] = await auditRows(h, 'user.update', person.id);
    expect(JSON.parse(edit!.after_json!).name).toBe(`${first!.split(' ')[0]} Featherstonehaugh`);
    expect(users.some((u) => u.name === second)).toBe(true);
  });

  it('refuses staff rows without a usable email, row by row', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const csv = [
      'Title,Forename,Surname,Email',
      'Mr,Ivo,Jansen,ivo.jansen@oak-primary.example',
      'Ms,Kay,,not-an-address',
      'Mx,Lou,Marr,',
      'Dr,Ivo,Jansen,IVO.JANSEN@oak-primary.example',
    ].join('\n');
    const dry = await importCsv(h, org.ownerToken, 'users', csv, { dryRun: 'true' });
    expect(dry.body.errors.map((e: any) => e.text)).toEqual([
      'Row 3: not-an-address is not an email address',
      'Row 4: the email address is missing',
      'Row 5: the email ivo.jansen@oak-primary.example is also on row 2',
    ]);
  });

  it('reports how far a large import has gone while it works, as its run is polled', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const run = await h.post('/api/v1/imports', org.ownerToken, { kind: 'students' });
    // On SQLite the write holds the one connection, so progress shows while rows are checked
    // (the check yields every 100 ms); on PostgreSQL it shows while they are written too.
    const size = h.database.engine === 'postgres' ? 3000 : 12_000;
    const rows = Array.from(
      { length: size },
      (_, i) => `A99900${String(i).padStart(7, '0')},Pupil${i},Bulk,14/03/2016,Y9`,
    );
    const csv = ['UPN,Forename,Surname,DOB,Year', ...rows].join('\n');
    let finished = false;
    const importing = importCsv(h, org.ownerToken, 'students', csv, { runId: run.body.id }).finally(
      () => {
        finished = true;
      },
    );
    const seen: { status: string; processed: number; written: number }[] = [];
    while (!finished) {
      const polled = await h.get(`/api/v1/imports/${run.body.id}`, org.ownerToken);
      expect(polled.status).toBe(200);
      seen.push({
        status: polled.body.status,
        processed: polled.body.processedRows,
        written: polled.body.writtenRows,
      });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect((await importing).status).toBe(201);
    const midway = seen.filter(
      (p) =>
        (p.status === 'checking' && p.processed > 0 && p.processed < size) ||
        (p.status === 'writing' && p.written > 0 && p.written < size),
    );
    expect(midway.length, JSON.stringify(seen.slice(0, 20))).toBeGreaterThan(0);
    // Progress never goes back.
    for (let i = 1; i < seen.length; i++) {
      if (seen[i]!.status === seen[i - 1]!.status) {
        expect(seen[i]!.processed).toBeGreaterThanOrEqual(seen[i - 1]!.processed);
        expect(seen[i]!.written).toBeGreaterThanOrEqual(seen[i - 1]!.written);
      }
    }
    const done = await h.get(`/api/v1/imports/${run.body.id}`, org.ownerToken);
    expect(done.body).toMatchObject({ status: 'imported', processedRows: size, writtenRows: size });
  });

  it('follows a run made beforehand: progress, counts, and only for the one who started it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const run = await h.post('/api/v1/imports', org.ownerToken, { kind: 'students' });
    expect(run.status).toBe(201);
    expect(run.body).toMatchObject({ status: 'waiting', processedRows: 0 });
    const rows = Array.from(
      { length: 300 },
      (_, i) => `A9990001${String(i).padStart(5, '0')},Pupil${i},Bulk,14/03/2016,Y9`,
    );
    const csv = ['UPN,Forename,Surname,DOB,Year', ...rows].join('\n');
    const done = await importCsv(h, org.ownerToken, 'students', csv, { runId: run.body.id });
    expect(done.status).toBe(201);
    expect(done.body.runId).toBe(run.body.id);
    const polled = await h.get(`/api/v1/imports/${run.body.id}`, org.ownerToken);
    expect(polled.body).toMatchObject({
      kind: 'students',
      status: 'imported',
      totalRows: 300,
      processedRows: 300,
      rowsToWrite: 300,
      writtenRows: 300,
      counts: { created: 300, updated: 0, unchanged: 0, skipped: 0 },
      errorCount: 0,
    });
    expect(polled.body.finishedAt).not.toBeNull();
    // A run is used once.
    const reused = await importCsv(h, org.ownerToken, 'students', csv, { runId: run.body.id });
    expect(reused.status).toBe(409);

    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      organisationId: org.organisationId,
    });
    expect((await h.get(`/api/v1/imports/${run.body.id}`, admin.token)).status).toBe(404);
    expect((await importCsv(h, admin.token!, 'students', csv, { runId: run.body.id })).status).toBe(
      404,
    );
  });
});

describe('importing a OneRoster 1.2 CSV bundle', () => {
  const haven = useHaven();

  async function sendBundle(
    h: TestHaven,
    token: string,
    files: Record<string, string>,
    extra: { schools?: Record<string, string>; query?: Record<string, string> } = {},
  ) {
    return h.request('POST', '/api/v1/imports/oneroster', {
      token,
      query: extra.query ?? {},
      body: { files, ...(extra.schools ? { schools: extra.schools } : {}) },
    });
  }

  it('adds pupils and staff from the named files, matched to the school by its Haven id', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const files = oneRosterFiles();
    files['orgs.csv'] = files['orgs.csv']!.replace(',100001,', `,${org.schoolId},`);
    const dry = await sendBundle(h, org.ownerToken, files, { query: { dryRun: 'true' } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      source: 'OneRoster 1.2 CSV bundle from Invented MIS',
      schools: [{ sourcedId: 'org-oak', name: 'Oak Primary', schoolId: org.schoolId }],
      plan: {
        students: { create: 3, update: 0, unchanged: 0 },
        staff: { create: 1, update: 0, unchanged: 0 },
        skip: 0,
      },
      errors: [],
    });
    expect(dry.body.ignoredColumns).toEqual(
      expect.arrayContaining(['academicsessions.csv', 'classes.csv', 'users.csv: pronouns']),
    );
    expect(dry.body.notes.join(' ')).toMatch(/neither pupils nor staff/);

    const real = await sendBundle(h, org.ownerToken, files);
    expect(real.status).toBe(201);
    expect(real.body).toMatchObject({
      students: { created: 3, updated: 0, unchanged: 0 },
      staff: { created: 1, updated: 0, unchanged: 0 },
    });
    expect(await studentByUpn(h, org.ownerToken, 'A999000000401')).toMatchObject({
      givenName: 'Anouk',
      familyName: 'Beckett',
      preferredName: 'Nooky',
      dateOfBirth: '2016-03-14',
      yearGroup: 5,
      schoolId: org.schoolId,
      onRoll: true,
    });
    expect(await studentByUpn(h, org.ownerToken, 'A999000000402')).toMatchObject({
      yearGroup: 6,
      dateOfBirth: '2015-01-30',
    });
    expect(await studentByUpn(h, org.ownerToken, 'A999000000403')).toMatchObject({
      yearGroup: 0,
    });
    const teacher = await h.database.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'g.gallagher@oak-primary.example')
      .executeTakeFirstOrThrow();
    expect(teacher.name).toBe('Greta Gallagher');
    const parent = await h.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'hal@home.example')
      .executeTakeFirst();
    expect(parent).toBeUndefined();
  });

  it('reads the same bundle as a zip; a later delta renames by UPN, takes a pupil off roll and disables a teacher', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const files = oneRosterFiles();
    const zip = zipSync(
      Object.fromEntries(
        Object.entries(files).map(([name, text]) => [`export/${name}`, strToU8(text)]),
      ),
    );
    const asZip = await h.request('POST', '/api/v1/imports/oneroster', {
      token: org.ownerToken,
      headers: { 'content-type': 'application/zip' },
      body: Buffer.from(zip),
    });
    // Matched by name here: the bundle's identifier is a URN Haven does not hold.
    expect(asZip.status).toBe(201);
    expect(asZip.body.students.created).toBe(3);
    const anouk = await studentByUpn(h, org.ownerToken, 'A999000000401');

    const later = new Date(Date.now() + 60_000).toISOString();
    const older = '2026-01-01T00:00:00.000Z';
    const delta = {
      'manifest.csv': files['manifest.csv']!.replace(/,bulk/g, ',delta'),
      'orgs.csv': files['orgs.csv']!,
      'users.csv': [
        files['users.csv']!.split('\n')[0],
        `u-pupil-1,active,${later},true,abeck,{UPN:A999000000401},Anouk,Beckett-Moss,,,,,,,Year 5,,,,Nooky,,,org-oak,,`,
        `u-pupil-2,tobedeleted,${later},true,cdunmore,,Cassius,Dunmore,,A999000000402,,,,,Y6,,,,,,,org-oak,,`,
        `u-pupil-3,active,${older},true,eferris,,Elodie,Ferris-Old,,,,,,,R,,,,,,,org-oak,,A999000000403`,
        `u-teacher-1,tobedeleted,${later},true,ggallagher,,Greta,Gallagher,,T0001,g.gallagher@oak-primary.example,,,,,,,,,,,org-oak,,`,
      ].join('\n'),
      'roles.csv': files['roles.csv']!,
      'demographics.csv': files['demographics.csv']!,
      'enrollments.csv': files['enrollments.csv']!,
      'classes.csv': files['classes.csv']!,
      'academicSessions.csv': files['academicSessions.csv']!,
    };
    const applied = await sendBundle(h, org.ownerToken, delta);
    expect(applied.status).toBe(201);
    expect(applied.body).toMatchObject({
      students: { created: 0, updated: 2, unchanged: 1 },
      staff: { created: 0, updated: 1, unchanged: 0 },
    });
    expect(await studentByUpn(h, org.ownerToken, 'A999000000401')).toMatchObject({
      id: anouk.id,
      familyName: 'Beckett-Moss',
      revision: anouk.revision + 1,
    });
    expect(await studentByUpn(h, org.ownerToken, 'A999000000402')).toMatchObject({
      onRoll: false,
      familyName: 'Dunmore',
    });
    // Older than Haven's copy: Haven's is kept.
    expect((await studentByUpn(h, org.ownerToken, 'A999000000403')).familyName).toBe('Ferris');
    const teacher = await h.database.db
      .selectFrom('users')
      .select('disabled_at')
      .where('email', '=', 'g.gallagher@oak-primary.example')
      .executeTakeFirstOrThrow();
    expect(teacher.disabled_at).not.toBeNull();
    expect((await auditRows(h, 'student.update', anouk.id)).length).toBe(1);
  });

  it('haven roster import reads a bundle from a directory, and an MIS export through students import', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const dir = path.join(FIXTURES, 'oneroster');
    const dry = await runHaven(h, ['roster', 'import', '--file', dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(
      /Checked OneRoster 1\.2 CSV bundle from Invented MIS: pupils 3 new, 0 updated, 0 unchanged; staff 1 new, 0 updated, 0 unchanged; 0 problems/,
    );
    expect(await countStudents(h)).toBe(0);
    const real = await runHaven(h, [
      'roster',
      'import',
      '--file',
      dir,
      '--org',
      org.organisationId,
    ]);
    expect(real.out).toMatch(/Imported .*: pupils 3 new/);
    expect(await countStudents(h)).toBe(3);
    const sims = path.join(FIXTURES, 'mis', 'sims-students.csv');
    const again = await runHaven(h, [
      'students',
      'import',
      '--file',
      sims,
      '--school',
      org.schoolId,
    ]);
    expect(again.out).toMatch(/Added 4 of 4 students, 0 problems/);
    expect(await countStudents(h)).toBe(7);
  });

  it('refuses a school it cannot match, naming the row, and writes nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const files = oneRosterFiles();
    files['orgs.csv'] = files['orgs.csv']!.replace('Oak Primary', 'Birch Infants');
    const refused = await sendBundle(h, org.ownerToken, files);
    expect(refused.status).toBe(400);
    expect(refused.body.problems.map((p: any) => p.text)).toContain(
      'orgs.csv, row 3: the school "Birch Infants" (identifier 100001) is not one of your organisation\'s schools: give Haven\'s school id as its identifier, or match it by name',
    );
    expect(await countStudents(h)).toBe(0);
    const broken = await sendBundle(h, org.ownerToken, { 'users.csv': files['users.csv']! });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].message).toMatch(/no manifest\.csv/);
  });
});

describe('who may import', () => {
  const haven = useHaven();

  async function twoOrganisations(h: TestHaven): Promise<[TestOrg, TestOrg]> {
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    return [oak, elm];
  }

  it("refuses a role below Admin with 403, and another organisation's school as not found", async () => {
    const h = haven();
    const [oak, elm] = await twoOrganisations(h);
    const viewer = await createUser(h, oak.ownerToken, {
      role: 'viewer',
      organisationId: oak.organisationId,
    });
    const csv = mis('sims-students.csv');
    expect((await importCsv(h, viewer.token!, 'students', csv)).status).toBe(403);
    expect((await importCsv(h, viewer.token!, 'users', mis('sims-staff.csv'))).status).toBe(403);
    expect(
      (
        await h.request('POST', '/api/v1/imports/oneroster', {
          token: viewer.token,
          body: { files: oneRosterFiles() },
        })
      ).status,
    ).toBe(403);
    expect((await h.post('/api/v1/imports', viewer.token, { kind: 'students' })).status).toBe(403);

    const elsewhere = await importCsv(h, oak.ownerToken, 'students', csv, {
      schoolId: elm.schoolId,
    });
    expect(elsewhere.status).toBe(404);
    const files = oneRosterFiles();
    const mapped = await h.request('POST', '/api/v1/imports/oneroster', {
      token: oak.ownerToken,
      body: { files, schools: { 'org-oak': elm.schoolId } },
    });
    expect(mapped.status).toBe(400);
    expect(mapped.body.problems[0].message).toMatch(/not one of your organisation's schools/);
    const named = files['orgs.csv']!.replace('Oak Primary', 'Elm Primary');
    const byName = await h.request('POST', '/api/v1/imports/oneroster', {
      token: oak.ownerToken,
      body: { files: { ...files, 'orgs.csv': named } },
    });
    expect(byName.status).toBe(400);
    expect(await countStudents(h)).toBe(0);
    // Elm's own Owner imports the same file into Elm.
    expect((await importCsv(h, elm.ownerToken, 'students', csv)).status).toBe(201);
  });

  it('an Admin of one school cannot import into another school of the organisation', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const elm = await addSchool(h, org.ownerToken, 'Elm Academy');
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const csv = mis('arbor-students.csv');
    expect((await importCsv(h, admin.token!, 'students', csv, { schoolId: elm })).status).toBe(403);
    const withColumn = `${csv.split('\n')[0]},School\n${csv
      .trim()
      .split('\n')
      .slice(1)
      .map((line, i) => `${line},${i === 0 ? 'Elm Academy' : 'Oak Primary'}`)
      .join('\n')}`;
    const dry = await importCsv(h, admin.token!, 'students', withColumn, { dryRun: 'true' });
    expect(dry.body.errors).toEqual([
      expect.objectContaining({
        line: 2,
        column: 'School',
        message: 'you may not add children at Elm Academy (it needs Admin or higher)',
      }),
    ]);
    expect(dry.body.plan.create).toBe(2);
    await grantRole(h, org.ownerToken, { type: 'user', id: admin.id }, 'admin', {
      type: 'school',
      id: elm,
    });
    const now = await importCsv(h, admin.token!, 'students', withColumn);
    expect(now.status).toBe(201);
    expect(now.body.created).toBe(3);
  });
});
