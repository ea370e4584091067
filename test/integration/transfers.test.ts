import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { transferDecrypt } from '../../src/cli/transfer.ts';
import { decryptArchive } from '../../src/modules/transfers/archive.ts';
import { addSchoolDays, dayOf } from '../../src/modules/transfers/school-days.ts';
import { pdfPages, rawGet } from '../support/downloads.ts';
import { addMembers, addSchool, createUser, schoolDefaults } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, type School, school } from '../support/school.ts';

// Issue 16, item 1: a child's safeguarding file sent to another school on this installation,
// accepted by the receiving DSL, on a five-school-day clock.

async function rowCounts(h: TestHaven) {
  const db = h.database.db;
  const count = async (table: 'transfers' | 'audit_events' | 'incidents' | 'students') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  // Refusals are written to the audit log on purpose (src/server/refusals.ts); changes are not.
  const changes = await db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('category', '!=', 'denied')
    .executeTakeFirstOrThrow();
  return {
    transfers: await count('transfers'),
    audit: Number(changes.n),
    incidents: await count('incidents'),
    students: await count('students'),
  };
}

/** A sender with a standard and a child-protection concern about child A, logged by its DSL. */
async function sender(h: TestHaven) {
  const s = await school(h);
  const dslToken = s.users.dsl.token as string;
  const standard = await logConcern(h, s, dslToken, {
    sensitivity: 'standard',
    description: 'TRANSFER-STANDARD lunch money taken.',
  });
  const protection = await logConcern(h, s, dslToken, {
    sensitivity: 'child_protection',
    description: 'TRANSFER-CP disclosure at home.',
  });
  return { s, dslToken, standard, protection };
}

const send = (h: TestHaven, token: string | undefined, body: object) =>
  h.post('/api/v1/transfers', token, body);

/** A small, valid PDF for the documents that travel. */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

describe('transfers to another organisation on this installation', () => {
  const haven = useHaven();

  it('offers the file, the receiving DSL accepts, and the sender sees the receipt', async () => {
    const h = haven();
    const { s, dslToken, standard, protection } = await sender(h);
    const r: School = await school(h);
    const receiver = r.users.dsl.token as string;
    const body = { studentId: s.students.a, toSchoolId: r.org.schoolId, reason: 'Family moved' };
    // A document on the child-protection concern travels with the file, bytes and all.
    const uploaded = await h.request('POST', `/api/v1/incidents/${protection}/documents`, {
      token: dslToken,
      query: { filename: 'strategy-meeting.pdf' },
      headers: { 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(uploaded.status, JSON.stringify(uploaded.body)).toBe(201);

    // Before: the sending Viewer reads the standard concern.
    expect((await h.get(`/api/v1/incidents/${standard}`, s.users.viewer.token)).status).toBe(200);

    // Destinations: the sender's own organisation's schools, never another's.
    const destinations = await h.get('/api/v1/transfers/destinations', dslToken);
    expect(destinations.status).toBe(200);
    expect(destinations.body.items.map((d: any) => d.id)).toEqual([s.org.schoolId]);
    expect((await h.get('/api/v1/transfers/destinations', s.users.viewer.token)).status).toBe(403);

    // A Viewer may not send, and the refusal writes nothing.
    const before = await rowCounts(h);
    const refused = await send(h, s.users.viewer.token, body);
    expect(refused.status).toBe(403);
    expect(await rowCounts(h)).toEqual(before);

    const sent = await send(h, dslToken, body);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toEqual({ id: expect.any(String), status: 'sent' });
    const id = sent.body.id as string;

    // A second transfer of the same child waits for this one.
    const again = await send(h, dslToken, body);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('transfer_pending');

    // The offer: name, date of birth, sending school, reason; nothing of the records.
    const offers = await h.get('/api/v1/transfers', receiver, { direction: 'in' });
    expect(offers.status).toBe(200);
    expect(offers.body.items).toHaveLength(1);
    const offer = offers.body.items[0];
    expect(Object.keys(offer).sort()).toEqual(
      [
        'child',
        'dueOn',
        'fromSchool',
        'id',
        'reason',
        'receivedAt',
        'sentAt',
        'status',
        'toSchool',
      ].sort(),
    );
    expect(Object.keys(offer.child).sort()).toEqual(['dateOfBirth', 'name', 'studentId']);
    expect(offer.child.studentId).toBeNull();
    expect(JSON.stringify(offers.body)).not.toContain('TRANSFER-');
    expect(offer.reason).toBe('Family moved');
    // The receiver cannot reach the child or the records before (nor after) acceptance.
    expect((await h.get(`/api/v1/students/${s.students.a}`, receiver)).status).toBe(404);
    expect((await h.get(`/api/v1/incidents/${protection}`, receiver)).status).toBe(404);
    expect((await h.get(`/api/v1/transfers/${id}/file`, receiver)).status).toBe(404);
    // The receiving school's Viewers see no offer; the sender's lists hold it as sent.
    expect(
      (await h.get('/api/v1/transfers', r.users.viewer.token, { direction: 'in' })).body.items,
    ).toEqual([]);
    const out = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(out.body.items.map((x: any) => [x.id, x.status, x.kind, x.receivedAt])).toEqual([
      [id, 'sent', 'installation', null],
    ]);

    // Only the receiving DSL accepts; a Viewer there is refused and the refusal writes nothing.
    const mid = await rowCounts(h);
    expect((await h.post(`/api/v1/transfers/${id}/accept`, r.users.viewer.token)).status).toBe(403);
    expect((await h.post(`/api/v1/transfers/${id}/accept`, dslToken)).status).toBe(404);
    expect(await rowCounts(h)).toEqual(mid);

    const accepted = await h.post(`/api/v1/transfers/${id}/accept`, receiver);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.status).toBe('received');
    const newChild = accepted.body.studentId as string;
    expect(newChild).not.toBe(s.students.a);
    expect((await h.post(`/api/v1/transfers/${id}/accept`, receiver)).status).toBe(409);

    // The sender sees when and by whom it was received.
    const afterOut = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(afterOut.body.items[0]).toMatchObject({
      status: 'received',
      receivedAt: expect.any(String),
      receivedBy: 'Dina DSL',
    });

    // The receiving DSL (Safeguarding Team) reads both concerns at their school.
    const file = await h.get(`/api/v1/students/${newChild}/safeguarding-file`, receiver);
    expect(file.status, JSON.stringify(file.body)).toBe(200);
    const text = JSON.stringify(file.body.entries);
    expect(text).toContain('TRANSFER-STANDARD');
    expect(text).toContain('TRANSFER-CP');
    expect(file.body.child.school.id).toBe(r.org.schoolId);
    const sensitivities = file.body.entries.map((e: any) => e.concern.sensitivity).sort();
    expect(sensitivities).toEqual(['child_protection', 'standard']);
    // The receiving organisation's staff without a path to the child cannot.
    expect((await h.get(`/api/v1/students/${newChild}`, r.users.outsider.token)).status).toBe(404);
    // The document arrived under the receiving organisation, its bytes whole.
    const landed = file.body.entries.find(
      (e: any) => e.concern?.sensitivity === 'child_protection',
    ).concern;
    expect(landed.documents.map((d: any) => d.name)).toEqual(['strategy-meeting.pdf']);
    const copied = landed.documents[0].id as string;
    expect(copied).not.toBe(uploaded.body.id);
    const bytes = await rawGet(h, receiver, `/api/v1/documents/${copied}`);
    expect(bytes.status).toBe(200);
    expect(bytes.bytes.equals(PDF)).toBe(true);
    expect((await rawGet(h, r.users.outsider.token, `/api/v1/documents/${copied}`)).status).toBe(
      404,
    );

    // The sending Viewer no longer reads the child's records; the sending DSL keeps the copy.
    expect((await h.get(`/api/v1/incidents/${standard}`, s.users.viewer.token)).status).toBe(404);
    const copy = await h.get(`/api/v1/transfers/${id}/file`, dslToken);
    expect(copy.status).toBe(200);
    expect(JSON.stringify(copy.body.entries)).toContain('TRANSFER-CP');
    expect((await h.get(`/api/v1/transfers/${id}/file`, s.users.viewer.token)).status).toBe(403);

    // Audit: send in the sender's chain, accept in the receiver's, no record content in either.
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'organisation_id', 'after_json'])
      .where('action', 'like', 'transfer.%')
      .orderBy('at')
      .execute();
    expect(audit.map((a) => [a.action, a.organisation_id])).toEqual([
      ['transfer.send', s.org.organisationId],
      ['transfer.accept', r.org.organisationId],
    ]);
    expect(JSON.stringify(audit)).not.toContain('TRANSFER-');
  });

  it('refuses an Admin who cannot read the whole file, writing nothing', async () => {
    const h = haven();
    const { s } = await sender(h);
    const r = await school(h);
    // An Admin in the Year 9 team: they see the child and the standard concern, not the other.
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    await addMembers(h, s.t, s.team, [admin.id]);
    expect((await h.get(`/api/v1/students/${s.students.a}`, admin.token)).status).toBe(200);
    const before = await rowCounts(h);
    const refused = await send(h, admin.token, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Moved',
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('file_not_whole');
    expect(await rowCounts(h)).toEqual(before);
  });
});

describe('transfers within one organisation', () => {
  const haven = useHaven();

  it('moves the child and their records to the new school on acceptance', async () => {
    const h = haven();
    const { s, dslToken, standard } = await sender(h);
    const other = await addSchool(h, s.t, 'Northfield Academy');
    const otherDsl = await createUser(h, s.t, {
      name: 'Nadia North',
      role: 'dsl',
      scope: { type: 'school', id: other },
    });
    const { safeguardingTeamId } = await schoolDefaults(h, s.t, other);
    await addMembers(h, s.t, safeguardingTeamId, [otherDsl.id]);

    const sent = await send(h, dslToken, {
      studentId: s.students.a,
      toSchoolId: other,
      reason: 'Moved',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const id = sent.body.id;
    const out = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(out.body.items[0].kind).toBe('organisation');
    // Nadia cannot read the child before acceptance.
    expect((await h.get(`/api/v1/incidents/${standard}`, otherDsl.token)).status).toBe(404);

    const accepted = await h.post(`/api/v1/transfers/${id}/accept`, otherDsl.token);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.studentId).toBe(s.students.a);
    const child = await h.get(`/api/v1/students/${s.students.a}`, otherDsl.token);
    expect(child.status, JSON.stringify(child.body)).toBe(200);
    expect(child.body.schoolId).toBe(other);
    const moved = await h.get(`/api/v1/incidents/${standard}`, otherDsl.token);
    expect(moved.status).toBe(200);
    expect(moved.body.schoolId).toBe(other);
    // The old school's Viewer no longer reads it; its DSL keeps the copy.
    expect((await h.get(`/api/v1/incidents/${standard}`, s.users.viewer.token)).status).toBe(404);
    expect((await h.get(`/api/v1/transfers/${id}/file`, dslToken)).status).toBe(200);
  });
});

describe('the school-day clock of a transfer', () => {
  const haven = useHaven();

  it('is five school days from the day sent, skipping the sending school’s holidays', async () => {
    const h = haven();
    const { s, dslToken } = await sender(h);
    const r = await school(h);
    const today = dayOf(new Date().toISOString());
    const plain = addSchoolDays(today, 5, []);
    // A holiday on the next two school days pushes the day by two school days.
    const first = addSchoolDays(today, 1, []);
    const second = addSchoolDays(today, 2, []);
    expect(
      (
        await h.post(`/api/v1/schools/${s.org.schoolId}/holidays`, s.users.viewer.token, {
          startsOn: first,
          endsOn: second,
          name: 'Inset',
        })
      ).status,
    ).toBe(403);
    const added = await h.post(`/api/v1/schools/${s.org.schoolId}/holidays`, s.t, {
      startsOn: first,
      endsOn: second,
      name: 'Inset',
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    // The receiving school's holidays do not count.
    await h.post(`/api/v1/schools/${r.org.schoolId}/holidays`, r.t, {
      startsOn: today,
      endsOn: addSchoolDays(today, 20, []),
      name: 'Long',
    });
    const listed = await h.get(`/api/v1/schools/${s.org.schoolId}/holidays`, s.t);
    expect(listed.body.items.map((x: any) => x.name)).toEqual(['Inset']);
    const sent = await send(h, dslToken, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Moved',
    });
    expect(sent.status).toBe(201);
    const out = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(out.body.items[0].dueOn).toBe(addSchoolDays(today, 7, []));
    expect(out.body.items[0].dueOn).not.toBe(plain);
    expect(out.body.items[0].overdue).toBe(false);
  });
});

describe('an overdue transfer', () => {
  const haven = useHaven();

  it("alerts the sending school's DSLs once, however many passes run", async () => {
    const h = haven();
    const { s, dslToken } = await sender(h);
    const r = await school(h);
    const sent = await send(h, dslToken, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Moved',
    });
    expect(sent.status).toBe(201);
    const overdueAlerts = async (token: string | undefined) =>
      ((await h.get('/api/v1/alerts', token)).body.items as any[]).filter(
        (a) => a.kind === 'transfer_overdue',
      );

    // Not yet due: nothing.
    await h.services.worker.runOnce();
    expect(await overdueAlerts(dslToken)).toEqual([]);

    await h.database.db
      .updateTable('transfers')
      .set({ due_on: '2026-01-05' })
      .where('id', '=', sent.body.id)
      .execute();
    const out = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(out.body.items[0].overdue).toBe(true);
    const [first, second] = await Promise.all([
      h.services.worker.runOnce(),
      h.services.worker.runOnce(),
    ]);
    expect(first.overdueTransfers + second.overdueTransfers).toBe(1);
    await h.services.worker.runOnce();
    const alerts = await overdueAlerts(dslToken);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].incidentId).toBeNull();
    // The school's Viewer and the receiving DSL are not told.
    expect(await overdueAlerts(s.users.viewer.token)).toEqual([]);
    expect(await overdueAlerts(r.users.dsl.token)).toEqual([]);
  });
});

describe('transfers to a school not on Haven', () => {
  const haven = useHaven();

  it('exports the PDF and an encrypted archive, both downloads logged, and records receipt by hand', async () => {
    const h = haven();
    const { s, dslToken, standard } = await sender(h);
    // Not in the file: a deleted concern and a concern about another child.
    const gone = await logConcern(h, s, dslToken, { description: 'TRANSFER-DELETED never sent.' });
    expect((await h.delete(`/api/v1/incidents/${gone}`, dslToken)).status).toBe(204);
    await logConcern(h, s, dslToken, {
      studentIds: [s.students.b],
      description: 'TRANSFER-OTHER-CHILD not this file.',
    });
    const uploaded = await h.request('POST', `/api/v1/incidents/${standard}/documents`, {
      token: dslToken,
      query: { filename: 'referral.pdf' },
      headers: { 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(uploaded.status).toBe(201);

    const body = {
      studentId: s.students.a,
      external: { schoolName: 'Elm Valley School', contact: 'dsl@elmvalley.example' },
      reason: 'Moved out of area',
    };
    expect((await send(h, s.users.viewer.token, body)).status).toBe(403);
    const sent = await send(h, dslToken, body);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const { id, passphrase } = sent.body;
    expect(passphrase).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){5}$/);
    // The passphrase is not kept anywhere.
    const row = await h.database.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify({ ...row, archive: null })).not.toContain(passphrase);

    const pdf = await rawGet(h, dslToken, `/api/v1/transfers/${id}/pdf`);
    expect(pdf.status).toBe(200);
    const text = (await pdfPages(pdf.bytes)).join('\n').replace(/\s+/g, ' ');
    expect(text).toContain('TRANSFER-STANDARD');
    expect(text).toContain('TRANSFER-CP');
    expect(text).toContain('referral.pdf');
    expect(text).not.toContain('TRANSFER-DELETED');
    expect(text).not.toContain('TRANSFER-OTHER-CHILD');

    const archive = await rawGet(h, dslToken, `/api/v1/transfers/${id}/archive`);
    expect(archive.status).toBe(200);
    expect(archive.bytes.toString('latin1')).not.toContain('TRANSFER-');
    const opened = decryptArchive(passphrase, archive.bytes);
    expect(JSON.stringify(opened.file)).toContain('TRANSFER-CP');
    expect(opened.documents.map((d) => d.name)).toEqual(['referral.pdf']);
    expect(Buffer.from(opened.documents[0]!.content, 'base64').equals(PDF)).toBe(true);
    expect(Buffer.from(opened.pdf, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
    expect(() => decryptArchive('wrong-pass-phrase', archive.bytes)).toThrow(/passphrase/);
    const changed = Buffer.from(archive.bytes);
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
    expect(() => decryptArchive(passphrase, changed)).toThrow();

    // `haven transfer decrypt` writes the file, the PDF and the documents; a wrong passphrase fails.
    const dir = await mkdtemp(join(tmpdir(), 'haven-transfer-'));
    await writeFile(join(dir, 'archive.haven'), archive.bytes);
    const lines: string[] = [];
    const io = (passphrase: string) => ({
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
      env: { HAVEN_TRANSFER_PASSPHRASE: passphrase },
    });
    expect(await transferDecrypt([join(dir, 'archive.haven'), join(dir, 'bad')], io('nope'))).toBe(
      1,
    );
    expect(
      await transferDecrypt([join(dir, 'archive.haven'), join(dir, 'out')], io(passphrase)),
    ).toBe(0);
    expect(await readFile(join(dir, 'out', 'safeguarding-file.json'), 'utf8')).toContain(
      'TRANSFER-CP',
    );
    await rm(dir, { recursive: true, force: true });

    // A Viewer may not download either.
    expect((await rawGet(h, s.users.viewer.token, `/api/v1/transfers/${id}/archive`)).status).toBe(
      403,
    );

    // Receipt by hand; a refusal writes nothing.
    const before = await rowCounts(h);
    expect(
      (
        await h.post(`/api/v1/transfers/${id}/receipt`, s.users.viewer.token, {
          receivedBy: 'Ms Elm',
          receivedOn: '2026-12-02',
        })
      ).status,
    ).toBe(403);
    expect(await rowCounts(h)).toEqual(before);
    const receipt = await h.post(`/api/v1/transfers/${id}/receipt`, dslToken, {
      receivedBy: 'Ms Elm',
      receivedOn: '2026-12-02',
      note: 'Confirmed by phone',
    });
    expect(receipt.status, JSON.stringify(receipt.body)).toBe(200);
    const out = await h.get('/api/v1/transfers', dslToken, { direction: 'out' });
    expect(out.body.items[0]).toMatchObject({
      kind: 'external',
      status: 'received',
      receivedBy: 'Ms Elm',
      external: { schoolName: 'Elm Valley School' },
    });

    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'after_json'])
      .where('action', 'like', 'transfer.%')
      .orderBy('at')
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      'transfer.send',
      'transfer.download',
      'transfer.download',
      'transfer.receipt',
    ]);
    expect(JSON.stringify(audit)).not.toContain('TRANSFER-');
  });
});
