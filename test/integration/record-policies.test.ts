import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  blockStudent,
  createUser,
  createUserGroup,
  grantRole,
  linkGroup,
  schoolDefaults,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { headTeachers, logConcern, type School, school } from '../support/school.ts';

/**
 * Issue 11's findings about records, each as a school would meet it: revisions, safeguarding
 * decisions on an edit, the widening preview being the read, role grants that widen, hidden
 * children on an edit and in a filter, and what the audit log shows an Admin.
 */

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

async function patch(h: TestHaven, token: string | undefined, id: string, change: object) {
  const current = await h.get(`/api/v1/incidents/${id}`, token);
  return h.patch(`/api/v1/incidents/${id}`, token, {
    revision: current.body.revision,
    ...change,
  });
}

async function deputy(h: TestHaven, s: School) {
  const user = await createUser(h, s.t, {
    name: 'Dev Deputy',
    role: 'deputy_dsl',
    scope: s.atSchool,
  });
  await addMembers(h, s.t, s.safeguardingTeamId, [user.id]);
  return user;
}

async function preview(h: TestHaven, token: string | undefined, change: object) {
  const reply = await h.post('/api/v1/access/widening-preview', token, change);
  if (reply.status !== 200) throw new Error(`preview failed: ${JSON.stringify(reply.body)}`);
  return reply.body as { newViewers: number; sensitiveRecords: number; examples: { id: string }[] };
}

describe('records: revisions as the reader may see them (finding 1)', () => {
  const haven = useHaven();

  it('an earlier child-protection version is withheld from a colleague who now reads the lowered record, and a blocked child is named in no revision', async () => {
    const h = haven();
    const s = await school(h);
    const dev = await deputy(h, s);
    const { a, b } = s.students;
    const id = await logConcern(h, s, s.users.viewer.token!, {
      sensitivity: 'child_protection',
      studentIds: [a, b],
      description: 'DISCLOSURE-TEXT told a teacher at break',
    });
    const colleague = s.users.colleague;
    expect((await h.get(`/api/v1/incidents/${id}`, colleague.token)).status).toBe(404);
    // The Deputy DSL decides it is not a child-protection matter after all.
    const lowered = await patch(h, dev.token, id, {
      categoryId: s.category('standard'),
      description: 'Upset at break; settled after lunch.',
    });
    expect(lowered.status).toBe(200);
    await blockStudent(h, s.users.dsl.token!, colleague.id, b);
    // A second edit: revision 2 was standard, about both children.
    expect((await patch(h, dev.token, id, { location: 'Hall' })).status).toBe(200);

    expect((await h.get(`/api/v1/incidents/${id}`, colleague.token)).status).toBe(200);
    const seen = await h.get(`/api/v1/incidents/${id}/revisions`, colleague.token);
    expect(seen.status).toBe(200);
    const body = JSON.stringify(seen.body);
    expect(body).not.toContain('DISCLOSURE-TEXT');
    expect(body).not.toContain(b);
    const [second, first] = seen.body.items;
    expect(first).toEqual({ revision: 1, replacedAt: expect.any(String), withheld: true });
    expect(second).toMatchObject({
      revision: 2,
      withheld: false,
      incident: {
        category: { sensitivity: 'standard' },
        students: [expect.objectContaining({ redacted: false, id: a }), { redacted: true }],
      },
    });
    // The Deputy DSL, cleared, reads every version in full.
    const full = await h.get(`/api/v1/incidents/${id}/revisions`, dev.token);
    expect(full.body.items[1]).toMatchObject({
      revision: 1,
      withheld: false,
      incident: {
        description: 'DISCLOSURE-TEXT told a teacher at break',
        category: { sensitivity: 'child_protection' },
      },
    });
    expect(JSON.stringify(full.body)).toContain(b);
  });
});

describe('records: sensitivity is a safeguarding decision (finding 2)', () => {
  const haven = useHaven();

  it('a Viewer cannot lower, close, or remove a child from a concern; a Deputy DSL can; the Viewer still corrects the account and adds a child', async () => {
    const h = haven();
    const s = await school(h);
    const dev = await deputy(h, s);
    const viewer = s.users.viewer.token;
    const cp = await logConcern(h, s, viewer!, { sensitivity: 'child_protection' });
    for (const change of [{ categoryId: s.category('standard') }, { status: 'closed' }]) {
      const refused = await patch(h, viewer, cp, change);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toMatch(/Deputy DSL/);
      expect(refused.body.permission).toBe('incidents.reclassify');
    }
    expect((await patch(h, viewer, cp, { description: 'Corrected account.' })).status).toBe(200);
    expect((await patch(h, dev.token, cp, { status: 'closed' })).status).toBe(200);

    const standard = await logConcern(h, s, viewer!, { studentIds: [s.students.a] });
    expect(
      (await patch(h, viewer, standard, { studentIds: [s.students.a, s.students.b] })).status,
    ).toBe(200);
    const removal = await patch(h, viewer, standard, { studentIds: [s.students.a] });
    expect(removal.status).toBe(403);
    expect((await patch(h, dev.token, standard, { studentIds: [s.students.a] })).status).toBe(200);
  });

  it('moving a concern to another school needs Deputy DSL at both schools', async () => {
    const h = haven();
    const s = await school(h);
    const dev = await deputy(h, s);
    const elm = await addSchool(h, s.t, 'Elm Academy');
    const id = await logConcern(h, s, s.users.viewer.token!);
    const organisationCategory = (
      await h.post('/api/v1/categories', s.t, { name: 'Wellbeing', sensitivity: 'standard' })
    ).body.id;
    const move = { schoolId: elm, categoryId: organisationCategory };
    expect((await patch(h, s.users.viewer.token, id, move)).status).toBe(403);
    expect((await patch(h, dev.token, id, move)).status).toBe(403);
    await grantRole(h, s.t, { type: 'user', id: dev.id }, 'deputy_dsl', {
      type: 'school',
      id: elm,
    });
    const moved = await patch(h, dev.token, id, move);
    expect(moved.status).toBe(200);
    expect(moved.body.schoolId).toBe(elm);
  });
});

describe('records: the widening preview is the read (findings 3 and 4)', () => {
  const haven = useHaven();

  it('previewing the assignment of a child-protection concern to a Viewer of another school counts them, and they then read it', async () => {
    const h = haven();
    const s = await school(h);
    const cp = await logConcern(h, s, s.users.dsl.token!, {
      sensitivity: 'child_protection',
      studentIds: [s.students.c],
    });
    const elm = await addSchool(h, s.t, 'Elm Academy');
    const elsewhere = await createUser(h, s.t, {
      role: 'viewer',
      scope: { type: 'school', id: elm },
    });
    const change = {
      kind: 'incident_assignee',
      incidentId: cp,
      assignee: { type: 'user', id: elsewhere.id },
    };
    const before = await preview(h, s.users.dsl.token, change);
    expect(before).toMatchObject({ newViewers: 1, sensitiveRecords: 1 });
    expect(before.examples.map((e) => e.id)).toEqual([elsewhere.id]);
    // Nothing was changed by asking.
    expect((await h.get(`/api/v1/incidents/${cp}`, elsewhere.token)).status).toBe(404);
    const assigned = await h.post(
      `/api/v1/incidents/${cp}/assignees`,
      s.users.dsl.token!,
      change.assignee,
    );
    expect(assigned.status).toBe(200);
    expect((await h.get(`/api/v1/incidents/${cp}`, elsewhere.token)).status).toBe(200);
    expect(await preview(h, s.users.dsl.token, change)).toMatchObject({ newViewers: 0 });
  });

  it('lowering a child-protection concern is previewed as the colleagues who would read it', async () => {
    const h = haven();
    const s = await school(h);
    const cp = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const result = await preview(h, s.users.dsl.token, {
      kind: 'incident_update',
      incidentId: cp,
      patch: { revision: 1, categoryId: s.category('standard') },
    });
    // The Year 9 team sees child A: Vera and Colin would read it once it is standard.
    expect(result).toMatchObject({ newViewers: 2, sensitiveRecords: 1 });
    expect(result.examples.map((e) => e.id).sort()).toEqual(
      [s.users.viewer.id, s.users.colleague.id].sort(),
    );
    // The preview refuses what the change itself would refuse.
    const refused = await h.post('/api/v1/access/widening-preview', s.users.viewer.token, {
      kind: 'incident_update',
      incidentId: cp,
      patch: { revision: 1, categoryId: s.category('standard') },
    });
    expect(refused.status).toBe(404);
  });

  it('a direct role grant that opens child-protection records to a Safeguarding Team member is previewed', async () => {
    const h = haven();
    const s = await school(h);
    await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const newcomer = await createUser(h, s.t, { name: 'Nia Newcomer' });
    await addMembers(h, s.t, s.safeguardingTeamId, [newcomer.id]);
    const grant = {
      kind: 'role_grant',
      subject: { type: 'user', id: newcomer.id },
      role: 'viewer',
      scope: s.atSchool,
    };
    const result = await preview(h, s.t, grant);
    expect(result).toMatchObject({ newViewers: 1, sensitiveRecords: 1 });
    expect(result.examples.map((e) => e.id)).toEqual([newcomer.id]);
    // A grant to a group is previewed for its members.
    const group = await createUserGroup(h, s.t, 'Cover staff');
    const cover = await createUser(h, s.t);
    await addMembers(h, s.t, group, [cover.id]);
    await linkGroup(h, s.t, group, {
      studentGroupId: (await schoolDefaults(h, s.t, s.org.schoolId)).allStudentsId,
    });
    expect(
      await preview(h, s.t, { ...grant, subject: { type: 'user_group', id: group } }),
    ).toMatchObject({ newViewers: 0 });
  });
});

describe('records: children the editor cannot see (findings 10 and 12)', () => {
  const haven = useHaven();

  it('a Viewer editing a shared concern keeps the children they cannot see on it', async () => {
    const h = haven();
    const s = await school(h);
    const { a, c } = s.students;
    const id = await logConcern(h, s, s.users.dsl.token!, { studentIds: [a, c] });
    const viewer = s.users.viewer.token;
    const read = await h.get(`/api/v1/incidents/${id}`, viewer);
    expect(read.body.students).toEqual([expect.objectContaining({ id: a }), { redacted: true }]);
    const edited = await patch(h, viewer, id, { studentIds: [a], description: 'Fuller account.' });
    expect(edited.status).toBe(200);
    const kept = await h.database.db
      .selectFrom('incident_students')
      .select('student_id')
      .where('incident_id', '=', id)
      .orderBy('student_id')
      .execute();
    expect(kept.map((k) => k.student_id).sort()).toEqual([a, c].sort());
    const chronology = await h.get(`/api/v1/students/${c}/chronology`, s.users.dsl.token);
    expect(chronology.body.items.map((e: any) => e.incidentId)).toContain(id);
  });

  it('asking for the concerns about a child one cannot see is 404, on the list, the count and the export', async () => {
    const h = haven();
    const s = await school(h);
    const { a, c } = s.students;
    const id = await logConcern(h, s, s.users.dsl.token!, { studentIds: [a, c] });
    const viewer = s.users.viewer.token;
    for (const url of [
      '/api/v1/incidents',
      '/api/v1/incidents/count',
      '/api/v1/incidents/export',
    ]) {
      const reply = await h.get(url, viewer, { studentId: c });
      expect(reply.status).toBe(404);
      expect(JSON.stringify(reply.body)).not.toContain(id);
    }
    const about = await h.get('/api/v1/incidents', viewer, { studentId: a });
    expect(about.body.items.map((i: any) => i.id)).toEqual([id]);
  });
});

describe('records: what the audit log shows an Admin (finding 9)', () => {
  const haven = useHaven();

  it('an Admin without the clearance sees no title, file or id of a child-protection record, and the subject of an allegation sees nothing of it', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, {
      name: 'Ada Admin',
      role: 'admin',
      organisationId: s.org.organisationId,
    });
    const cp = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const action = await h.post(`/api/v1/incidents/${cp}/actions`, s.users.dsl.token, {
      title: 'ACTION-TITLE refer to children’s social care',
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(action.status).toBe(201);
    const document = await h.request('POST', `/api/v1/incidents/${cp}/documents`, {
      token: s.users.dsl.token,
      query: { filename: 'FILE-NAME.pdf' },
      headers: { 'content-type': 'application/pdf' },
      body: PDF,
    });
    expect(document.status).toBe(201);
    expect((await h.get(`/api/v1/documents/${document.body.id}`, s.users.dsl.token)).status).toBe(
      200,
    );
    // Someone else's refused request names the record in its path.
    expect((await h.get(`/api/v1/incidents/${cp}`, s.users.outsider.token)).status).toBe(404);

    // The allegation: about a member of staff who is also an Admin and holds the clearance.
    const subject = await createUser(h, s.t, {
      name: 'Sam Subject',
      role: 'admin',
      organisationId: s.org.organisationId,
    });
    const head = await createUser(h, s.t, { name: 'Hana Head', role: 'dsl', scope: s.atSchool });
    await headTeachers(h, s, [subject.id, head.id]);
    const allegation = await logConcern(h, s, head.token!, {
      sensitivity: 'allegation',
      subjectUserId: subject.id,
    });
    expect(
      (
        await h.post(`/api/v1/incidents/${allegation}/actions`, head.token, {
          title: 'ALLEGATION-ACTION suspend pending LADO referral',
          assignee: { type: 'user', id: head.id },
        })
      ).status,
    ).toBe(201);

    const everything = async (token: string | undefined) => {
      const pages: unknown[] = [];
      for (const url of ['/api/v1/audit-log', '/api/v1/access-log']) {
        const reply = await h.get(url, token, { limit: 200 });
        expect(reply.status).toBe(200);
        pages.push(reply.body);
      }
      return JSON.stringify(pages);
    };
    const adminSees = await everything(admin.token);
    for (const hidden of ['ACTION-TITLE', 'FILE-NAME', cp, action.body.id, document.body.id])
      expect(adminSees).not.toContain(hidden);
    // The log is not simply empty: the Admin's own changes and the school's set-up are there.
    expect(adminSees).toContain('user.create');

    const subjectSees = await everything(subject.token);
    for (const hidden of ['ALLEGATION-ACTION', allegation])
      expect(subjectSees).not.toContain(hidden);
    // The head teacher, cleared, reads the allegation's trail.
    const ownerSees = await everything(s.t);
    expect(ownerSees).toContain(cp);
  });
});

describe('records: explaining who reads an incident (api.md: explain with incidentId)', () => {
  const haven = useHaven();

  it('names the way in or the denial, from the policy itself, and redacts children the asker cannot see', async () => {
    const h = haven();
    const s = await school(h);
    const cp = await logConcern(h, s, s.users.viewer.token!, { sensitivity: 'child_protection' });
    const explain = async (userId: string) => {
      const reply = await h.get('/api/v1/access/explain', s.t, { userId, incidentId: cp });
      expect(reply.status).toBe(200);
      return reply.body;
    };
    expect(await explain(s.users.viewer.id)).toMatchObject({
      allowed: true,
      paths: [{ kind: 'reporter' }],
    });
    expect(await explain(s.users.colleague.id)).toMatchObject({
      allowed: false,
      paths: [],
      denials: [{ kind: 'no_clearance' }],
    });
    const dsl = await explain(s.users.dsl.id);
    expect(dsl).toMatchObject({
      allowed: true,
      paths: [{ kind: 'student', student: { id: s.students.a } }],
    });
    expect(dsl.paths[0].via[0]).toMatchObject({ userGroup: { id: s.safeguardingTeamId } });
    await h.put(`/api/v1/incidents/${cp}/exclusions`, s.users.dsl.token, {
      userIds: [s.users.dsl.id],
    });
    expect(await explain(s.users.dsl.id)).toMatchObject({
      allowed: false,
      denials: [{ kind: 'excluded' }],
    });
    // Someone who cannot read the record cannot have it explained to them: 404.
    const asOutsider = await h.get('/api/v1/access/explain', s.users.outsider.token, {
      userId: s.users.outsider.id,
      incidentId: cp,
    });
    expect(asOutsider.status).toBe(404);
    const both = await h.get('/api/v1/access/explain', s.t, {
      userId: s.users.dsl.id,
      incidentId: cp,
      studentId: s.students.a,
    });
    expect(both.status).toBe(400);
  });
});

describe('records: assigning work to a group one may not see', () => {
  const haven = useHaven();

  it('a school DSL cannot assign a concern or an action to a group homed where they administer nothing (404)', async () => {
    const h = haven();
    const s = await school(h);
    const trustGroup = await createUserGroup(h, s.t, 'Trust safeguarding hub');
    const id = await logConcern(h, s, s.users.dsl.token!);
    const assigned = await h.post(`/api/v1/incidents/${id}/assignees`, s.users.dsl.token, {
      type: 'user_group',
      id: trustGroup,
    });
    expect(assigned.status).toBe(404);
    const action = await h.post(`/api/v1/incidents/${id}/actions`, s.users.dsl.token, {
      title: 'Call the hub',
      assignee: { type: 'user_group', id: trustGroup },
    });
    expect(action.status).toBe(404);
    // The school's own group is theirs to assign.
    const own = await h.post(`/api/v1/incidents/${id}/assignees`, s.users.dsl.token, {
      type: 'user_group',
      id: s.team,
    });
    expect(own.status).toBe(200);
  });
});

describe('records: the audit log holds no more than the records it describes (review)', () => {
  const haven = useHaven();

  it('an edit of a version one could not read is withheld; a deleted child stays hidden; block decisions stay with those who make them', async () => {
    const h = haven();
    const s = await school(h);
    const dev = await deputy(h, s);
    const admin = await createUser(h, s.t, {
      name: 'Ada Admin',
      role: 'admin',
      organisationId: s.org.organisationId,
    });
    // The Admin sees the Year 9 children (and so standard concerns about them), nothing more.
    await addMembers(h, s.t, s.team, [admin.id]);
    const subject = s.users.outsider.id;
    const allegation = await logConcern(h, s, dev.token!, {
      sensitivity: 'allegation',
      subjectUserId: subject,
    });
    // Dev holds no allegations clearance but reported it, and lowers it to standard.
    const lowered = await patch(h, dev.token, allegation, { categoryId: s.category('standard') });
    expect(lowered.status).toBe(200);
    const rows = (
      await h.get('/api/v1/audit-log', admin.token, { targetId: allegation, limit: 200 })
    ).body.items;
    const created = rows.find((r: any) => r.action === 'incident.create');
    expect(created).toMatchObject({ withheld: true, before: null, after: null });
    expect(JSON.stringify(rows)).not.toContain(subject);
    // Someone who could read the allegation (its reporter, here made an Admin too) reads it in full.
    await grantRole(h, s.t, { type: 'user', id: dev.id }, 'admin', {
      type: 'organisation',
      id: s.org.organisationId,
    });
    const devRows = (
      await h.get('/api/v1/audit-log', dev.token, { targetId: allegation, limit: 200 })
    ).body.items;
    expect(devRows.find((r: any) => r.action === 'incident.create')).toMatchObject({
      withheld: false,
      after: expect.objectContaining({ subjectUserId: subject }),
    });

    // A child the Admin never saw (Year 10), deleted: deleting does not open their trail.
    expect((await h.delete(`/api/v1/students/${s.students.c}`, s.t)).status).toBe(204);
    const trail = await h.get('/api/v1/audit-log', admin.token, { targetId: s.students.c });
    expect(trail.body.items).toEqual([]);
    // Those who saw the child when it was deleted still read who deleted it.
    const ownerTrail = await h.get('/api/v1/audit-log', s.t, { targetId: s.students.c });
    expect(ownerTrail.body.items.map((r: any) => r.action)).toContain('student.delete');

    // A block on a child the Admin sees is a Deputy DSL's decision, not theirs to read.
    await blockStudent(h, s.t, s.users.colleague.id, s.students.a, 'BLOCK-REASON parent');
    const adminLog = JSON.stringify(
      (await h.get('/api/v1/audit-log', admin.token, { limit: 200 })).body,
    );
    expect(adminLog).not.toContain('BLOCK-REASON');
    const ownerLog = JSON.stringify((await h.get('/api/v1/audit-log', s.t, { limit: 200 })).body);
    expect(ownerLog).toContain('BLOCK-REASON');
  });
});

describe('records: refusals of the new questions (401 covered by deny-by-default)', () => {
  const haven = useHaven();

  it("explaining someone else's read needs the access-audit role; previews of grants and lifted blocks need the change's own role; bad input writes nothing", async () => {
    const h = haven();
    const s = await school(h);
    const cp = await logConcern(h, s, s.users.viewer.token!, { sensitivity: 'child_protection' });
    // The Viewer reads their own report, but may not ask why a colleague can or cannot.
    const other = await h.get('/api/v1/access/explain', s.users.viewer.token, {
      userId: s.users.colleague.id,
      incidentId: cp,
    });
    expect(other.status).toBe(403);
    expect(
      (
        await h.get('/api/v1/access/explain', s.users.viewer.token, {
          userId: s.users.viewer.id,
          incidentId: cp,
        })
      ).status,
    ).toBe(200);

    const newcomer = await createUser(h, s.t, { name: 'Nia Newcomer' });
    const grant = {
      kind: 'role_grant',
      subject: { type: 'user', id: newcomer.id },
      role: 'viewer',
      scope: s.atSchool,
    };
    const asViewer = await h.post('/api/v1/access/widening-preview', s.users.viewer.token, grant);
    expect(asViewer.status).toBe(403);
    const block = await blockStudent(h, s.users.dsl.token!, s.users.colleague.id, s.students.a);
    const lift = await h.post('/api/v1/access/widening-preview', s.users.viewer.token, {
      kind: 'block_removal',
      blockId: block,
    });
    expect(lift.status).toBe(403);
    const before = await h.database.db
      .selectFrom('role_grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const bad = await h.post('/api/v1/access/widening-preview', s.t, { ...grant, role: 'member' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(bad.body.code).toBe('validation_failed');
    // A preview never writes, answered or refused.
    expect((await preview(h, s.t, grant)).newViewers).toBe(0);
    const after = await h.database.db
      .selectFrom('role_grants')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });
});
