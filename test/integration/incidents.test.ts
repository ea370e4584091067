import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  blockStudent,
  createUser,
  createUserGroup,
  grantRole,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { headTeachers, logConcern, school } from '../support/school.ts';
import { enrolTotp, stepUp, useHavenWithTotpClock } from '../support/two-factor.ts';

/** What one user sees of an incident everywhere it can appear: read, list, count, search, chronology. */
async function sightings(h: TestHaven, token: string, incidentId: string, studentId: string) {
  const read = await h.get(`/api/v1/incidents/${incidentId}`, token);
  const list = await h.get('/api/v1/incidents', token, { limit: 200 });
  const count = await h.get('/api/v1/incidents/count', token);
  const search = await h.get('/api/v1/incidents', token, { q: 'lunch money' });
  const chronology = await h.get(`/api/v1/students/${studentId}/chronology`, token);
  const exported = await h.get('/api/v1/incidents/export', token);
  const ids = (reply: any) => (reply.body.items ?? []).map((i: any) => i.id ?? i.incidentId);
  return {
    read: read.status,
    readBody: read.body,
    list: ids(list).includes(incidentId),
    count: count.body.count as number,
    search: ids(search).includes(incidentId),
    export: String(exported.body).includes(incidentId),
    chronology: chronology.status === 200 ? ids(chronology).includes(incidentId) : null,
  };
}

const seen = { read: 200, list: true, count: 1, search: true, export: true };
const unseen = { read: 404, list: false, count: 0, search: false, export: false };

describe('incidents: who sees a concern (spec section 4)', () => {
  const haven = useHaven();

  it('a new school starts with its categories; Admin adds one, a Viewer cannot', async () => {
    const h = haven();
    const s = await school(h);
    const names = (
      await h.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId })
    ).body.items.map((c: any) => c.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'Child protection',
        'Allegation against staff',
        'Bullying',
        'First aid',
      ]),
    );
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    const body = { schoolId: s.org.schoolId, name: 'Prevent', sensitivity: 'child_protection' };
    expect((await h.post('/api/v1/categories', s.users.viewer.token, body)).status).toBe(403);
    const created = await h.post('/api/v1/categories', admin.token, body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Prevent', sensitivity: 'child_protection' });
  });

  it('the reporter sees their concern everywhere; a colleague with no path to the child sees it nowhere', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!);
    expect(await sightings(h, s.users.viewer.token!, id, s.students.a)).toMatchObject({
      ...seen,
      chronology: true,
    });
    const outsider = await sightings(h, s.users.outsider.token!, id, s.students.a);
    expect(outsider).toMatchObject({ ...unseen, chronology: null });
  });

  it('anyone who can see an involved child sees a standard concern; a child-protection one needs the clearance', async () => {
    const h = haven();
    const s = await school(h);
    const standard = await logConcern(h, s, s.users.dsl.token!);
    const cp = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const colleague = s.users.colleague.token!;
    expect((await h.get(`/api/v1/incidents/${standard}`, colleague)).status).toBe(200);
    expect(await sightings(h, colleague, cp, s.students.a)).toMatchObject({
      read: 404,
      list: false,
      count: 1,
      search: false,
      export: false,
      chronology: false,
    });
    // The DSL is in the Safeguarding Team, which holds child_protection.
    expect(await sightings(h, s.users.dsl.token!, cp, s.students.a)).toMatchObject({
      read: 200,
      list: true,
      count: 2,
      search: true,
      export: true,
      chronology: true,
    });
  });

  it('assignment lets a user, or every member of a group, see the concern', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.dsl.token!, {
      studentIds: [s.students.c],
      sensitivity: 'child_protection',
    });
    const outsider = s.users.outsider;
    expect((await h.get(`/api/v1/incidents/${id}`, outsider.token)).status).toBe(404);
    const assigned = await h.post(`/api/v1/incidents/${id}/assignees`, s.users.dsl.token!, {
      type: 'user',
      id: outsider.id,
    });
    expect(assigned.status).toBe(200);
    expect(await sightings(h, outsider.token!, id, s.students.c)).toMatchObject({
      ...seen,
      chronology: null,
    });
    // The assignee sees the concern, not the child: the child is redacted for them.
    expect(assigned.body.students).toEqual([expect.objectContaining({ redacted: false })]);
    expect((await sightings(h, outsider.token!, id, s.students.c)).readBody.students).toEqual([
      { redacted: true },
    ]);

    const pastoral = await createUserGroup(h, s.t, 'Pastoral leads', { homeScope: s.atSchool });
    const lead = await createUser(h, s.t, { role: 'viewer', scope: s.atSchool });
    await addMembers(h, s.t, pastoral, [lead.id]);
    expect((await h.get(`/api/v1/incidents/${id}`, lead.token)).status).toBe(404);
    await h.post(`/api/v1/incidents/${id}/assignees`, s.users.dsl.token!, {
      type: 'user_group',
      id: pastoral,
    });
    expect(await sightings(h, lead.token!, id, s.students.c)).toMatchObject(seen);
  });

  it('the exclusion list wins over every way in, on every page', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!);
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.colleague.token)).status).toBe(200);
    const put = await h.put(`/api/v1/incidents/${id}/exclusions`, s.users.dsl.token!, {
      userIds: [s.users.colleague.id, s.users.viewer.id],
    });
    expect(put.status).toBe(200);
    for (const who of [s.users.colleague, s.users.viewer])
      expect(await sightings(h, who.token!, id, s.students.a)).toMatchObject({
        ...unseen,
        chronology: false,
      });
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token)).status).toBe(200);
  });

  it('the subject of an allegation never sees it, whatever clearance they hold', async () => {
    const h = haven();
    const s = await school(h);
    const subject = await createUser(h, s.t, { role: 'dsl', scope: s.atSchool });
    const head = await createUser(h, s.t, { role: 'dsl', scope: s.atSchool });
    await headTeachers(h, s, [subject.id, head.id]);
    const id = await logConcern(h, s, head.token!, {
      sensitivity: 'allegation',
      subjectUserId: subject.id,
    });
    expect(await sightings(h, subject.token!, id, s.students.a)).toMatchObject({
      ...unseen,
      chronology: false,
    });
    expect((await h.get(`/api/v1/incidents/${id}`, head.token)).status).toBe(200);
    // The DSL holds child_protection but not allegations.
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token)).status).toBe(404);
  });

  it('a block on one of two involved children redacts that child; blocked from both, the concern is gone', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.dsl.token!, {
      studentIds: [s.students.a, s.students.b],
    });
    const colleague = s.users.colleague;
    await blockStudent(h, s.users.dsl.token!, colleague.id, s.students.a);
    const partly = await sightings(h, colleague.token!, id, s.students.b);
    expect(partly).toMatchObject({ ...seen, chronology: true });
    expect(partly.readBody.students).toEqual([
      { redacted: true },
      expect.objectContaining({ redacted: false, id: s.students.b }),
    ]);
    expect(JSON.stringify(partly.readBody)).not.toContain(s.students.a);
    const list = await h.get('/api/v1/incidents', colleague.token, {});
    expect(JSON.stringify(list.body)).not.toContain(s.students.a);
    // The blocked child's chronology does not exist for them.
    expect(
      (await h.get(`/api/v1/students/${s.students.a}/chronology`, colleague.token)).status,
    ).toBe(404);

    await blockStudent(h, s.users.dsl.token!, colleague.id, s.students.b);
    expect(await sightings(h, colleague.token!, id, s.students.b)).toMatchObject({
      ...unseen,
      chronology: null,
    });
    // Even the reporter loses a concern about children they are blocked from.
    const own = await logConcern(h, s, s.users.viewer.token!, { studentIds: [s.students.b] });
    await blockStudent(h, s.users.dsl.token!, s.users.viewer.id, s.students.b);
    expect((await h.get(`/api/v1/incidents/${own}`, s.users.viewer.token)).status).toBe(404);
  });
});

describe('incidents: the two-factor step-up', () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('child-protection records need a recent TOTP step-up where the school requires it', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const standard = await logConcern(h, s, s.users.dsl.token!);
    const cp = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const dsl = s.users.dsl.token!;
    const read = await h.get(`/api/v1/incidents/${cp}`, dsl);
    expect(read.status).toBe(403);
    expect(read.body.code).toBe('mfa_required');
    expect(await sightings(h, dsl, cp, s.students.a)).toMatchObject({
      read: 403,
      list: false,
      count: 1,
      search: false,
      export: false,
      chronology: false,
    });
    expect((await h.get(`/api/v1/incidents/${standard}`, dsl)).status).toBe(200);
    // Enrolling confirms a code, which counts as a step-up for this session.
    const { secret } = await enrolTotp(h, dsl, clock);
    expect(await sightings(h, dsl, cp, s.students.a)).toMatchObject({
      read: 200,
      list: true,
      count: 2,
      search: true,
      export: true,
      chronology: true,
    });
    // Longer ago than the window: asked again, and a fresh code opens it.
    await h.database.db
      .updateTable('sessions')
      .set({ mfa_at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .where('user_id', '=', s.users.dsl.id)
      .execute();
    expect((await h.get(`/api/v1/incidents/${cp}`, dsl)).status).toBe(403);
    await stepUp(h, dsl, secret, clock);
    expect((await h.get(`/api/v1/incidents/${cp}`, dsl)).status).toBe(200);
    // The refused read is in the access log, which shows rows about a child-protection record
    // only to a reader who could read the record now: cleared, and stepped up.
    expect((await h.get('/api/v1/access-log', s.t, { recordId: cp })).body.items).toEqual([]);
    await enrolTotp(h, s.t, clock);
    const log = await h.get('/api/v1/access-log', s.t, { recordId: cp });
    expect(log.body.items.map((e: any) => e.after.outcome)).toContain('mfa_required');
  });
});

describe('incidents: revisions, deletes, roles, access log and bad input', () => {
  const haven = useHaven();

  it('every edit keeps the previous revision; a stale edit is refused', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!, { description: 'First account.' });
    const edited = await h.patch(`/api/v1/incidents/${id}`, s.users.viewer.token, {
      revision: 1,
      description: 'Fuller account, after speaking to the child.',
      status: 'in_progress',
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ revision: 2, status: 'in_progress' });
    const stale = await h.patch(`/api/v1/incidents/${id}`, s.users.viewer.token, {
      revision: 1,
      description: 'Lost update',
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('stale_revision');
    const revisions = await h.get(`/api/v1/incidents/${id}/revisions`, s.users.viewer.token);
    expect(revisions.body.items).toEqual([
      expect.objectContaining({
        revision: 1,
        incident: expect.objectContaining({ description: 'First account.', status: 'open' }),
      }),
    ]);
    expect((await h.get(`/api/v1/incidents/${id}/revisions`, s.users.outsider.token)).status).toBe(
      404,
    );
  });

  it('delete, exclusions and assignment need Deputy DSL; an Admin is refused; delete is soft', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    const deputy = await createUser(h, s.t, { role: 'deputy_dsl', scope: s.atSchool });
    await addMembers(h, s.t, s.team, [admin.id, deputy.id]);
    const id = await logConcern(h, s, s.users.viewer.token!);
    const refused = [
      await h.put(`/api/v1/incidents/${id}/exclusions`, admin.token, { userIds: [] }),
      await h.post(`/api/v1/incidents/${id}/assignees`, admin.token, {
        type: 'user',
        id: admin.id,
      }),
      await h.delete(`/api/v1/incidents/${id}`, admin.token),
    ];
    for (const r of refused) {
      expect(r.status).toBe(403);
      expect(r.body.detail).toMatch(/Deputy DSL/);
    }
    expect(
      (await h.put(`/api/v1/incidents/${id}/exclusions`, deputy.token, { userIds: [] })).status,
    ).toBe(200);
    expect(
      (
        await h.post(`/api/v1/incidents/${id}/assignees`, deputy.token, {
          type: 'user',
          id: deputy.id,
        })
      ).status,
    ).toBe(200);
    expect((await h.delete(`/api/v1/incidents/${id}`, deputy.token)).status).toBe(204);
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.viewer.token)).status).toBe(404);
    const kept = await h.database.db
      .selectFrom('incidents')
      .select(['deleted_at', 'description'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(kept.deleted_at).not.toBeNull();
    expect(kept.description).toContain('lunch money');
  });

  it('every read and refused read of an incident is in the access log with its path', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.dsl.token!);
    await h.get(`/api/v1/incidents/${id}`, s.users.colleague.token);
    await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token);
    await h.get(`/api/v1/incidents/${id}`, s.users.outsider.token);
    const log = await h.get('/api/v1/access-log', s.t, { recordId: id });
    expect(log.status).toBe(200);
    const byActor = new Map(log.body.items.map((e: any) => [e.actor.id, e.after]));
    expect(byActor.get(s.users.dsl.id)).toEqual({ outcome: 'allowed', path: { kind: 'reporter' } });
    expect(byActor.get(s.users.colleague.id)).toMatchObject({
      outcome: 'allowed',
      path: {
        kind: 'student',
        studentId: s.students.a,
        via: expect.objectContaining({ user_group_id: s.team }),
      },
    });
    expect(byActor.get(s.users.outsider.id)).toEqual({ outcome: 'not_found' });
    expect((await h.get('/api/v1/access-log', s.users.viewer.token)).status).toBe(403);

    // Reads of a student's profile too, allowed and refused.
    await h.get(`/api/v1/students/${s.students.a}`, s.users.colleague.token);
    await h.get(`/api/v1/students/${s.students.c}`, s.users.colleague.token);
    const reads = await h.get('/api/v1/access-log', s.t, { userId: s.users.colleague.id });
    const studentReads = reads.body.items.filter((e: any) => e.action === 'student.read');
    expect(
      studentReads.map((e: any) => [e.target.id, e.after.outcome, e.after.path?.user_group_id]),
    ).toEqual(
      expect.arrayContaining([
        [s.students.a, 'allowed', s.team],
        [s.students.c, 'not_found', undefined],
      ]),
    );
    // The whole path, read in the same statement as the child.
    const allowed = studentReads.find((e: any) => e.after.outcome === 'allowed');
    expect(allowed.after.path).toEqual({
      user_id: s.users.colleague.id,
      student_id: s.students.a,
      kind: 'group_to_student_group',
      link_id: expect.any(String),
      user_group_id: s.team,
      student_group_id: s.year9,
      member_since: expect.any(String),
      link_since: expect.any(String),
      in_group_since: expect.any(String),
    });
  });

  it('bad input: a clear problem naming each field, and nothing written', async () => {
    const h = haven();
    const s = await school(h);
    const before = await h.database.db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const bad = await h.post('/api/v1/incidents', s.users.viewer.token, {
      schoolId: s.org.schoolId,
      studentIds: [],
      categoryId: s.category('standard'),
      occurredAt: 'yesterday',
      description: '',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(
      ['description', 'occurredAt', 'studentIds'].sort(),
    );
    // A child the reporter may not report about (blocked from them: any other child on roll at
    // their school may be named, seen or not) is as if it did not exist.
    await blockStudent(h, s.t, s.users.viewer.id, s.students.c);
    const hidden = await h.post('/api/v1/incidents', s.users.viewer.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.c],
      categoryId: s.category('standard'),
      occurredAt: '2026-11-20T10:15:00Z',
      description: 'About a Year 10 child',
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.field).toBe('studentIds');
    // An allegation must name the member of staff.
    const allegation = await h.post('/api/v1/incidents', s.users.viewer.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.a],
      categoryId: s.category('allegation'),
      occurredAt: '2026-11-20T10:15:00Z',
      description: 'Concern about an adult',
    });
    expect(allegation.status).toBe(400);
    const after = await h.database.db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});

describe('actions and alerts', () => {
  const haven = useHaven();

  it('a DSL assigns an action; the assignee completes it; others cannot; overdue comes first', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!);
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    await addMembers(h, s.t, s.team, [admin.id]);
    const body = { title: 'Phone parent', assignee: { type: 'user', id: s.users.viewer.id } };
    expect((await h.post(`/api/v1/incidents/${id}/actions`, admin.token, body)).status).toBe(403);
    const later = await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      ...body,
      title: 'Review next week',
      dueAt: '2099-01-01T09:00:00Z',
    });
    const overdue = await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      ...body,
      dueAt: '2026-01-01T09:00:00Z',
    });
    expect(overdue.status).toBe(201);
    expect(overdue.body.overdue).toBe(true);
    const mine = await h.get('/api/v1/me/actions', s.users.viewer.token);
    expect(mine.body.items.map((a: any) => a.id)).toEqual([overdue.body.id, later.body.id]);
    // The incident's list names whom each action is for, people and groups alike.
    const forTeam = await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      title: 'Team to watch at break',
      assignee: { type: 'user_group', id: s.team },
    });
    const listed = await h.get(`/api/v1/incidents/${id}/actions`, s.users.viewer.token);
    const byTitle = Object.fromEntries(listed.body.items.map((a: any) => [a.title, a.assignee]));
    expect(byTitle).toEqual({
      'Review next week': { type: 'user', id: s.users.viewer.id, name: 'Vera Viewer' },
      'Phone parent': { type: 'user', id: s.users.viewer.id, name: 'Vera Viewer' },
      'Team to watch at break': { type: 'user_group', id: s.team, name: 'Year 9 team' },
    });
    expect((await h.delete(`/api/v1/actions/${forTeam.body.id}`, s.users.dsl.token)).status).toBe(
      204,
    );

    const notMine = await h.post(
      `/api/v1/actions/${overdue.body.id}/complete`,
      s.users.colleague.token,
    );
    expect(notMine.status).toBe(403);
    expect(notMine.body.code).toBe('not_assignee');
    expect(
      (await h.post(`/api/v1/actions/${overdue.body.id}/complete`, s.users.outsider.token)).status,
    ).toBe(404);
    const done = await h.post(`/api/v1/actions/${overdue.body.id}/complete`, s.users.viewer.token);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ completedBy: s.users.viewer.id, overdue: false });
    expect((await h.get('/api/v1/me/actions', s.users.viewer.token)).body.items).toHaveLength(1);

    // Edit and delete are Deputy DSL rows too.
    expect(
      (await h.patch(`/api/v1/actions/${later.body.id}`, admin.token, { title: 'x' })).status,
    ).toBe(403);
    expect(
      (await h.patch(`/api/v1/actions/${later.body.id}`, s.users.dsl.token, { title: 'Review' }))
        .status,
    ).toBe(200);
    expect((await h.delete(`/api/v1/actions/${later.body.id}`, admin.token)).status).toBe(403);
    expect((await h.delete(`/api/v1/actions/${later.body.id}`, s.users.dsl.token)).status).toBe(
      204,
    );

    // A member of an assigned group completes the group's action.
    const groupAction = await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      title: 'Check in at lunch',
      assignee: { type: 'user_group', id: s.team },
    });
    expect(
      (await h.post(`/api/v1/actions/${groupAction.body.id}/complete`, s.users.colleague.token))
        .status,
    ).toBe(200);
  });

  it('alerts reach the assignee and the members of an assigned group; each reads and dismisses only their own', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!);
    await h.post(`/api/v1/incidents/${id}/assignees`, s.users.dsl.token, {
      type: 'user_group',
      id: s.team,
    });
    await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      title: 'Phone parent',
      dueAt: '2026-01-01T09:00:00Z',
      assignee: { type: 'user', id: s.users.colleague.id },
    });
    // The notification worker raises the due reminder (it runs every few seconds in `haven serve`).
    await h.services.worker.runOnce();
    const colleague = await h.get('/api/v1/alerts', s.users.colleague.token);
    expect(colleague.body.items.map((a: any) => a.kind).sort()).toEqual(
      ['action_assigned', 'action_due', 'incident_assigned'].sort(),
    );
    const viewerAlerts = await h.get('/api/v1/alerts', s.users.viewer.token);
    expect(viewerAlerts.body.items.map((a: any) => a.kind)).toEqual(['incident_assigned']);
    expect((await h.get('/api/v1/alerts', s.users.outsider.token)).body.items).toEqual([]);

    const groupAlert = viewerAlerts.body.items[0].id;
    expect((await h.post(`/api/v1/alerts/${groupAlert}/read`, s.users.viewer.token)).status).toBe(
      204,
    );
    expect((await h.get('/api/v1/alerts', s.users.viewer.token)).body.items[0].read).toBe(true);
    // Reading it for one member leaves it unread for the others.
    const forColleague = (await h.get('/api/v1/alerts', s.users.colleague.token)).body.items.find(
      (a: any) => a.id === groupAlert,
    );
    expect(forColleague.read).toBe(false);
    expect(
      (await h.post(`/api/v1/alerts/${groupAlert}/dismiss`, s.users.outsider.token)).status,
    ).toBe(404);
    expect(
      (await h.post(`/api/v1/alerts/${groupAlert}/dismiss`, s.users.viewer.token)).status,
    ).toBe(204);
    expect((await h.get('/api/v1/alerts', s.users.viewer.token)).body.items).toEqual([]);
    // Due alerts are raised once per action.
    await h.services.worker.runOnce();
    const due = (await h.get('/api/v1/alerts', s.users.colleague.token)).body.items.filter(
      (a: any) => a.kind === 'action_due',
    );
    expect(due).toHaveLength(1);
  });

  it('a Viewer at another school sees none of this', async () => {
    const h = haven();
    const s = await school(h);
    const id = await logConcern(h, s, s.users.viewer.token!);
    const elm = await addSchool(h, s.t, 'Elm Academy');
    const elsewhere = await createUser(h, s.t, { role: 'dsl', scope: { type: 'school', id: elm } });
    await addMembers(h, s.t, s.team, [elsewhere.id]);
    await grantRole(h, s.t, { type: 'user', id: elsewhere.id }, 'viewer', {
      type: 'school',
      id: elm,
    });
    expect(await sightings(h, elsewhere.token!, id, s.students.a)).toMatchObject({
      ...unseen,
      chronology: null,
    });
  });
});
