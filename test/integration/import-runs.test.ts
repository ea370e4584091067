import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPrincipal } from '../../src/access/principal.ts';
import { getImportRun } from '../../src/modules/imports/runs.ts';
import {
  createUser,
  grantRole,
  setupOrganisation,
  type TestOrg,
  type TestUser,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

/**
 * Import runs: who may import each kind and read each run (`src/access/imports.ts`), the audit rows
 * of every import, and how long a run keeps the problems that name children and staff.
 */

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const mis = (name: string) => readFileSync(path.join(FIXTURES, 'mis', name), 'utf8');

function oneRosterFiles(schoolId: string): Record<string, string> {
  const dir = path.join(FIXTURES, 'oneroster');
  const files = Object.fromEntries(
    readdirSync(dir).map((name) => [name, readFileSync(path.join(dir, name), 'utf8')]),
  );
  files['orgs.csv'] = files['orgs.csv']!.replace(',100001,', `,${schoolId},`);
  return files;
}

type Kind = 'students' | 'staff' | 'oneroster';

/** One import of `kind` (a dry run unless `write`), as `token`. */
function importAs(
  h: TestHaven,
  org: TestOrg,
  token: string,
  kind: Kind,
  query: Record<string, string> = { dryRun: 'true' },
  body?: string,
) {
  if (kind === 'oneroster')
    return h.request('POST', '/api/v1/imports/oneroster', {
      token,
      query,
      body: { files: oneRosterFiles(org.schoolId) },
    });
  return h.request('POST', `/api/v1/${kind === 'staff' ? 'users' : 'students'}/import`, {
    token,
    query,
    headers: { 'content-type': 'text/csv' },
    body: body ?? mis(kind === 'staff' ? 'sims-staff.csv' : 'sims-students.csv'),
  });
}

const kinds: Kind[] = ['students', 'staff', 'oneroster'];

async function staffAt(h: TestHaven, org: TestOrg, role: 'viewer' | 'admin' | 'deputy_dsl') {
  return createUser(h, org.ownerToken, { role, organisationId: org.organisationId });
}

async function importRows(h: TestHaven, runId: string) {
  const rows = await h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', 'in', ['import.start', 'import.finish'])
    .orderBy('id')
    .execute();
  return rows.filter((r) => JSON.parse(r.after_json ?? '{}').runId === runId);
}

const instant = (t: string | Date | null) => (t === null ? null : new Date(t).getTime());

describe('who may import and read an import run', () => {
  const haven = useHaven();

  it('refuses the role just below Admin (Viewer) every import and run, and lets the one above (Deputy DSL) import', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const viewer = await staffAt(h, org, 'viewer');
    const deputy = await staffAt(h, org, 'deputy_dsl');
    for (const kind of kinds) {
      const refused = await importAs(h, org, viewer.token!, kind);
      expect(refused.status, `a Viewer imports ${kind}`).toBe(403);
      expect(refused.body.requiredRole).toBe('admin');
      const waiting = await h.post('/api/v1/imports', viewer.token, { kind });
      expect(waiting.status, `a Viewer makes a ${kind} run`).toBe(403);

      const done = await importAs(h, org, deputy.token!, kind);
      expect(done.status, `a Deputy DSL imports ${kind}: ${JSON.stringify(done.body)}`).toBe(200);
      const made = await h.post('/api/v1/imports', deputy.token, { kind });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ kind, status: 'waiting' });
      // The Viewer is refused the run as any run (the route's permission), existing or not.
      expect((await h.get(`/api/v1/imports/${done.body.runId}`, viewer.token)).status).toBe(403);
    }
    // Refused at the route, before the body is read or the run looked for; the Deputy DSL is
    // past it, to the body's check and the run's policy.
    expect((await h.post('/api/v1/imports', viewer.token, { kind: 'payroll' })).status).toBe(403);
    expect((await h.get('/api/v1/imports/no-such-run', viewer.token)).status).toBe(403);
    expect((await h.post('/api/v1/imports', deputy.token, { kind: 'payroll' })).status).toBe(400);
    expect((await h.get('/api/v1/imports/no-such-run', deputy.token)).status).toBe(404);
    // Nothing was started for the Viewer: no run, and no audit row of theirs.
    const theirs = await h.database.db
      .selectFrom('import_runs')
      .select('id')
      .where('started_by', '=', viewer.id)
      .execute();
    expect(theirs).toEqual([]);
  });

  it('shows a run to its starter only: 404 to another Deputy DSL, Admin or Owner and to another organisation', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const other = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const deputy = await staffAt(h, org, 'deputy_dsl');
    const secondDeputy = await staffAt(h, org, 'deputy_dsl');
    const admin = await staffAt(h, org, 'admin');
    const runs: Record<Kind, string> = { students: '', staff: '', oneroster: '' };
    for (const kind of kinds) {
      const done = await importAs(h, org, deputy.token!, kind);
      expect(done.status).toBe(200);
      runs[kind] = done.body.runId;
    }
    const elsewhere = await importAs(h, other, other.ownerToken, 'students');
    expect(elsewhere.status).toBe(200);
    const missing = '01JZZZZZZZZZZZZZZZZZZZZZZZ';
    for (const kind of kinds) {
      const mine = await h.get(`/api/v1/imports/${runs[kind]}`, deputy.token);
      expect(mine.status).toBe(200);
      expect(mine.body).toMatchObject({ id: runs[kind], kind, status: 'checked' });
      for (const [who, token] of [
        ['another Deputy DSL', secondDeputy.token],
        ['an Admin', admin.token],
        ['the Owner', org.ownerToken],
        ["another organisation's Owner", other.ownerToken],
      ] as const) {
        const seen = await h.get(`/api/v1/imports/${runs[kind]}`, token);
        expect(seen.status, `${who} reads the ${kind} run`).toBe(404);
        // Exactly as an id that names nothing.
        const nothing = await h.get(`/api/v1/imports/${missing}`, token);
        expect(seen.body.detail).toBe(nothing.body.detail);
      }
      // Nor may they send a file to it.
      const claimed = await importAs(h, org, admin.token!, kind, {
        dryRun: 'true',
        runId: runs[kind],
      });
      expect(claimed.status).toBe(404);
    }
    expect((await h.get(`/api/v1/imports/${elsewhere.body.runId}`, deputy.token)).status).toBe(404);
    expect((await h.get(`/api/v1/imports/${elsewhere.body.runId}`, other.ownerToken)).status).toBe(
      200,
    );
  });

  it('reads a run by its kind: a starter who may no longer import it is refused, and not found by the policy', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const starter = await staffAt(h, org, 'admin');
    const done = await importAs(h, org, starter.token!, 'staff');
    expect(done.status).toBe(200);
    expect((await h.get(`/api/v1/imports/${done.body.runId}`, starter.token)).status).toBe(200);
    const grants = await h.get('/api/v1/role-grants', org.ownerToken, { userId: starter.id });
    for (const grant of grants.body.items)
      expect((await h.delete(`/api/v1/role-grants/${grant.id}`, org.ownerToken)).status).toBe(204);
    await grantRole(h, org.ownerToken, { type: 'user', id: starter.id }, 'viewer', {
      type: 'organisation',
      id: org.organisationId,
    });
    expect((await h.get(`/api/v1/imports/${done.body.runId}`, starter.token)).status).toBe(403);
    // Behind the route's permission, the run's own policy answers not found too.
    const principal = await loadPrincipal(h.database.db, org.organisationId, starter.id);
    await expect(getImportRun(h.database, principal, done.body.runId)).rejects.toMatchObject({
      status: 404,
    });
  });
});

describe('every import is audited with its run', () => {
  const haven = useHaven();

  it('writes import.start and import.finish (run, kind, status, counts) with no row of the file in them', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin: TestUser = await staffAt(h, org, 'admin');
    const students = mis('sims-students.csv');
    const duplicated = `${students.trim()}\n${students.trim().split('\n')[1]}`;
    const staff = `${mis('sims-staff.csv').trim()}\nMs,Una,Quist,,UQU,una-quist-at-home,,Cook`;
    const cases: {
      kind: Kind;
      query: Record<string, string>;
      body?: string;
      status: number;
      run: string;
    }[] = [
      { kind: 'students', query: { dryRun: 'true' }, status: 200, run: 'checked' },
      { kind: 'students', query: {}, body: duplicated, status: 400, run: 'refused' },
      { kind: 'students', query: {}, status: 201, run: 'imported' },
      { kind: 'staff', query: {}, body: staff, status: 400, run: 'refused' },
      { kind: 'staff', query: { onError: 'skip' }, body: staff, status: 201, run: 'imported' },
      { kind: 'students', query: {}, body: 'Colour\nblue', status: 400, run: 'failed' },
      { kind: 'oneroster', query: { dryRun: 'true' }, status: 200, run: 'checked' },
      { kind: 'oneroster', query: {}, status: 201, run: 'imported' },
    ];
    // What the files say about people, which no audit row of an import may repeat.
    const personal = [
      'A999000000101',
      'Ashworth',
      'Tilly',
      'Quennell',
      'una-quist-at-home',
      'Anouk',
      'Beckett',
      'gallagher',
    ];
    for (const c of cases) {
      const answer = await importAs(h, org, admin.token!, c.kind, c.query, c.body);
      expect(answer.status, `${c.kind} ${c.run}: ${JSON.stringify(answer.body)}`).toBe(c.status);
      const runId: string =
        answer.body.runId ??
        (
          await h.database.db
            .selectFrom('import_runs')
            .select('id')
            .orderBy('id', 'desc')
            .executeTakeFirstOrThrow()
        ).id;
      const run = await h.get(`/api/v1/imports/${runId}`, admin.token);
      expect(run.body.status).toBe(c.run);
      const rows = await importRows(h, runId);
      expect(rows.map((r) => r.action)).toEqual(['import.start', 'import.finish']);
      const [start, finish] = rows;
      expect(start!.actor_user_id).toBe(admin.id);
      expect(JSON.parse(start!.after_json!)).toEqual({ runId, kind: c.kind });
      const after = JSON.parse(finish!.after_json!);
      expect(after).toMatchObject({
        runId,
        kind: c.kind,
        status: c.run,
        dryRun: c.query.dryRun === 'true',
        problems: run.body.errorCount,
      });
      expect(after.counts).toEqual(run.body.counts);
      // Written with the run's end, in its transaction: the same instant.
      expect(instant(finish!.at)).toBe(instant(run.body.finishedAt));
      const text = JSON.stringify([finish!.before_json, finish!.after_json, finish!.meta_json]);
      for (const word of personal) expect(text.toLowerCase()).not.toContain(word.toLowerCase());
    }
    // The refusals held what no row repeats: a child's UPN, a person's address.
    const texts = await h.database.db.selectFrom('import_runs').select('errors').execute();
    const stored = texts.map((t) => t.errors).join('\n');
    expect(stored).toContain('A999000000101');
    expect(stored).toContain('una-quist-at-home');
    // A run made ahead of its file is audited when made.
    const waiting = await h.post('/api/v1/imports', admin.token, { kind: 'staff' });
    expect((await importRows(h, waiting.body.id)).map((r) => r.action)).toEqual(['import.start']);
  });

  it('shows the rows to those who oversee the importer, the run named only to its starter', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await staffAt(h, org, 'admin');
    const done = await importAs(h, org, admin.token!, 'students');
    const runId: string = done.body.runId;
    const finishes = async (token: string | undefined) =>
      (await h.get('/api/v1/audit-log', token, { action: 'import.finish' })).body.items as any[];
    const own = await finishes(admin.token);
    expect(own).toHaveLength(1);
    expect(own[0].after).toMatchObject({ runId, kind: 'students', status: 'checked' });
    const overseen = await finishes(org.ownerToken);
    expect(overseen).toHaveLength(1);
    expect(overseen[0].after).toMatchObject({ kind: 'students', status: 'checked' });
    expect(overseen[0].after.runId).toBe('(withheld)');
    expect(JSON.stringify(overseen)).not.toContain(runId);
  });
});

describe('how long a run keeps its problems', () => {
  const haven = useHaven();
  const DAY = 24 * 60 * 60 * 1000;

  it('blanks the problems, unused columns and failure 30 days after a run ended, keeping status and counts', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const bad = 'UPN,Forename,Surname,DOB,Year,Hair\nA999000000601,Ada,Lovelace,31/02/2016,Y5,red';
    const refused = (await importAs(h, org, t, 'students', {}, bad)).body.runId as string;
    const checked = (await importAs(h, org, t, 'students', { dryRun: 'true' }, bad)).body
      .runId as string;
    const imported = (await importAs(h, org, t, 'staff', {})).body.runId as string;
    await importAs(h, org, t, 'students', {}, 'Colour\nblue');
    const failed = (
      await h.database.db
        .selectFrom('import_runs')
        .select('id')
        .where('status', '=', 'failed')
        .executeTakeFirstOrThrow()
    ).id;
    const waiting = (await h.post('/api/v1/imports', t, { kind: 'students' })).body.id as string;
    const read = async (id: string) => (await h.get(`/api/v1/imports/${id}`, t)).body;
    const before = Object.fromEntries(
      await Promise.all(
        [refused, checked, imported, failed, waiting].map(async (id) => [id, await read(id)]),
      ),
    );
    expect(before[refused].errors[0].text).toContain('31/02/2016');
    expect(before[checked].ignoredColumns).toEqual(['Hair']);
    expect(before[imported].counts.created).toBe(2);
    expect(before[failed].failure).toBeTruthy();

    // The refused run ended 31 days ago; the others today.
    await h.database.db
      .updateTable('import_runs')
      .set({ finished_at: new Date(Date.now() - 31 * DAY).toISOString() })
      .where('id', '=', refused)
      .execute();
    const first = await h.services.worker.runOnce();
    expect(first.importProblemsCleared).toBe(1);
    const cleared = await read(refused);
    expect(cleared).toMatchObject({
      status: 'refused',
      counts: before[refused].counts,
      errorCount: 1,
      errors: [],
      ignoredColumns: [],
      failure: null,
    });
    expect(cleared.problemsClearedAt).not.toBeNull();
    expect(await read(checked)).toEqual(before[checked]);

    // 29 days on, nothing more; 31 days on, every ended run, and the run that never got its file
    // (30 days after its last progress).
    const pass = (days: number) => h.services.worker.runOnce(new Date(Date.now() + days * DAY));
    expect((await pass(29)).importProblemsCleared).toBe(0);
    expect((await read(waiting)).problemsClearedAt).toBeNull();
    expect((await pass(31)).importProblemsCleared).toBe(4);
    for (const id of [checked, imported, failed, waiting]) {
      const run = await read(id);
      expect(run).toMatchObject({
        status: before[id].status,
        counts: before[id].counts,
        errorCount: before[id].errorCount,
        totalRows: before[id].totalRows,
        errors: [],
        ignoredColumns: [],
        failure: null,
      });
      expect(run.problemsClearedAt).not.toBeNull();
    }
    // Cleared once: a later pass finds nothing, and the first clearing keeps its date.
    expect((await pass(40)).importProblemsCleared).toBe(0);
    expect((await read(refused)).problemsClearedAt).toBe(cleared.problemsClearedAt);
  });
});
