import { describe, expect, it, vi } from 'vitest';
import { addSchool, createStudent, createUser } from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

// A second, hostile read of the child's safeguarding file and of retention (issue 16, items 3
// and 4): leap-day birthdays, children without a date of birth, permission rows, refusals that
// change nothing, and what a destruction leaves behind.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');

async function concern(
  h: TestHaven,
  s: School,
  token: string,
  spec: { sensitivity?: string; studentIds?: string[]; occurredAt: string; unlisted?: boolean },
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    studentIds: spec.studentIds ?? [s.students.a],
    categoryId: s.category(spec.sensitivity ?? 'standard'),
    occurredAt: spec.occurredAt,
    location: 'Playground',
    description: 'MKCONTENT said something at break.',
    ...(spec.unlisted
      ? { unlistedChild: { name: 'MKUNLISTED Child', note: 'MKUNLISTED note' } }
      : {}),
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id as string;
}

async function born(h: TestHaven, s: School, studentId: string, dateOfBirth: string | null) {
  const reply = await h.patch(`/api/v1/students/${studentId}`, s.t, { dateOfBirth });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
}

const retention = (h: TestHaven, token: string, id: string) =>
  h.get(`/api/v1/retention/records/${id}`, token);
const decide = (h: TestHaven, token: string, id: string, body: object) =>
  h.post(`/api/v1/retention/records/${id}/decisions`, token, body);

async function state(h: TestHaven, id: string) {
  const db = h.database.db;
  const [incident, decisions, audit] = await Promise.all([
    db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('retention_decisions').selectAll().where('incident_id', '=', id).execute(),
    db.selectFrom('audit_events').select('id').where('category', '=', 'change').execute(),
  ]);
  return { incident, decisions, audit: audit.length };
}

describe('safeguarding file and retention, second read', () => {
  const haven = useHaven();

  it('a 29 February birthday gives a real day: 1 March in a year with no 29 February', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '2000-02-29');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2010-01-05T10:00:00Z',
    });
    const view = await retention(h, dsl, cp);
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    // 2025 has no 29 February: the 25th birthday is 1 March 2025, a day that exists.
    expect(view.body).toMatchObject({
      rule: 'child_protection_25th_birthday',
      ruleDay: '2025-03-01',
      retainUntil: '2025-03-01',
    });
    // Into a leap year it stays the 29th.
    await born(h, s, s.students.a, '2004-02-29');
    expect((await retention(h, dsl, cp)).body.retainUntil).toBe('2029-03-01');
    await born(h, s, s.students.a, '2007-02-28');
    expect((await retention(h, dsl, cp)).body.retainUntil).toBe('2032-02-28');
  });

  it('is not due the day before a leap-day child’s birthday, and is the day it comes', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '2000-02-29');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2010-01-05T10:00:00Z',
    });
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2025-02-28T23:59:00Z'));
      const before = await state(h, cp);
      const early = await decide(h, dsl, cp, { action: 'destroy' });
      expect([early.status, early.body.code]).toEqual([409, 'retention_not_reached']);
      expect(await state(h, cp)).toEqual(before);
      vi.setSystemTime(new Date('2025-03-01T00:01:00Z'));
      expect((await retention(h, dsl, cp)).body.due).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('several children: the youngest’s birthday; any without a date, or a child not on roll, 25 years', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-03-01');
    await born(h, s, s.students.b, '1992-07-15');
    const two = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [s.students.a, s.students.b],
      occurredAt: '2001-01-05T10:00:00Z',
    });
    expect((await retention(h, dsl, two)).body).toMatchObject({
      rule: 'child_protection_25th_birthday',
      retainUntil: '2017-07-15',
    });
    await born(h, s, s.students.b, null);
    expect((await retention(h, dsl, two)).body).toMatchObject({
      rule: 'child_protection_birth_date_unknown',
      retainUntil: '2026-01-05',
    });
    const unlisted = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2001-01-05T10:00:00Z',
      unlisted: true,
    });
    expect((await retention(h, dsl, unlisted)).body).toMatchObject({
      rule: 'child_protection_birth_date_unknown',
      retainUntil: '2026-01-05',
    });
  });

  it('only a DSL of the record’s school reviews it: Deputy DSL, Admin and another school’s DSL refused', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-01-01');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2005-01-01T10:00:00Z',
    });
    const deputy = await createUser(h, s.t, { role: 'deputy_dsl', scope: s.atSchool });
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    const birch = await addSchool(h, s.t, 'Birch Academy');
    const birchDsl = await createUser(h, s.t, {
      role: 'dsl',
      scope: { type: 'school', id: birch },
    });
    const before = await state(h, cp);
    for (const who of [deputy, admin]) {
      const q = await h.get('/api/v1/retention/queue', who.token!, { schoolId: s.org.schoolId });
      expect(q.status).toBe(403);
      expect((await retention(h, who.token!, cp)).status).toBe(403);
      for (const body of [
        { action: 'destroy' },
        { action: 'hold', reason: 'x' },
        { action: 'extend', until: '2099-01-01', reason: 'x' },
      ])
        expect((await decide(h, who.token!, cp, body)).status).toBe(403);
    }
    // Birch's DSL neither lists Ash's queue nor reads nor decides on its record.
    const q = await h.get('/api/v1/retention/queue', birchDsl.token!, { schoolId: s.org.schoolId });
    expect(q.status).toBe(403);
    expect((await retention(h, birchDsl.token!, cp)).status).toBe(404);
    expect((await decide(h, birchDsl.token!, cp, { action: 'destroy' })).status).toBe(404);
    expect(await state(h, cp)).toEqual(before);
    // The DSL of its school does.
    expect((await retention(h, dsl, cp)).status).toBe(200);
  });

  it('bad input changes nothing, each refusal with its code', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-01-01');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2005-01-01T10:00:00Z',
    });
    const before = await state(h, cp);
    const cases: [object, number, string | undefined][] = [
      [{ action: 'extend', until: '2099-02-30', reason: 'x' }, 400, undefined],
      [{ action: 'extend', until: '2010-01-01', reason: 'x' }, 400, undefined],
      [{ action: 'extend', until: '2099-01-01', reason: '   ' }, 400, undefined],
      [{ action: 'hold' }, 400, undefined],
      [{ action: 'destroy', reason: 'x' }, 400, undefined],
      [{ action: 'burn' }, 400, undefined],
      [{ action: 'release', reason: 'x' }, 409, 'not_on_hold'],
      [{ action: 'subject_born', dateOfBirth: '1960-01-01' }, 409, 'not_an_allegation'],
    ];
    for (const [body, status, code] of cases) {
      const reply = await decide(h, dsl, cp, body);
      expect([reply.status, reply.headers['content-type']], JSON.stringify(body)).toEqual([
        status,
        expect.stringContaining('application/problem+json'),
      ]);
      if (code) expect(reply.body.code).toBe(code);
    }
    expect(await state(h, cp)).toEqual(before);
  });

  it('destruction leaves no content in notices, emails, alerts or the records, and the file drops it', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-01-01');
    const cp = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2000-01-01T10:00:00Z',
      unlisted: true,
    });
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
    const fileBefore = await h.get(`/api/v1/students/${s.students.a}/safeguarding-file`, dsl, {
      format: 'json',
    });
    expect(JSON.stringify(fileBefore.body)).toMatch(/MKCONTENT/);
    const destroyed = await decide(h, dsl, cp, { action: 'destroy' });
    expect(destroyed.status, JSON.stringify(destroyed.body)).toBe(200);

    const db = h.database.db;
    const [incident, notices, outbox, alerts, students] = await Promise.all([
      db.selectFrom('incidents').selectAll().where('id', '=', cp).execute(),
      db.selectFrom('notices').selectAll().execute(),
      db.selectFrom('outbox').selectAll().execute(),
      db.selectFrom('alerts').selectAll().execute(),
      db.selectFrom('student_name_tokens').selectAll().execute(),
    ]);
    expect(JSON.stringify({ incident, notices, outbox, alerts, students })).not.toMatch(
      /MKCONTENT|MKUNLISTED|MKACTION|mkdoc/,
    );
    // The chain never held the description or the unlisted child. (It still holds the action's
    // title and the document's name from when they were added: docs/decisions.md, 2026-11-30.)
    const audit = await db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(audit)).not.toMatch(/MKCONTENT|MKUNLISTED/);
    const file = await h.get(`/api/v1/students/${s.students.a}/safeguarding-file`, dsl, {
      format: 'json',
    });
    expect(file.status).toBe(200);
    expect(JSON.stringify(file.body)).not.toMatch(/MKCONTENT|MKACTION|mkdoc|Playground/);
    expect(file.body.entries).toEqual([]);
  });

  it('the file leaves out deleted concerns, actions and documents, and another school’s child is not found', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const a = s.students.a;
    const kept = await concern(h, s, dsl, { occurredAt: '2020-01-01T10:00:00Z' });
    const gone = await concern(h, s, dsl, { occurredAt: '2021-01-01T10:00:00Z' });
    await h.database.db
      .updateTable('incidents')
      .set({ description: 'MKGONE text' })
      .where('id', '=', gone)
      .execute();
    const upload = async (path: string, name: string) => {
      const reply = await h.request('POST', path, {
        token: dsl,
        query: { filename: name },
        headers: { 'content-type': 'application/pdf' },
        body: PDF,
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(201);
      return reply.body.id as string;
    };
    await upload(`/api/v1/incidents/${gone}/documents`, 'mkgonedoc.pdf');
    const childDoc = await upload(`/api/v1/students/${a}/documents`, 'mkchilddeleted.pdf');
    await upload(`/api/v1/students/${a}/documents`, 'mkchildkept.pdf');
    const keptDoc = await upload(`/api/v1/incidents/${kept}/documents`, 'mkkeptdeleted.pdf');
    const act = await h.post(`/api/v1/incidents/${kept}/actions`, dsl, {
      title: 'MKACTDELETED',
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(act.status).toBe(201);
    const del = async (path: string) => {
      const reply = await h.request('DELETE', path, { token: s.t });
      expect(reply.status, `${path} ${JSON.stringify(reply.body)}`).toBeLessThan(300);
    };
    await del(`/api/v1/incidents/${gone}`);
    await del(`/api/v1/documents/${childDoc}`);
    await del(`/api/v1/documents/${keptDoc}`);
    await del(`/api/v1/actions/${act.body.id}`);
    const file = await h.get(`/api/v1/students/${a}/safeguarding-file`, dsl, { format: 'json' });
    expect(file.status).toBe(200);
    const text = JSON.stringify(file.body);
    expect(text).toMatch(/MKCONTENT/);
    expect(text).toMatch(/mkchildkept/);
    expect(text).not.toMatch(/MKGONE|mkgonedoc|mkchilddeleted|mkkeptdeleted|MKACTDELETED/);
    expect(file.body.entries.map((e: any) => e.concern?.id ?? e.kind)).toEqual([kept, 'document']);

    // A child of another school: not found, and the access log has no row of it.
    const birch = await addSchool(h, s.t, 'Birch Academy');
    const birchChild = await createStudent(h, s.t, { schoolId: birch });
    const logged = async () =>
      (
        await h.database.db
          .selectFrom('audit_events')
          .select('id')
          .where('action', '=', 'student.safeguarding_file')
          .execute()
      ).length;
    const before = await logged();
    for (const format of ['json', 'pdf']) {
      const reply = await h.get(`/api/v1/students/${birchChild}/safeguarding-file`, dsl, {
        format,
      });
      expect([reply.status, reply.body.code]).toEqual([404, 'not_found']);
    }
    const bad = await h.get(`/api/v1/students/${a}/safeguarding-file`, dsl, { format: 'docx' });
    expect(bad.status).toBe(400);
    expect(await logged()).toBe(before);
  });

  it('two destroys at once destroy once; a hold and a destroy at once do not both succeed', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-01-01');
    const first = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2005-01-01T10:00:00Z',
    });
    const twice = await Promise.all([
      decide(h, dsl, first, { action: 'destroy' }),
      decide(h, dsl, first, { action: 'destroy' }),
    ]);
    expect(twice.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(twice.find((r) => r.status === 409)!.body.code).toBe('record_destroyed');
    const tombs = await h.database.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'incident.destroy')
      .where('target_id', '=', first)
      .execute();
    expect(tombs).toHaveLength(1);

    const second = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      occurredAt: '2005-01-01T10:00:00Z',
    });
    const [hold, destroy] = await Promise.all([
      decide(h, dsl, second, { action: 'hold', reason: 'Police' }),
      decide(h, dsl, second, { action: 'destroy' }),
    ]);
    const row = await h.database.db
      .selectFrom('incidents')
      .select(['legal_hold_at', 'destroyed_at', 'description'])
      .where('id', '=', second)
      .executeTakeFirstOrThrow();
    if (hold.status === 200) {
      expect([destroy.status, destroy.body.code]).toEqual([409, 'legal_hold']);
      expect(row.destroyed_at).toBeNull();
      expect(row.description).toMatch(/MKCONTENT/);
    } else {
      expect([hold.status, hold.body.code, destroy.status]).toEqual([409, 'record_destroyed', 200]);
      expect(row.legal_hold_at).toBeNull();
      expect(row.destroyed_at).not.toBeNull();
    }
  });

  it('a record keeps the period of every version it still holds: lowered, or a child taken off', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    await born(h, s, s.students.a, '1990-01-01');
    await born(h, s, s.students.b, '2004-05-01');
    const edit = async (id: string, patch: object) => {
      const current = await h.get(`/api/v1/incidents/${id}`, dsl);
      const reply = await h.patch(`/api/v1/incidents/${id}`, dsl, {
        revision: current.body.revision,
        ...patch,
      });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    };
    // Child protection about B, lowered to standard: its first version is still held.
    const lowered = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [s.students.b],
      occurredAt: '2008-01-01T10:00:00Z',
    });
    await edit(lowered, { categoryId: s.category('standard') });
    // Child protection about A and B, B then taken off: B's account is still in its revision.
    const narrowed = await concern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [s.students.a, s.students.b],
      occurredAt: '2008-01-01T10:00:00Z',
    });
    await edit(narrowed, { studentIds: [s.students.a] });
    for (const id of [lowered, narrowed]) {
      const view = await retention(h, dsl, id);
      expect(view.body, id).toMatchObject({
        rule: 'child_protection_25th_birthday',
        retainUntil: '2029-05-01',
        due: false,
      });
      const before = await state(h, id);
      const refused = await decide(h, dsl, id, { action: 'destroy' });
      expect([refused.status, refused.body.code]).toEqual([409, 'retention_not_reached']);
      expect(await state(h, id)).toEqual(before);
    }
    expect(
      (await h.get('/api/v1/retention/queue', dsl, { schoolId: s.org.schoolId })).body.items,
    ).toEqual([]);

    // An allegation lowered to standard still waits for its subject's date of birth.
    const reply = await h.post('/api/v1/incidents', dsl, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.a],
      categoryId: s.category('allegation'),
      occurredAt: '2001-01-01T10:00:00Z',
      description: 'MKALLEG about staff.',
      subjectUserId: s.users.colleague.id,
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    const allegation = reply.body.id as string;
    await edit(allegation, { categoryId: s.category('standard') });
    expect((await retention(h, dsl, allegation)).body).toMatchObject({
      rule: 'allegation_subject_birth_date_unknown',
    });
    const before = await state(h, allegation);
    const refused = await decide(h, dsl, allegation, { action: 'destroy' });
    expect([refused.status, refused.body.code]).toEqual([409, 'subject_birth_date_unknown']);
    expect(await state(h, allegation)).toEqual(before);
    const dated = await decide(h, dsl, allegation, {
      action: 'subject_born',
      dateOfBirth: '1950-01-01',
    });
    expect(dated.status, JSON.stringify(dated.body)).toBe(200);
    expect(dated.body).toMatchObject({
      rule: 'allegation_retirement_age',
      retainUntil: '2017-01-01',
    });
  });
});
