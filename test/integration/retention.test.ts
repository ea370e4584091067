import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAuditChains } from '../../src/modules/audit/verify.ts';
import { FileDocumentStore } from '../../src/modules/documents/storage.ts';
import { addSchool, createStudent, createUser, setupOrganisation } from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { useHaven } from '../support/haven.ts';
import { headTeachers, type School, school } from '../support/school.ts';

// Issue 16, item 4: every record's retention day from its category; a queue of records past it;
// a DSL extends, holds or approves destruction; destruction leaves a tombstone and a valid chain.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

async function concern(
  h: TestHaven,
  s: School,
  token: string,
  spec: {
    sensitivity?: string;
    studentIds?: string[];
    occurredAt: string;
    subjectUserId?: string;
    description?: string;
    schoolId?: string;
    categoryId?: string;
  },
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: spec.schoolId ?? s.org.schoolId,
    studentIds: spec.studentIds ?? [s.students.a],
    categoryId: spec.categoryId ?? s.category(spec.sensitivity ?? 'standard'),
    occurredAt: spec.occurredAt,
    location: 'Playground',
    description: spec.description ?? 'MKCONTENT said something at break.',
    ...(spec.subjectUserId ? { subjectUserId: spec.subjectUserId } : {}),
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

async function born(h: TestHaven, s: School, studentId: string, dateOfBirth: string) {
  const reply = await h.patch(`/api/v1/students/${studentId}`, s.t, { dateOfBirth });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
}

const retention = (h: TestHaven, token: string, id: string) =>
  h.get(`/api/v1/retention/records/${id}`, token);
const decide = (h: TestHaven, token: string, id: string, body: object) =>
  h.post(`/api/v1/retention/records/${id}/decisions`, token, body);
const queue = async (h: TestHaven, token: string, schoolId: string) => {
  const reply = await h.get('/api/v1/retention/queue', token, { schoolId });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return (reply.body.items as { id: string }[]).map((i) => i.id);
};

/** Everything that would change if a decision went through: compared before and after a refusal. */
async function snapshot(h: TestHaven, id: string) {
  const db = h.database.db;
  const [incident, decisions, revisions, documents, audit] = await Promise.all([
    db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('retention_decisions').selectAll().where('incident_id', '=', id).execute(),
    db.selectFrom('incident_revisions').select('revision').where('incident_id', '=', id).execute(),
    db.selectFrom('documents').select('id').where('incident_id', '=', id).execute(),
    db.selectFrom('audit_events').select('id').where('category', '=', 'change').execute(),
  ]);
  return { incident, decisions, revisions, documents, audit: audit.length };
}

describe('retention', () => {
  const haven = useHaven();

  it('gives each sensitivity its day, from a date of birth and a subject’s date', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await headTeachers(h, s, [s.users.dsl.id]);
    const { a, b } = s.students;

    // Child protection: the youngest named child's 25th birthday.
    await born(h, s, a, '2012-03-14');
    await born(h, s, b, '2014-07-01');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [a, b],
      occurredAt: '2024-05-01T09:00:00Z',
    });
    expect((await retention(h, dsl, cp)).body).toMatchObject({
      retainUntil: '2039-07-01',
      rule: 'child_protection_25th_birthday',
      due: false,
    });
    // A child with no date of birth: 25 years from the record, never before any 25th birthday.
    const cpUnknown = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [a, s.students.c],
      occurredAt: '2024-05-01T09:00:00Z',
    });
    expect((await retention(h, dsl, cpUnknown)).body).toMatchObject({
      retainUntil: '2049-05-01',
      rule: 'child_protection_birth_date_unknown',
    });

    // Allegation: ten years until the subject's date of birth is recorded.
    const allegation = await concern(h, s, dsl, {
      sensitivity: 'allegation',
      subjectUserId: s.users.colleague.id,
      occurredAt: '2020-02-10T12:00:00Z',
    });
    expect((await retention(h, dsl, allegation)).body).toMatchObject({
      retainUntil: '2030-02-10',
      rule: 'allegation_subject_birth_date_unknown',
    });
    // Born 1980: retires at 67 in 2047, later than ten years.
    const young = await decide(h, dsl, allegation, {
      action: 'subject_born',
      dateOfBirth: '1980-09-30',
      reason: 'From the personnel file',
    });
    expect(young.status, JSON.stringify(young.body)).toBe(200);
    expect(young.body).toMatchObject({
      retainUntil: '2047-09-30',
      rule: 'allegation_retirement_age',
      subjectBornOn: '1980-09-30',
    });
    // Born 1955: retirement age passed long ago; ten years from the allegation wins.
    const old = await decide(h, dsl, allegation, {
      action: 'subject_born',
      dateOfBirth: '1955-01-01',
    });
    expect(old.body).toMatchObject({ retainUntil: '2030-02-10', rule: 'allegation_ten_years' });

    // Other records: the school's setting, six years by default, then as the Admin sets it.
    const std = await concern(h, s, dsl, { occurredAt: '2023-11-30T08:00:00Z' });
    expect((await retention(h, dsl, std)).body).toMatchObject({
      retainUntil: '2029-11-30',
      rule: 'school_retention_years',
    });
    const set = await h.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, {
      retentionYears: 10,
    });
    expect(set.status).toBe(200);
    expect(set.body.retentionYears).toBe(10);
    expect((await retention(h, dsl, std)).body.retainUntil).toBe('2033-11-30');

    // A child's date of birth corrected moves the day at once.
    await born(h, s, b, '2013-01-02');
    expect((await retention(h, dsl, cp)).body.retainUntil).toBe('2038-01-02');
  });

  it('destroys nothing without a DSL’s approval; legal hold blocks it; the chain verifies after', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const a = s.students.a;
    await born(h, s, a, '1995-06-01');
    // Past its day (the 25th birthday, 2020), with a revision, an action and a document.
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2008-04-01T10:00:00Z',
      description: 'MKFIRST account.',
    });
    const current = await h.get(`/api/v1/incidents/${cp}`, dsl);
    const edited = await h.patch(`/api/v1/incidents/${cp}`, dsl, {
      revision: current.body.revision,
      description: 'MKSECOND account.',
    });
    expect(edited.status).toBe(200);
    const act = await h.post(`/api/v1/incidents/${cp}/actions`, dsl, {
      title: 'MKACTION refer',
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(act.status).toBe(201);
    const doc = await h.request('POST', `/api/v1/incidents/${cp}/documents`, {
      token: dsl,
      query: { filename: 'mkdoc.pdf' },
      headers: { 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(doc.status).toBe(201);
    const documentId = doc.body.id as string;
    const bytes = FileDocumentStore.inDataDir(h.config.dataDir).fileOf(documentId);
    expect(existsSync(bytes)).toBe(true);
    // Not yet due (kept until 2032).
    const recent = await concern(h, s, dsl, { occurredAt: '2026-01-05T10:00:00Z' });

    // Past its day, it is in the queue and nothing has gone: the queue only lists.
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([cp]);
    expect((await retention(h, dsl, cp)).body).toMatchObject({
      retainUntil: '2020-06-01',
      due: true,
    });
    expect((await h.get(`/api/v1/incidents/${cp}`, dsl)).body.description).toBe(
      'MKSECOND account.',
    );

    // Only a DSL (or Owner) decides: a Viewer who reads it is refused, and nothing changes.
    const before = await snapshot(h, cp);
    const viewer = await createUser(h, s.t, { role: 'viewer', scope: s.atSchool });
    const deputy = await createUser(h, s.t, { role: 'deputy_dsl', scope: s.atSchool });
    for (const who of [viewer, deputy]) {
      const refused = await decide(h, who.token!, cp, { action: 'destroy' });
      expect(refused.status).toBe(403);
    }
    // Not yet due: refused.
    const early = await decide(h, dsl, recent, { action: 'destroy' });
    expect([early.status, early.body.code]).toEqual([409, 'retention_not_reached']);

    // Legal hold blocks destruction until released.
    const held = await decide(h, dsl, cp, { action: 'hold', reason: 'Police investigation' });
    expect(held.status).toBe(200);
    expect(held.body.legalHoldSince).not.toBeNull();
    expect(held.body.due).toBe(false);
    const whileHeld = await snapshot(h, cp);
    const blocked = await decide(h, dsl, cp, { action: 'destroy' });
    expect([blocked.status, blocked.body.code]).toEqual([409, 'legal_hold']);
    expect(await snapshot(h, cp)).toEqual(whileHeld);
    expect((await decide(h, dsl, cp, { action: 'hold', reason: 'again' })).body.code).toBe(
      'already_on_hold',
    );
    expect(before.decisions).toEqual([]);
    const released = await decide(h, dsl, cp, { action: 'release', reason: 'Case closed' });
    expect(released.status).toBe(200);
    expect(released.body.legalHoldSince).toBeNull();

    // Extend: kept longer, with a reason; out of the queue until then.
    const extended = await decide(h, dsl, cp, {
      action: 'extend',
      until: '2099-01-01',
      reason: 'Sibling case open',
    });
    expect(extended.body).toMatchObject({ retainUntil: '2099-01-01', extendedTo: '2099-01-01' });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([]);
    expect((await decide(h, dsl, cp, { action: 'destroy' })).body.code).toBe(
      'retention_not_reached',
    );
    const noReason = await decide(h, dsl, cp, { action: 'extend', until: '2100-01-01' });
    expect(noReason.status).toBe(400);
    // Back to its day (the extension can be set no earlier than the day, so put it right in data).
    await h.database.db
      .updateTable('incidents')
      .set({ retain_extended_to: null })
      .where('id', '=', cp)
      .execute();

    // The DSL approves: destroyed at once.
    const destroyed = await decide(h, dsl, cp, { action: 'destroy' });
    expect(destroyed.status, JSON.stringify(destroyed.body)).toBe(200);
    expect(destroyed.body.destroyedAt).not.toBeNull();
    expect(destroyed.body.decisions.map((d: any) => d.action)).toEqual([
      'hold',
      'release',
      'extend',
      'destroy',
    ]);
    expect(destroyed.body.decisions[0]).toMatchObject({
      reason: 'Police investigation',
      decidedBy: { id: s.users.dsl.id, name: 'Dina DSL' },
    });
    const after = await snapshot(h, cp);
    expect(after.incident).toMatchObject({ description: '', location: null });
    expect(after.incident.destroyed_at).not.toBeNull();
    expect(after.revisions).toEqual([]);
    expect(after.documents).toEqual([]);
    expect(existsSync(bytes)).toBe(false);
    const actions = await h.database.db
      .selectFrom('actions')
      .select('title')
      .where('incident_id', '=', cp)
      .execute();
    expect(actions).toEqual([{ title: '' }]);
    // Nothing of it is left to read; the tombstone is not in the queue; again is refused.
    expect((await h.get(`/api/v1/incidents/${cp}`, dsl)).status).toBe(404);
    expect((await h.get(`/api/v1/documents/${documentId}`, dsl)).status).toBe(404);
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([]);
    expect((await decide(h, dsl, cp, { action: 'destroy' })).body.code).toBe('record_destroyed');
    const everything = await h.database.db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(everything)).not.toMatch(/MKFIRST|MKSECOND|Police investigation/);

    // The tombstone in the chain: what, when, who approved, which rule; and the chain verifies.
    const tomb = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'incident.destroy')
      .executeTakeFirstOrThrow();
    expect(tomb).toMatchObject({ target_id: cp, actor_user_id: s.users.dsl.id });
    expect(JSON.parse(tomb.after_json!)).toMatchObject({
      what: {
        schoolId: s.org.schoolId,
        sensitivity: 'child_protection',
        revisions: 1,
        documentIds: [documentId],
        actions: 1,
      },
      approvedBy: s.users.dsl.id,
      rule: 'child_protection_25th_birthday',
      retainUntil: '2020-06-01',
      destroyedAt: tomb.at,
    });
    const report = await verifyAuditChains(h.database.db);
    expect(report.problems).toEqual([]);
    expect(report.rows).toBeGreaterThan(0);
  });

  it('waits for an allegation subject’s date of birth before destroying', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await headTeachers(h, s, [s.users.dsl.id]);
    const allegation = await concern(h, s, dsl, {
      sensitivity: 'allegation',
      subjectUserId: s.users.colleague.id,
      occurredAt: '2012-03-01T10:00:00Z',
    });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([allegation]);
    const before = await snapshot(h, allegation);
    const refused = await decide(h, dsl, allegation, { action: 'destroy' });
    expect([refused.status, refused.body.code]).toEqual([409, 'subject_birth_date_unknown']);
    expect(await snapshot(h, allegation)).toEqual(before);
    // Born 1970: retires 2037, so it is kept after all.
    await decide(h, dsl, allegation, { action: 'subject_born', dateOfBirth: '1970-05-05' });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([]);
    // Born 1940: ten years (2022) holds, and it can go.
    await decide(h, dsl, allegation, { action: 'subject_born', dateOfBirth: '1940-05-05' });
    const gone = await decide(h, dsl, allegation, { action: 'destroy' });
    expect(gone.status).toBe(200);
    expect(gone.body.rule).toBe('allegation_ten_years');
    const standard = await concern(h, s, dsl, { occurredAt: '2015-01-01T10:00:00Z' });
    expect(
      (await decide(h, dsl, standard, { action: 'subject_born', dateOfBirth: '1970-01-01' })).body
        .code,
    ).toBe('not_an_allegation');
  });

  it('keeps an allegation to the organisation’s retirement age, which the Owner sets', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await headTeachers(h, s, [s.users.dsl.id]);
    expect((await h.get('/api/v1/organisation', s.t)).body.settings).toEqual({ retirementAge: 67 });
    // Alleged 2012, subject born 1958: 67 is 2025 (past), 70 is 2028 (not yet).
    const allegation = await concern(h, s, dsl, {
      sensitivity: 'allegation',
      subjectUserId: s.users.colleague.id,
      occurredAt: '2012-03-01T10:00:00Z',
    });
    await decide(h, dsl, allegation, { action: 'subject_born', dateOfBirth: '1958-05-05' });
    expect((await retention(h, dsl, allegation)).body).toMatchObject({
      retainUntil: '2025-05-05',
      rule: 'allegation_retirement_age',
      due: true,
    });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([allegation]);

    // Out of range, fractional or asked by a DSL: refused, and nothing moves.
    for (const retirementAge of [54, 76, 67.5, '70']) {
      const bad = await h.patch('/api/v1/organisation', s.t, { retirementAge });
      expect([bad.status, bad.body.code], JSON.stringify(bad.body)).toEqual([
        400,
        'validation_failed',
      ]);
    }
    expect((await h.patch('/api/v1/organisation', dsl, { retirementAge: 70 })).status).toBe(403);
    expect((await retention(h, dsl, allegation)).body.retainUntil).toBe('2025-05-05');

    const set = await h.patch('/api/v1/organisation', s.t, { retirementAge: 70 });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.settings).toEqual({ retirementAge: 70 });
    expect((await h.get('/api/v1/organisation', s.t)).body.settings.retirementAge).toBe(70);
    expect((await retention(h, dsl, allegation)).body).toMatchObject({
      retainUntil: '2028-05-05',
      rule: 'allegation_retirement_age',
      due: false,
    });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([]);
    // Below ten years from the allegation (2022), ten years holds.
    await h.patch('/api/v1/organisation', s.t, { retirementAge: 55 });
    expect((await retention(h, dsl, allegation)).body).toMatchObject({
      retainUntil: '2022-03-01',
      rule: 'allegation_ten_years',
    });
    // A rename keeps the setting; each change is audited with what it named.
    await h.patch('/api/v1/organisation', s.t, { name: 'Oak Learning Trust' });
    expect((await h.get('/api/v1/organisation', s.t)).body.settings.retirementAge).toBe(55);
    const log = await h.get('/api/v1/audit-log', s.t, { action: 'organisation.update' });
    expect(
      (log.body.items as { before: object; after: object }[]).map((e) => [e.before, e.after]),
    ).toEqual(
      expect.arrayContaining([
        [
          { name: 'Oak Trust', retirementAge: 67 },
          { name: expect.any(String), retirementAge: 70 },
        ],
        [
          { name: expect.any(String), retirementAge: 70 },
          { name: expect.any(String), retirementAge: 55 },
        ],
        [{ name: expect.any(String) }, { name: 'Oak Learning Trust' }],
      ]),
    );
    expect(log.body.items).toHaveLength(3);
  });

  it('lists only records the DSL may read, of their school and organisation', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const a = s.students.a;
    await born(h, s, a, '1990-01-01');
    const readable = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2005-01-01T10:00:00Z',
    });
    // Past its day, but the DSL is on its exclusion list.
    const hidden = await concern(h, s, s.t, { occurredAt: '2005-01-01T10:00:00Z' });
    const ex = await h.put(`/api/v1/incidents/${hidden}/exclusions`, s.t, {
      userIds: [s.users.dsl.id],
    });
    expect(ex.status).toBe(200);
    // Another school's record, past its day: not in this school's queue, and that school's
    // queue is refused to a DSL of this one.
    const birch = await addSchool(h, s.t, 'Birch Academy');
    const birchChild = await createStudent(h, s.t, { schoolId: birch });
    await born(h, s, birchChild, '1990-01-01');
    const birchCategory = (
      await h.get('/api/v1/categories', s.t, { schoolId: birch })
    ).body.items.find((c: any) => c.sensitivity === 'standard').id;
    const elsewhere = await concern(h, s, s.t, {
      schoolId: birch,
      categoryId: birchCategory,
      studentIds: [birchChild],
      occurredAt: '2005-01-01T10:00:00Z',
    });
    expect(await queue(h, dsl, s.org.schoolId)).toEqual([readable]);
    expect((await h.get('/api/v1/retention/queue', dsl, { schoolId: birch })).status).toBe(403);
    expect((await retention(h, dsl, hidden)).status).toBe(404);
    expect((await decide(h, dsl, hidden, { action: 'destroy' })).status).toBe(404);
    expect((await retention(h, dsl, elsewhere)).status).toBe(404);
    // The Owner sees both of this school's records; the other school's in its own queue.
    expect((await queue(h, s.t, s.org.schoolId)).sort()).toEqual([readable, hidden].sort());
    expect(await queue(h, s.t, birch)).toEqual([elsewhere]);
    // Another organisation: its school is not found, its records not found.
    const other = await setupOrganisation(h);
    expect(
      (await h.get('/api/v1/retention/queue', other.ownerToken, { schoolId: s.org.schoolId }))
        .status,
    ).toBe(404);
    expect((await retention(h, other.ownerToken, readable)).status).toBe(404);
    // A Viewer may not ask for the queue at all.
    expect(
      (await h.get('/api/v1/retention/queue', s.users.viewer.token!, { schoolId: s.org.schoolId }))
        .status,
    ).toBe(403);
  });
});
