import { describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';
import { createTestDatabase, whileNoSchemaIsDropped } from '../support/database.ts';
import {
  blockStudent,
  createStudent,
  createUser,
  mfaEnrolmentNotRequired,
  setupOrganisation,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

/** A concern logged through the API, answered as it came back. */
function report(h: TestHaven, s: School, token: string | undefined, body: Record<string, unknown>) {
  return h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    categoryId: s.category('standard'),
    occurredAt: '2026-11-20T12:40:00Z',
    location: 'Dining hall',
    description: 'Seen with a bruise on the arm; would not say how it happened.',
    ...body,
  });
}

/** Every child the picker offers, following its pages. */
async function pickable(h: TestHaven, token: string | undefined, query: Record<string, string>) {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const reply = await h.get('/api/v1/reportable-students', token, { ...query, cursor });
    expect(reply.status).toBe(200);
    items.push(...reply.body.items);
    cursor = reply.body.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/** A school's group that Haven made itself, by its key. */
async function systemGroup(h: TestHaven, key: string) {
  return h.database.db
    .selectFrom('user_groups')
    .selectAll()
    .where('system_key', '=', key)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
}

async function currentMembers(h: TestHaven, groupId: string) {
  return (
    await h.database.db
      .selectFrom('user_group_members')
      .select('user_id')
      .where('user_group_id', '=', groupId)
      .where('valid_to', 'is', null)
      .execute()
  ).map((m) => m.user_id);
}

describe('reporting about any child (spec section 4, "Reporting")', () => {
  const haven = useHaven();

  it('a lunchtime supervisor in no group finds a Year 10 child, reports, and still cannot see the child', async () => {
    const h = haven();
    const s = await school(h);
    // A Viewer at the school who belongs to no user group: no path reaches any child.
    const supervisor = s.users.outsider;
    const child = s.students.c;

    const found = await h.get('/api/v1/reportable-students', supervisor.token, {
      q: 'clark',
      schoolId: s.org.schoolId,
    });
    expect(found.status).toBe(200);
    expect(found.body.items).toHaveLength(1);
    // Names, year group and school only: no flags, no records.
    expect(Object.keys(found.body.items[0]).sort()).toEqual(
      ['familyName', 'givenName', 'id', 'schoolId', 'yearGroup'].sort(),
    );
    expect(found.body.items[0]).toMatchObject({
      id: child,
      familyName: 'Clark',
      yearGroup: 10,
      schoolId: s.org.schoolId,
    });
    // Every child on roll at the school, by family name.
    expect((await pickable(h, supervisor.token, { limit: '1' })).map((c) => c.id)).toEqual([
      s.students.a,
      s.students.b,
      s.students.c,
    ]);

    const created = await report(h, s, supervisor.token, { studentIds: [child] });
    expect(created.status).toBe(201);
    // The record as its reporter reads it: the child they cannot see is redacted.
    expect(created.body.students).toEqual([{ redacted: true }]);
    expect(created.body.unlistedChild).toBeNull();
    const id = created.body.id as string;

    // Reporting did not make the child visible.
    expect((await h.get(`/api/v1/students/${child}`, supervisor.token)).status).toBe(404);
    expect((await h.get('/api/v1/students', supervisor.token)).body.items).toEqual([]);
    expect((await h.get('/api/v1/incidents', supervisor.token, { studentId: child })).status).toBe(
      404,
    );
    const list = await h.get('/api/v1/incidents', supervisor.token);
    expect(list.body.items.map((i: any) => i.id)).toEqual([id]);
    expect(JSON.stringify(list.body)).not.toContain(child);
    expect((await h.get(`/api/v1/students/${child}/chronology`, supervisor.token)).status).toBe(
      404,
    );

    // The reporter reads their own report, and finds it in their list of reports.
    const read = await h.get(`/api/v1/incidents/${id}`, supervisor.token);
    expect(read.status).toBe(200);
    expect(read.body.students).toEqual([{ redacted: true }]);
    const mine = await h.get('/api/v1/me/reports', supervisor.token);
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      items: [
        {
          id,
          categoryName: expect.any(String),
          sensitivity: 'standard',
          createdAt: expect.any(String),
          status: 'open',
          studentNames: [expect.stringMatching(/ Clark$/)],
        },
      ],
      nextCursor: null,
    });
    // The DSL sees the child, and so reads the report, without any assignment.
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token)).status).toBe(200);
    expect(created.body.assignees).toEqual([]);
  });

  it('finds a child by the start of the names it shows, never by a preferred name or UPN', async () => {
    const h = haven();
    const s = await school(h);
    const child = await createStudent(h, s.t, {
      schoolId: s.org.schoolId,
      givenName: 'Mary-Jane',
      familyName: "O'Neill",
      preferredName: 'Ziggy',
      upn: 'A123456789012',
      yearGroup: 7,
    });
    const ids = async (q: string) =>
      (await pickable(h, s.users.outsider.token, { q })).map((c) => c.id);
    for (const q of ['jane', 'mary jane', 'neill', "o'neill", 'o neill', 'MARY'])
      expect(await ids(q)).toEqual([child]);
    for (const q of ['ziggy', 'a123456789012', 'ary', 'jane ziggy', '%', '_'])
      expect(await ids(q)).toEqual([]);
  });

  it('writes each search to the access log with what was asked, not what was found', async () => {
    const h = haven();
    const s = await school(h);
    const supervisor = s.users.outsider;
    expect(
      (
        await h.get('/api/v1/reportable-students', supervisor.token, {
          q: 'clark',
          schoolId: s.org.schoolId,
        })
      ).status,
    ).toBe(200);
    const rows = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'student.report_search')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      category: 'access',
      actor_user_id: supervisor.id,
      organisation_id: s.org.organisationId,
    });
    expect(JSON.parse(rows[0]!.meta_json!)).toMatchObject({
      q: 'clark',
      schoolId: s.org.schoolId,
    });
    expect(JSON.stringify(rows[0])).not.toContain(s.students.c);
  });

  it('leaves out a child the reporter is blocked from, and a report naming them is 404', async () => {
    const h = haven();
    const s = await school(h);
    const supervisor = s.users.outsider;
    await blockStudent(h, s.t, supervisor.id, s.students.a);
    const ids = (await pickable(h, supervisor.token, {})).map((c) => c.id);
    expect(ids).toEqual([s.students.b, s.students.c]);
    expect((await pickable(h, supervisor.token, { q: 'adams' })).map((c) => c.id)).toEqual([]);
    const refused = await report(h, s, supervisor.token, {
      studentIds: [s.students.b, s.students.a],
    });
    expect(refused.status).toBe(404);
    expect(refused.body.field).toBe('studentIds');
  });

  it('offers no child of a school where the caller holds no role, nor of another organisation', async () => {
    const h = haven();
    const s = await school(h);
    const supervisor = s.users.outsider;
    const elsewhere = await h.post('/api/v1/schools', s.t, { name: 'Ash Secondary' });
    expect(elsewhere.status).toBe(201);
    await mfaEnrolmentNotRequired(h, elsewhere.body.id);
    const otherSchoolChild = await createStudent(h, s.t, {
      schoolId: elsewhere.body.id,
      familyName: 'Carter',
      yearGroup: 10,
    });
    const other = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm High' });
    const otherOrgChild = await createStudent(h, other.ownerToken, {
      schoolId: other.schoolId,
      familyName: 'Cole',
      yearGroup: 10,
    });

    const all = (await pickable(h, supervisor.token, {})).map((c) => c.id);
    expect(all).not.toContain(otherSchoolChild);
    expect(all).not.toContain(otherOrgChild);
    // Asking about a school where they hold no role: 403; another organisation's: 404.
    const noRole = await h.get('/api/v1/reportable-students', supervisor.token, {
      schoolId: elsewhere.body.id,
    });
    expect(noRole.status).toBe(403);
    expect(noRole.body.permission).toBe('incidents.create');
    const foreign = await h.get('/api/v1/reportable-students', supervisor.token, {
      schoolId: other.schoolId,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.field).toBe('schoolId');

    for (const child of [otherSchoolChild, otherOrgChild, 'no-such-child']) {
      const refused = await report(h, s, supervisor.token, { studentIds: [child] });
      expect(refused.status).toBe(404);
      expect(refused.body.field).toBe('studentIds');
    }
    // A report at a school where the caller holds no role is refused outright.
    const wrongSchool = await h.post('/api/v1/incidents', supervisor.token, {
      schoolId: elsewhere.body.id,
      studentIds: [otherSchoolChild],
      categoryId: s.category('standard'),
      occurredAt: '2026-11-20T12:40:00Z',
      description: 'Upset.',
    });
    expect(wrongSchool.status).toBe(403);

    // A Viewer of the other school alone (just below: no role here) may not use the pickers here.
    const ashViewer = await createUser(h, s.t, {
      role: 'viewer',
      scope: { type: 'school', id: elsewhere.body.id },
    });
    for (const url of ['/api/v1/reportable-students', '/api/v1/reportable-staff'])
      expect((await h.get(url, ashViewer.token, { schoolId: s.org.schoolId })).status).toBe(403);
    expect((await pickable(h, ashViewer.token, {})).map((c) => c.id)).toEqual([otherSchoolChild]);
    // Not signed in: 401.
    expect((await h.get('/api/v1/reportable-students')).status).toBe(401);
    expect((await h.get('/api/v1/me/reports')).status).toBe(401);
    expect(
      (await h.get('/api/v1/reportable-staff', undefined, { schoolId: s.org.schoolId })).status,
    ).toBe(401);
  });

  it('a child not on roll: the report is assigned to the Safeguarding Team, whose DSL reads it', async () => {
    const h = haven();
    const s = await school(h);
    const supervisor = s.users.outsider;
    const created = await report(h, s, supervisor.token, {
      unlistedChild: { name: 'Sam, new in Year 7', note: 'Starts on Monday; sister is in Year 9.' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const team = await systemGroup(h, `safeguarding_team:${s.org.schoolId}`);
    expect(created.body.students).toEqual([]);
    expect(created.body.unlistedChild).toEqual({
      name: 'Sam, new in Year 7',
      note: 'Starts on Monday; sister is in Year 9.',
    });
    // The reporter is not told the name of a group they cannot see; the DSL is (below).
    expect(created.body.assignees).toEqual([
      { type: 'user_group', id: team.id, name: 'a group you cannot see' },
    ]);
    const assignment = await h.database.db
      .selectFrom('incident_assignees')
      .selectAll()
      .where('incident_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(assignment.assigned_by).toBeNull();
    // Haven's assignment is in the audit log; no assignment alert is raised for it.
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select('after_json')
      .where('action', '=', 'incident.assign')
      .where('target_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after_json!)).toMatchObject({
      assignee: { type: 'user_group', id: team.id },
      by: 'haven',
    });
    const alerts = await h.database.db
      .selectFrom('alerts')
      .select('kind')
      .where('incident_id', '=', id)
      .where('kind', '=', 'incident_assigned')
      .execute();
    expect(alerts).toEqual([]);

    const read = await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token);
    expect(read.status).toBe(200);
    expect(read.body.unlistedChild.name).toBe('Sam, new in Year 7');
    expect(read.body.assignees).toEqual([{ type: 'user_group', id: team.id, name: team.name }]);
    // Colleagues who only see Year 9 do not read it.
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.viewer.token)).status).toBe(404);
    const mine = await h.get('/api/v1/me/reports', supervisor.token);
    expect(mine.body.items[0].studentNames).toEqual(['Sam, new in Year 7']);

    // The DSL matches the child later; the unlisted child stays in the revision kept.
    const edited = await h.patch(`/api/v1/incidents/${id}`, s.users.dsl.token, {
      revision: 1,
      studentIds: [s.students.a],
    });
    expect(edited.status).toBe(200);
    const revisions = await h.get(`/api/v1/incidents/${id}/revisions`, s.users.dsl.token);
    expect(revisions.body.items[0].incident.unlistedChild).toEqual({
      name: 'Sam, new in Year 7',
      note: 'Starts on Monday; sister is in Year 9.',
    });
    // The child the DSL added was not named by the reporter.
    expect(
      (await h.get('/api/v1/me/reports', supervisor.token)).body.items[0].studentNames,
    ).toEqual(['Sam, new in Year 7']);
  });

  it('my reports need no two-factor check, newest first, page by page', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const supervisor = s.users.outsider;
    const first = await report(h, s, supervisor.token, { studentIds: [s.students.a] });
    const second = await report(h, s, supervisor.token, {
      studentIds: [s.students.c],
      categoryId: s.category('child_protection'),
    });
    expect(second.status).toBe(201);
    // Reading the child-protection record itself needs the step-up; the list of reports does not.
    expect((await h.get(`/api/v1/incidents/${second.body.id}`, supervisor.token)).status).toBe(403);
    const page1 = await h.get('/api/v1/me/reports', supervisor.token, { limit: 1 });
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((r: any) => [r.id, r.sensitivity])).toEqual([
      [second.body.id, 'child_protection'],
    ]);
    expect(JSON.stringify(page1.body)).not.toContain('bruise');
    const page2 = await h.get('/api/v1/me/reports', supervisor.token, {
      limit: 1,
      cursor: page1.body.nextCursor,
    });
    expect(page2.body).toEqual({
      items: [expect.objectContaining({ id: first.body.id })],
      nextCursor: null,
    });
    // Someone else's reports are not mine.
    expect((await h.get('/api/v1/me/reports', s.users.dsl.token)).body.items).toEqual([]);
  });

  it('validates the body: a child or a child not on roll, each within its limits', async () => {
    const h = haven();
    const s = await school(h);
    const token = s.users.outsider.token;
    const neither = await report(h, s, token, {});
    expect(neither.status).toBe(400);
    expect(neither.body.code).toBe('validation_failed');
    expect(neither.body.errors.map((e: any) => e.field)).toEqual(['studentIds']);
    const longName = await report(h, s, token, { unlistedChild: { name: 'x'.repeat(201) } });
    expect(longName.status).toBe(400);
    expect(longName.body.errors.map((e: any) => e.field)).toEqual(['unlistedChild.name']);
    const longNote = await report(h, s, token, {
      unlistedChild: { name: 'Sam', note: 'x'.repeat(2001) },
    });
    expect(longNote.status).toBe(400);
    const blank = await report(h, s, token, { unlistedChild: { name: '  ' } });
    expect(blank.status).toBe(400);
    const count = await h.database.db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });
});

describe('allegations against staff (spec section 4)', () => {
  const haven = useHaven();

  it('setup makes the first Owner the allegations manager, in a group holding the clearance', async () => {
    const h = haven();
    const s = await school(h);
    const group = await systemGroup(h, `allegations:${s.org.schoolId}`);
    expect(group).toMatchObject({
      name: 'Allegations (Oak Primary)',
      home_scope_type: 'school',
      home_scope_id: s.org.schoolId,
      member_count: 1,
    });
    expect(await currentMembers(h, group.id)).toEqual([s.org.ownerId]);
    const clearances = await h.database.db
      .selectFrom('user_group_clearances')
      .select('clearance')
      .where('user_group_id', '=', group.id)
      .where('valid_to', 'is', null)
      .execute();
    expect(clearances).toEqual([{ clearance: 'allegations' }]);
    const link = await h.database.db
      .selectFrom('student_links as l')
      .innerJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
      .select('sg.system_key')
      .where('l.user_group_id', '=', group.id)
      .where('l.valid_to', 'is', null)
      .execute();
    expect(link).toEqual([{ system_key: `all_students:${s.org.schoolId}` }]);
  });

  it('a new school names its manager (audited), or takes the first Owner; only an Owner adds one', async () => {
    const h = haven();
    const s = await school(h);
    const named = await h.post('/api/v1/schools', s.t, {
      name: 'Birch Academy',
      allegationsManagerId: s.users.dsl.id,
    });
    expect(named.status).toBe(201);
    await mfaEnrolmentNotRequired(h, named.body.id);
    const group = await systemGroup(h, `allegations:${named.body.id}`);
    expect(group.name).toBe('Allegations (Birch Academy)');
    expect(await currentMembers(h, group.id)).toEqual([s.users.dsl.id]);
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select('after_json')
      .where('action', '=', 'user_group.defaults')
      .where('target_id', '=', group.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after_json!)).toMatchObject({
      clearances: ['allegations'],
      allegationsManager: s.users.dsl.id,
    });

    const defaulted = await h.post('/api/v1/schools', s.t, { name: 'Cedar School' });
    expect(defaulted.status).toBe(201);
    await mfaEnrolmentNotRequired(h, defaulted.body.id);
    const cedar = await systemGroup(h, `allegations:${defaulted.body.id}`);
    expect(await currentMembers(h, cedar.id)).toEqual([s.org.ownerId]);

    const other = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm High' });
    for (const manager of ['no-such-user', other.ownerId]) {
      const refused = await h.post('/api/v1/schools', s.t, {
        name: `Refused ${manager}`,
        allegationsManagerId: manager,
      });
      expect(refused.status).toBe(404);
      expect(refused.body.field).toBe('allegationsManagerId');
    }
    // Just below Owner: a DSL at the organisation may not add schools.
    const trustDsl = await createUser(h, s.t, {
      role: 'dsl',
      scope: { type: 'organisation', id: s.org.organisationId },
    });
    expect((await h.post('/api/v1/schools', trustDsl.token, { name: 'Denied' })).status).toBe(403);
  });

  it('an allegation names staff from the picker, goes to the Allegations group, and is never seen by its subject', async () => {
    const h = haven();
    const s = await school(h);
    const supervisor = s.users.outsider;
    const staff = await h.get('/api/v1/reportable-staff', supervisor.token, {
      schoolId: s.org.schoolId,
    });
    expect(staff.status).toBe(200);
    const names = staff.body.items.map((u: any) => u.name);
    expect(names).toEqual(expect.arrayContaining(['Colin Colleague', 'Dina DSL', 'Olive Owner']));
    expect(names).not.toContain('Olga Outsider');
    expect(Object.keys(staff.body.items[0]).sort()).toEqual(['id', 'name']);
    const colin = await h.get('/api/v1/reportable-staff', supervisor.token, {
      schoolId: s.org.schoolId,
      q: 'COLL',
    });
    expect(colin.body.items).toEqual([{ id: s.users.colleague.id, name: 'Colin Colleague' }]);
    // Someone of another school, and a disabled colleague, are not offered.
    const disabled = await createUser(h, s.t, {
      name: 'Dora Disabled',
      role: 'viewer',
      scope: s.atSchool,
    });
    expect((await h.patch(`/api/v1/users/${disabled.id}`, s.t, { disabled: true })).status).toBe(
      200,
    );
    const afterDisable = await h.get('/api/v1/reportable-staff', supervisor.token, {
      schoolId: s.org.schoolId,
      q: 'dora',
    });
    expect(afterDisable.body.items).toEqual([]);

    const allegations = await systemGroup(h, `allegations:${s.org.schoolId}`);
    const created = await report(h, s, supervisor.token, {
      studentIds: [s.students.c],
      categoryId: s.category('allegation'),
      subjectUserId: s.users.colleague.id,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body.assignees.map((a: any) => [a.type, a.id])).toEqual([
      ['user_group', allegations.id],
    ]);
    // The first Owner, the allegations manager, reads it; the subject does not, anywhere.
    const managed = await h.get(`/api/v1/incidents/${id}`, s.t);
    expect(managed.status).toBe(200);
    expect(managed.body.assignees).toEqual([
      { type: 'user_group', id: allegations.id, name: allegations.name },
    ]);
    const subject = s.users.colleague.token;
    expect((await h.get(`/api/v1/incidents/${id}`, subject)).status).toBe(404);
    expect(JSON.stringify((await h.get('/api/v1/incidents', subject)).body)).not.toContain(id);
    expect((await h.get('/api/v1/me/reports', subject)).body.items).toEqual([]);
    // The DSL holds child_protection, not allegations.
    expect((await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token)).status).toBe(404);

    // An allegation about the manager: the group still has it, and the manager never sees it.
    const aboutOwner = await report(h, s, supervisor.token, {
      unlistedChild: { name: 'A visitor’s child' },
      categoryId: s.category('allegation'),
      subjectUserId: s.org.ownerId,
    });
    expect(aboutOwner.status).toBe(201);
    // An allegation goes to the Allegations group alone, never to the Safeguarding Team.
    expect(aboutOwner.body.assignees.map((a: any) => a.id)).toEqual([allegations.id]);
    expect((await h.get(`/api/v1/incidents/${aboutOwner.body.id}`, s.t)).status).toBe(404);
    const ownerList = await h.get('/api/v1/incidents', s.t, { limit: 200 });
    expect(ownerList.body.items.map((i: any) => i.id)).not.toContain(aboutOwner.body.id);
    expect((await h.get(`/api/v1/incidents/${aboutOwner.body.id}`, supervisor.token)).status).toBe(
      200,
    );
  });
});

describe('migration 0011 gives every existing school its Allegations group', () => {
  it('with its organisation’s first current Owner as the manager', async () => {
    const test = await createTestDatabase({ migrate: false });
    try {
      const db = test.database.db;
      await whileNoSchemaIsDropped(() => migrateTo(db, '0010_notifications'));
      const at = (minute: number) => `2026-11-01T09:${String(minute).padStart(2, '0')}:00.000Z`;
      const row = (values: Record<string, unknown>) => values as never;
      await db
        .insertInto('organisations')
        .values(
          row({ id: 'o1', name: 'Trust', settings: '{}', created_at: at(0), updated_at: at(0) }),
        )
        .execute();
      for (const [id, name] of [
        ['k1', 'Oak'],
        ['k2', 'Ash'],
      ])
        await db
          .insertInto('schools')
          .values(
            row({
              id,
              organisation_id: 'o1',
              name,
              settings: '{}',
              created_at: at(1),
              updated_at: at(1),
            }),
          )
          .execute();
      for (const [id, removed] of [
        ['u-gone', at(9)],
        ['u-first', null],
        ['u-later', null],
      ])
        await db
          .insertInto('users')
          .values(
            row({
              id,
              organisation_id: 'o1',
              email: `${id}@school.test`,
              name: id,
              password_hash: null,
              created_at: at(0),
              updated_at: at(0),
              disabled_at: null,
              removed_at: removed,
            }),
          )
          .execute();
      // The earliest Owner has left; of those left, u-first was made Owner before u-later.
      for (const [id, user, from] of [
        ['g0', 'u-gone', at(1)],
        ['g2', 'u-later', at(3)],
        ['g1', 'u-first', at(2)],
      ] as const)
        await db
          .insertInto('role_grants')
          .values(
            row({
              id,
              organisation_id: 'o1',
              user_id: user,
              user_group_id: null,
              role: 'owner',
              scope_type: 'organisation',
              scope_id: 'o1',
              granted_by: null,
              revoked_by: null,
              valid_from: from,
              valid_to: null,
            }),
          )
          .execute();
      await db
        .insertInto('student_groups')
        .values(
          row({
            id: 'sg1',
            organisation_id: 'o1',
            school_id: 'k1',
            name: 'All students (Oak)',
            description: '',
            kind: 'all',
            rule: null,
            system_key: 'all_students:k1',
            member_count: 0,
            created_at: at(1),
            updated_at: at(1),
            deleted_at: null,
          }),
        )
        .execute();
      // A group already has the name the migration would choose.
      await db
        .insertInto('user_groups')
        .values(
          row({
            id: 'ug1',
            organisation_id: 'o1',
            name: 'Allegations (Ash)',
            description: '',
            rationale: '',
            system_key: null,
            home_scope_type: 'organisation',
            home_scope_id: 'o1',
            member_count: 0,
            created_at: at(1),
            updated_at: at(1),
            deleted_at: null,
          }),
        )
        .execute();

      await whileNoSchemaIsDropped(() => migrateToLatest(db));

      const groups = await db
        .selectFrom('user_groups')
        .selectAll()
        .where('system_key', 'like', 'allegations:%')
        .orderBy('system_key')
        .execute();
      expect(
        groups.map((g) => [g.system_key, g.name, g.home_scope_id, Number(g.member_count)]),
      ).toEqual([
        ['allegations:k1', 'Allegations (Oak)', 'k1', 1],
        ['allegations:k2', 'Allegations (Ash) 2', 'k2', 1],
      ]);
      for (const g of groups) {
        const members = await db
          .selectFrom('user_group_members')
          .select('user_id')
          .where('user_group_id', '=', g.id)
          .execute();
        expect(members).toEqual([{ user_id: 'u-first' }]);
        const clearances = await db
          .selectFrom('user_group_clearances')
          .select('clearance')
          .where('user_group_id', '=', g.id)
          .execute();
        expect(clearances).toEqual([{ clearance: 'allegations' }]);
      }
      const links = await db
        .selectFrom('student_links')
        .select(['user_group_id', 'student_group_id'])
        .execute();
      expect(links).toEqual([{ user_group_id: groups[0]!.id, student_group_id: 'sg1' }]);
      const column = await db.selectFrom('incidents').select('unlisted_child').execute();
      expect(column).toEqual([]);
    } finally {
      await test.dispose();
    }
  });
});
