import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AccessAuditRequest, AccessAuditRow } from '../../src/access/access-audit.ts';
import { loadPrincipal } from '../../src/access/principal.ts';
import { readDocument } from '../../src/modules/compliance/document.ts';
import { AccessAuditRunService } from '../../src/modules/compliance/runs.ts';
import { pdfPages, rawGet } from '../support/downloads.ts';
import { addSchool, createUser } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A saved run's download, its exact bytes. */
function download(h: TestHaven, token: string | undefined, id: string, format?: string) {
  return rawGet(h, token, `/api/v1/reports/access-audit/${id}`, format ? { format } : {});
}

async function runCount(h: TestHaven) {
  const runs = await h.database.db
    .selectFrom('access_audit_runs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const chunks = await h.database.db
    .selectFrom('access_audit_run_chunks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return { runs: Number(runs.n), chunks: Number(chunks.n) };
}

async function auditRows(h: TestHaven, action: string) {
  const rows = await h.database.db
    .selectFrom('audit_events')
    .select(['category', 'actor_user_id', 'target_id', 'after_json'])
    .where('action', '=', action)
    // By id (time-ordered), not seq: downloads are reads, spread over the organisation's read chains.
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, after: JSON.parse(r.after_json ?? 'null') }));
}

/** The Year 9 school, a second school with its own Admin, and a school Admin of the first. */
async function trust(h: TestHaven) {
  const s = await school(h);
  const otherSchoolId = await addSchool(h, s.t, 'Elm Academy');
  const elmAdmin = await createUser(h, s.t, {
    name: 'Eli ElmAdmin',
    role: 'admin',
    scope: { type: 'school', id: otherSchoolId },
  });
  const oakAdmin = await createUser(h, s.t, {
    name: 'Ada OakAdmin',
    role: 'admin',
    scope: s.atSchool,
  });
  return { s, otherSchoolId, elmAdmin, oakAdmin };
}

async function run(h: TestHaven, token: string | undefined, body: object = {}) {
  return h.post('/api/v1/reports/access-audit', token, body);
}

describe('saved Access Audit Report runs', () => {
  const haven = useHaven();

  it('saves a run, lists it, and downloads the very bytes its SHA-256 names, in three forms', async () => {
    const h = haven();
    const { s } = await trust(h);
    const created = await run(h, s.t);
    expect(created.status).toBe(201);
    const saved = created.body;
    expect(saved.scope).toEqual({
      type: 'organisation',
      id: s.org.organisationId,
      name: 'Oak Trust',
    });
    expect(saved.asOf).toBeNull();
    expect(saved.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(saved.createdBy).toEqual({ id: s.org.ownerId, name: 'Olive Owner' });

    const list = await h.get('/api/v1/reports/access-audit', s.t);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([saved]);

    const json = await download(h, s.t, saved.id);
    expect(json.status).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.headers['content-disposition']).toMatch(/^attachment; filename="access-audit-/);
    expect(sha256(json.bytes)).toBe(saved.sha256);
    expect(json.bytes.length).toBe(saved.byteLength);
    expect(json.headers['repr-digest']).toBe(
      `sha-256=:${Buffer.from(saved.sha256, 'hex').toString('base64')}:`,
    );
    const again = await download(h, s.t, saved.id, 'json');
    expect(again.bytes.equals(json.bytes)).toBe(true);

    const document = JSON.parse(json.bytes.toString('utf8'));
    expect(document.report).toMatchObject({
      id: saved.id,
      organisation: { id: s.org.organisationId, name: 'Oak Trust' },
      scope: saved.scope,
      createdAt: saved.createdAt,
      createdBy: { id: s.org.ownerId, name: 'Olive Owner' },
    });
    const names = document.rows.map((r: AccessAuditRow) => r.name);
    for (const name of ['Vera Viewer', 'Dina DSL', 'Eli ElmAdmin', 'Olive Owner'])
      expect(names).toContain(name);
    expect(document.rows.length).toBe(saved.rowCount);
    expect(document.totals.people).toBe(saved.rowCount);
    expect(document.totals.flags).toEqual(saved.flagCounts);
    // The one-row-a-line layout reads back as the same document.
    const parts = [];
    for await (const part of readDocument([json.bytes.subarray(0, 100), json.bytes.subarray(100)]))
      parts.push(part);
    expect(parts.filter((p) => p.kind === 'row').map((p) => (p as any).row)).toEqual(document.rows);

    const csv = await download(h, s.t, saved.id, 'csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect((await download(h, s.t, saved.id, 'csv')).bytes.equals(csv.bytes)).toBe(true);
    const csvLines = csv.bytes.toString('utf8').trim().split('\n');
    expect(csvLines[0]).toMatch(/^Name,Email,Account,Roles,/);
    expect(csvLines.length).toBe(1 + saved.rowCount);
    const dina = csvLines.find((l) => l.startsWith('Dina DSL,'));
    expect(dina).toContain('DSL at Oak Primary (direct)');

    const pdf = await download(h, s.t, saved.id, 'pdf');
    expect(pdf.status).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect((await download(h, s.t, saved.id, 'pdf')).bytes.equals(pdf.bytes)).toBe(true);
    const text = (await pdfPages(pdf.bytes)).join('\n');
    for (const name of ['Vera Viewer', 'Dina DSL', 'Eli ElmAdmin', 'Access Audit Report'])
      expect(text).toContain(name);
    expect(text).toContain(saved.sha256);
  });

  it('writes each run and each download to the audit log', async () => {
    const h = haven();
    const { s } = await trust(h);
    const saved = (await run(h, s.t)).body;
    await download(h, s.t, saved.id, 'csv');
    await download(h, s.t, saved.id, 'pdf');
    const runs = await auditRows(h, 'access_audit.run');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      category: 'change',
      actor_user_id: s.org.ownerId,
      target_id: saved.id,
      after: { sha256: saved.sha256, rowCount: saved.rowCount },
    });
    const downloads = await auditRows(h, 'access_audit.download');
    expect(
      downloads.map((d) => [d.category, d.target_id, d.after.format, d.after.outcome]),
    ).toEqual([
      ['access', saved.id, 'csv', 'allowed'],
      ['access', saved.id, 'pdf', 'allowed'],
    ]);
  });

  it('a school Admin runs and sees their school only; a Viewer nothing', async () => {
    const h = haven();
    const { s, otherSchoolId, elmAdmin, oakAdmin } = await trust(h);
    const organisationRun = (await run(h, s.t)).body;
    const elmRun = (await run(h, s.t, { scope: { type: 'school', id: otherSchoolId } })).body;

    const refused = await run(h, oakAdmin.token);
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
    expect(
      (await run(h, oakAdmin.token, { scope: { type: 'school', id: otherSchoolId } })).status,
    ).toBe(403);
    const own = await run(h, oakAdmin.token, { scope: s.atSchool });
    expect(own.status).toBe(201);
    expect(own.body.scope.name).toBe('Oak Primary');

    const oakList = await h.get('/api/v1/reports/access-audit', oakAdmin.token);
    expect(oakList.body.items.map((r: { id: string }) => r.id)).toEqual([own.body.id]);
    const elmList = await h.get('/api/v1/reports/access-audit', elmAdmin.token);
    expect(elmList.body.items.map((r: { id: string }) => r.id)).toEqual([elmRun.id]);
    const ownerList = await h.get('/api/v1/reports/access-audit', s.t);
    expect(ownerList.body.items.map((r: { id: string }) => r.id)).toEqual([
      own.body.id,
      elmRun.id,
      organisationRun.id,
    ]);

    for (const format of ['json', 'csv', 'pdf']) {
      const hidden = await download(h, oakAdmin.token, organisationRun.id, format);
      expect(hidden.status).toBe(404);
      expect((await download(h, oakAdmin.token, elmRun.id, format)).status).toBe(404);
    }
    const ownJson = await download(h, oakAdmin.token, own.body.id);
    expect(ownJson.status).toBe(200);
    expect(sha256(ownJson.bytes)).toBe(own.body.sha256);
    // The school's report holds nothing of the other school.
    const text = ownJson.bytes.toString('utf8');
    expect(text).not.toContain('Eli ElmAdmin');
    expect(text).not.toContain('Elm Academy');

    const refusedDownloads = (await auditRows(h, 'access_audit.download')).filter(
      (d) => d.after.outcome === 'not_found',
    );
    expect(refusedDownloads).toHaveLength(6);

    const viewer = s.users.viewer.token;
    expect((await run(h, viewer)).status).toBe(403);
    expect((await h.get('/api/v1/reports/access-audit', viewer)).status).toBe(403);
    expect((await download(h, viewer, own.body.id)).status).toBe(403);
    expect((await download(h, undefined, own.body.id)).status).toBe(401);
  });

  it('refuses bad input with a problem and saves nothing', async () => {
    const h = haven();
    const { s } = await trust(h);
    const before = await runCount(h);
    const cases: [object, number][] = [
      [{ scope: { type: 'school', id: 'no-such-school' } }, 404],
      [{ scope: { type: 'school_group', id: 'no-such-group' } }, 404],
      [{ scope: { type: 'organisation', id: 'another-trust' } }, 404],
      [{ scope: { type: 'class', id: s.org.schoolId } }, 400],
      [{ asOf: new Date(Date.now() + 86_400_000).toISOString() }, 400],
      [{ asOf: 'yesterday' }, 400],
    ];
    for (const [body, status] of cases) {
      const reply = await run(h, s.t, body);
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(reply.headers['content-type']).toMatch(/problem\+json/);
      expect(reply.body.code).toBe(status === 404 ? 'not_found' : 'validation_failed');
    }
    expect(await runCount(h)).toEqual(before);
    expect(await auditRows(h, 'access_audit.run')).toEqual([]);

    const saved = (await run(h, s.t)).body;
    const badFormat = await download(h, s.t, saved.id, 'xlsx');
    expect(badFormat.status).toBe(400);
    expect((await download(h, s.t, 'no-such-run')).status).toBe(404);
  });

  it('takes a run as of a past time', async () => {
    const h = haven();
    const { s } = await trust(h);
    const asOf = new Date(Date.now() - 1000).toISOString();
    const late = await createUser(h, s.t, { name: 'Lena Late', role: 'viewer', scope: s.atSchool });
    const past = await run(h, s.t, { asOf });
    expect(past.status).toBe(201);
    expect(past.body.asOf).toBe(asOf);
    const document = JSON.parse((await download(h, s.t, past.body.id)).bytes.toString('utf8'));
    expect(document.report.asOf).toBe(asOf);
    const names = document.rows.map((r: AccessAuditRow) => r.name);
    expect(names).not.toContain(late.name);
    const now = JSON.parse(
      (await download(h, s.t, (await run(h, s.t)).body.id)).bytes.toString('utf8'),
    );
    expect(now.rows.map((r: AccessAuditRow) => r.name)).toContain(late.name);
  });

  it('keeps a run as saved: the database refuses to change or delete it', async () => {
    const h = haven();
    const { s } = await trust(h);
    const saved = (await run(h, s.t)).body;
    const db = h.database.db;
    await expect(
      db.updateTable('access_audit_runs').set({ sha256: 'x' }).where('id', '=', saved.id).execute(),
    ).rejects.toThrow(/never changed or deleted/);
    await expect(
      db.deleteFrom('access_audit_runs').where('id', '=', saved.id).execute(),
    ).rejects.toThrow(/never changed or deleted/);
    await expect(
      db.deleteFrom('access_audit_run_chunks').where('run_id', '=', saved.id).execute(),
    ).rejects.toThrow(/never changed or deleted/);
    await expect(
      db
        .updateTable('access_audit_run_chunks')
        .set({ bytes: Buffer.from('{}') })
        .where('run_id', '=', saved.id)
        .execute(),
    ).rejects.toThrow(/never changed or deleted/);
    expect(sha256((await download(h, s.t, saved.id)).bytes)).toBe(saved.sha256);
  });
});

describe('a run larger than one chunk', () => {
  const haven = useHaven();

  /** Rows as the report engine yields them, many and long, with formulas in their names. */
  async function* manyRows(
    _db: unknown,
    request: AccessAuditRequest,
  ): AsyncGenerator<AccessAuditRow> {
    for (let i = 0; i < 1500; i++) {
      yield {
        userId: `user-${String(i).padStart(5, '0')}`,
        name: i === 7 ? '=HYPERLINK("http://evil.example","Zoë")' : `Person ${i} Ünïcødé`,
        email: `person.${i}@school.test`,
        status: 'active',
        roles: [
          {
            role: 'viewer',
            scope: { ...request.scope, name: 'Oak Trust' },
            via: {
              id: 'g1',
              name:
                i % 100 === 0
                  ? `A group with a long name ${'and more '.repeat(25)}`
                  : 'Year 9 team',
            },
            reason: null,
          },
        ],
        // A long id (shown nowhere but the JSON) takes the document past one chunk in few rows.
        userGroups: [{ id: `g1-${'0'.repeat(700)}`, name: 'Year 9 team' }],
        studentGroups: [
          { id: 'sg', name: 'Year 9', kind: 'rule', via: [{ id: 'g1', name: 'Y9' }] },
        ],
        directStudentLinks: 0,
        reachableStudents: i,
        clearances: [],
        blocks: 0,
        groupAdministration: [],
        twoFactor: false,
        lastSignInAt: null,
        flags: i % 3 === 0 ? ['dormant', 'no_user_group'] : [],
      };
    }
  }

  it('saves nothing of a run that fails half-way', async () => {
    const h = haven();
    const s: School = await school(h);
    async function* failing(db: unknown, request: AccessAuditRequest) {
      let n = 0;
      for await (const row of manyRows(db, request)) {
        if (++n > 1200) throw new Error('the report engine failed');
        yield row;
      }
    }
    const service = new AccessAuditRunService(h.database, undefined, failing);
    const principal = await loadPrincipal(h.database.db, s.org.organisationId, s.org.ownerId);
    await expect(service.create({ principal, mfaAt: null }, {})).rejects.toThrow(/engine failed/);
    expect(await runCount(h)).toEqual({ runs: 0, chunks: 0 });
    expect((await h.get('/api/v1/reports/access-audit', s.t)).body.items).toEqual([]);
    expect(await auditRows(h, 'access_audit.run')).toEqual([]);
  });

  it('stores it in chunks that download byte-identical, and renders CSV and PDF from them', async () => {
    const h = haven();
    const s: School = await school(h);
    const service = new AccessAuditRunService(h.database, undefined, manyRows);
    const principal = await loadPrincipal(h.database.db, s.org.organisationId, s.org.ownerId);
    const saved = await service.create({ principal, mfaAt: null }, {});
    expect(saved.rowCount).toBe(1500);
    expect(saved.flagCounts.dormant).toBe(500);
    const { chunks } = await h.database.db
      .selectFrom('access_audit_run_chunks')
      .select((eb) => eb.fn.countAll<number>().as('chunks'))
      .where('run_id', '=', saved.id)
      .executeTakeFirstOrThrow();
    expect(Number(chunks)).toBeGreaterThan(1);

    const json = await download(h, s.t, saved.id);
    expect(json.bytes.length).toBe(saved.byteLength);
    expect(sha256(json.bytes)).toBe(saved.sha256);
    const document = JSON.parse(json.bytes.toString('utf8'));
    expect(document.rows).toHaveLength(1500);
    expect(document.rows[1].name).toBe('Person 1 Ünïcødé');

    const csv = (await download(h, s.t, saved.id, 'csv')).bytes.toString('utf8');
    expect(csv.split('\n').filter(Boolean)).toHaveLength(1501);
    // A cell that would run as a spreadsheet formula is neutralised, as every export does.
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""Zoë"")"`);
    expect(csv).toContain('Dormant; No user group');

    const pdf = await download(h, s.t, saved.id, 'pdf');
    expect(pdf.status).toBe(200);
    const pages = await pdfPages(pdf.bytes);
    expect(pages.length).toBeGreaterThan(30);
    // Every page numbered, the table's header repeated on each page after the title page.
    for (const [i, page] of pages.entries())
      expect(page).toMatch(new RegExp(`Page ${i + 1}(?!\\d)`));
    for (const page of pages.slice(1)) expect(page).toContain('Children reachable');
    expect(pages.at(-1)).toContain('Person 1499');
  });
});

describe('a run too large to print', () => {
  const haven = useHaven({ HAVEN_REPORT_PDF_MAX_PEOPLE: '6' });

  it('is refused as PDF (422, in the access log) and still downloads as CSV and JSON', async () => {
    const h = haven();
    const { s } = await trust(h);
    const small = await run(h, s.t, { scope: s.atSchool });
    const large = await run(h, s.t);
    expect(small.body.rowCount).toBeLessThanOrEqual(6);
    expect(large.body.rowCount).toBeGreaterThan(6);

    expect((await download(h, s.t, small.body.id, 'pdf')).status).toBe(200);
    const refused = await download(h, s.t, large.body.id, 'pdf');
    expect(refused.status).toBe(422);
    expect(JSON.parse(refused.bytes.toString('utf8')).code).toBe('report_too_large_for_pdf');
    expect((await download(h, s.t, large.body.id, 'csv')).status).toBe(200);
    expect((await download(h, s.t, large.body.id, 'json')).status).toBe(200);

    const downloads = await auditRows(h, 'access_audit.download');
    expect(
      downloads.map((d) => [d.target_id === large.body.id, d.after.format, d.after.outcome]),
    ).toEqual([
      [false, 'pdf', 'allowed'],
      [true, 'pdf', 'too_large'],
      [true, 'csv', 'allowed'],
      [true, 'json', 'allowed'],
    ]);
  });
});
