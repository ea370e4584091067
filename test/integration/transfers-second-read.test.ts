import { describe, expect, it } from 'vitest';
import { dayOf } from '../../src/modules/transfers/school-days.ts';
import { addMembers, addSchool, createUser, schoolDefaults } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, school } from '../support/school.ts';

// Issue 16, items 1-2, read a second time: who may accept an offer, and what an accepted
// transfer moves.

/** A DSL on the Safeguarding Team of a new school `name` of the school's organisation. */
async function dslAt(h: TestHaven, token: string, name: string) {
  const schoolId = await addSchool(h, token, name);
  const dsl = await createUser(h, token, { role: 'dsl', scope: { type: 'school', id: schoolId } });
  const { safeguardingTeamId } = await schoolDefaults(h, token, schoolId);
  await addMembers(h, token, safeguardingTeamId, [dsl.id]);
  return { schoolId, token: dsl.token as string };
}

describe('transfers, read a second time', () => {
  const haven = useHaven();

  it("answers 404, not 403, to a DSL of the receiving organisation's other school", async () => {
    const h = haven();
    const s = await school(h);
    const r = await school(h);
    const elsewhere = await dslAt(h, r.t, 'Southfield Primary');
    const sent = await h.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Moved',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const id = sent.body.id as string;
    // The other school's DSL has no offer listed, so the transfer is unseen: 404, and nothing moves.
    const listed = await h.get('/api/v1/transfers', elsewhere.token, { direction: 'in' });
    expect(listed.body.items).toEqual([]);
    const refused = await h.post(`/api/v1/transfers/${id}/accept`, elsewhere.token);
    expect(refused.status).toBe(404);
    const row = await h.database.db
      .selectFrom('transfers')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('sent');
    // The right DSL still accepts it.
    expect((await h.post(`/api/v1/transfers/${id}/accept`, r.users.dsl.token)).status).toBe(200);
  });

  it("leaves a concern that is also about another child at that child's school", async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token as string;
    const shared = await logConcern(h, s, dsl, {
      studentIds: [s.students.a, s.students.b],
      description: 'SHARED-CONCERN about A and B.',
    });
    const own = await logConcern(h, s, dsl, { description: 'ONLY-A concern.' });
    const other = await dslAt(h, s.t, 'Northfield Academy');
    const sent = await h.post('/api/v1/transfers', dsl, {
      studentId: s.students.a,
      toSchoolId: other.schoolId,
      reason: 'Moved',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const accepted = await h.post(`/api/v1/transfers/${sent.body.id}/accept`, other.token);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    // A's own concern moves with A.
    expect((await h.get(`/api/v1/incidents/${own}`, other.token)).status).toBe(200);
    expect((await h.get(`/api/v1/incidents/${own}`, s.users.viewer.token)).status).toBe(404);
    // Child B stays at the sending school, whose staff still read the concern about B; the
    // receiving school reads it as one of A's (as the file sent to another organisation does).
    const b = await h.get(`/api/v1/students/${s.students.b}`, dsl);
    expect(b.body.schoolId).toBe(s.org.schoolId);
    expect((await h.get(`/api/v1/incidents/${shared}`, dsl)).status).toBe(200);
    expect((await h.get(`/api/v1/incidents/${shared}`, s.users.viewer.token)).status).toBe(200);
    expect((await h.get(`/api/v1/incidents/${shared}`, other.token)).status).toBe(200);
  });

  it('accepts nothing cancelled and cancels nothing received', async () => {
    const h = haven();
    const s = await school(h);
    const r = await school(h);
    const body = { studentId: s.students.a, toSchoolId: r.org.schoolId, reason: 'Moved' };
    const first = await h.post('/api/v1/transfers', s.users.dsl.token, body);
    expect(
      (await h.post(`/api/v1/transfers/${first.body.id}/cancel`, s.users.dsl.token)).status,
    ).toBe(200);
    expect(
      (await h.post(`/api/v1/transfers/${first.body.id}/accept`, r.users.dsl.token)).status,
    ).toBe(404);
    const second = await h.post('/api/v1/transfers', s.users.dsl.token, body);
    expect(second.status).toBe(201);
    expect(
      (await h.post(`/api/v1/transfers/${second.body.id}/accept`, r.users.dsl.token)).status,
    ).toBe(200);
    const cancel = await h.post(`/api/v1/transfers/${second.body.id}/cancel`, s.users.dsl.token);
    expect(cancel.status).toBe(409);
    expect(cancel.body.code).toBe('transfer_closed');
    // The receiver cannot cancel, nor read the sender's kept copy.
    expect(
      (await h.post(`/api/v1/transfers/${second.body.id}/cancel`, r.users.dsl.token)).status,
    ).toBe(404);
    expect(
      (await h.get(`/api/v1/transfers/${second.body.id}/file`, r.users.dsl.token)).status,
    ).toBe(404);
  });

  it('lands an offer once when accepted twice at once, or accepted and withdrawn at once', async () => {
    const h = haven();
    const s = await school(h);
    const r = await school(h);
    const body = { studentId: s.students.a, toSchoolId: r.org.schoolId, reason: 'Moved' };
    const first = await h.post('/api/v1/transfers', s.users.dsl.token, body);
    const both = await Promise.all([
      h.post(`/api/v1/transfers/${first.body.id}/accept`, r.users.dsl.token),
      h.post(`/api/v1/transfers/${first.body.id}/accept`, r.users.dsl.token),
    ]);
    expect(both.map((b) => b.status).sort()).toEqual([200, 409]);
    const landed = await h.database.db
      .selectFrom('students')
      .select('id')
      .where('organisation_id', '=', r.org.organisationId)
      .where(
        'given_name',
        '=',
        (
          await h.database.db
            .selectFrom('students')
            .select('given_name')
            .where('id', '=', s.students.a)
            .executeTakeFirstOrThrow()
        ).given_name,
      )
      .execute();
    expect(landed).toHaveLength(1);

    const second = await h.post('/api/v1/transfers', s.users.dsl.token, {
      ...body,
      studentId: s.students.b,
    });
    const raced = await Promise.all([
      h.post(`/api/v1/transfers/${second.body.id}/accept`, r.users.dsl.token),
      h.post(`/api/v1/transfers/${second.body.id}/cancel`, s.users.dsl.token),
    ]);
    const row = await h.database.db
      .selectFrom('transfers')
      .select(['status', 'received_student_id'])
      .where('id', '=', second.body.id)
      .executeTakeFirstOrThrow();
    // Exactly one wins, and the row says which.
    expect(raced.filter((x) => x.status === 200)).toHaveLength(1);
    if (raced[0].status === 200) expect(row.status).toBe('received');
    else expect([row.status, row.received_student_id]).toEqual(['cancelled', null]);
  });

  it("keeps the sent file from the sending organisation's other schools, and never keeps the passphrase", async () => {
    const h = haven();
    const s = await school(h);
    await logConcern(h, s, s.users.dsl.token as string, {
      sensitivity: 'child_protection',
      description: 'SECOND-READ-CP disclosure.',
    });
    const elsewhere = await dslAt(h, s.t, 'Westfield High');
    const sent = await h.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      external: { schoolName: 'Elm Valley', contact: 'dsl@elm.example' },
      reason: 'Moved',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const { id, passphrase } = sent.body;
    for (const what of ['file', 'pdf', 'archive'])
      expect((await h.get(`/api/v1/transfers/${id}/${what}`, elsewhere.token)).status).toBe(404);
    expect((await h.post(`/api/v1/transfers/${id}/cancel`, elsewhere.token)).status).toBe(404);
    expect(
      (await h.get('/api/v1/transfers', elsewhere.token, { direction: 'out' })).body.items,
    ).toEqual([]);
    expect((await h.get(`/api/v1/transfers/${id}/pdf`, s.users.viewer.token)).status).toBe(403);
    const archive = await h.get(`/api/v1/transfers/${id}/archive`, s.users.dsl.token);
    expect(archive.status).toBe(200);
    const audit = await h.database.db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(audit)).not.toContain(passphrase);
    expect(JSON.stringify(audit)).not.toContain('SECOND-READ-CP');
    expect(audit.filter((a) => a.action === 'transfer.download')).toHaveLength(1);
  });

  it("counts the day sent as the school's (London) day, not UTC's", () => {
    // 00:30 BST on Monday 15 June 2026 is 23:30 UTC on the Sunday.
    expect(dayOf('2026-06-14T23:30:00.000Z')).toBe('2026-06-15');
    expect(dayOf('2026-12-31T23:30:00.000Z')).toBe('2026-12-31');
    expect(dayOf('2026-06-15T22:59:00.000Z')).toBe('2026-06-15');
  });

  it('refuses to send a file whose child-protection records need a step-up the sender has not made', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const r = await school(h);
    await logConcern(h, s, s.users.dsl.token as string, {
      sensitivity: 'child_protection',
      description: 'STEP-UP-CP disclosure.',
    });
    const sent = await h.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Moved',
    });
    expect(sent.status).toBe(403);
    expect(sent.body.code).toBe('file_not_whole');
    const rows = await h.database.db.selectFrom('transfers').select('id').execute();
    expect(rows).toEqual([]);
  });
});
