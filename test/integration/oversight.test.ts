import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  grantRole,
  linkGroup,
  login,
  schoolDefaults,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, type School, school } from '../support/school.ts';

/** Every row of a log the token may read, following every page, with the names sent alongside. */
async function wholeLog(
  h: TestHaven,
  path: '/api/v1/audit-log' | '/api/v1/access-log',
  token: string,
  query: Record<string, string> = {},
) {
  const items: any[] = [];
  const names: Record<string, string> = {};
  let cursor: string | undefined;
  do {
    const reply = await h.get(path, token, { limit: 200, ...query, cursor });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    items.push(...reply.body.items);
    Object.assign(names, reply.body.names);
    cursor = reply.body.nextCursor ?? undefined;
  } while (cursor);
  return { items, names, text: JSON.stringify({ items, names }) };
}

/**
 * School A (the `school` scenario, Oak Primary) and school B (Elm Academy) of one trust, each
 * with a child, a team linked to that child's year, a role grant, a read of the child through the
 * team and a concern read by the school's DSL; and Ada, the Admin of school A only, in A's
 * Year 9 team so that A's children (and their trails) are hers to see.
 */
async function twoSchools(h: TestHaven) {
  const s = await school(h);
  const t = s.t;
  const schoolB = await addSchool(h, t, 'Elm Academy');
  const atB = { type: 'school' as const, id: schoolB };
  const ada = await createUser(h, t, { name: 'Ada Admin' });
  const grant = await h.post('/api/v1/role-grants', t, {
    subject: { type: 'user', id: ada.id },
    role: 'admin',
    scope: s.atSchool,
    reason: 'Business manager, runs the school office',
  });
  expect(grant.status).toBe(201);
  ada.token = await login(h, ada.email);
  await addMembers(h, t, s.team, [ada.id]);

  // School B: a child, a Year 7 team homed there with Bea (a Viewer at B only), a DSL at B.
  const elmChild = await createStudent(h, t, {
    schoolId: schoolB,
    yearGroup: 7,
    givenName: 'Zebedee',
    familyName: 'Elmhurst',
  });
  const year7 = await createStudentGroup(h, t, {
    name: 'Elm Year 7',
    schoolId: schoolB,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 7 },
  });
  const elmTeam = await createUserGroup(h, t, 'Elm Year 7 team', { homeScope: atB });
  await linkGroup(h, t, elmTeam, { studentGroupId: year7 });
  const bea = await createUser(h, t, { name: 'Bea Elmviewer', role: 'viewer', scope: atB });
  const beaGrant = (await h.get('/api/v1/role-grants', t, { userId: bea.id })).body.items[0]
    .id as string;
  await addMembers(h, t, elmTeam, [bea.id]);
  const elmDsl = await createUser(h, t, { name: 'Bert Elmdsl', role: 'dsl', scope: atB });
  const elmDefaults = await schoolDefaults(h, t, schoolB);
  await addMembers(h, t, elmDefaults.safeguardingTeamId, [elmDsl.id]);
  expect((await h.get(`/api/v1/students/${elmChild}`, bea.token)).status).toBe(200);
  const elmCategory = (await h.get('/api/v1/categories', t, { schoolId: schoolB })).body.items.find(
    (c: any) => c.sensitivity === 'standard',
  ).id as string;
  const elmConcern = await h.post('/api/v1/incidents', bea.token, {
    schoolId: schoolB,
    studentIds: [elmChild],
    categoryId: elmCategory,
    occurredAt: '2026-11-21T09:00:00Z',
    description: 'Elm concern',
  });
  expect(elmConcern.status).toBe(201);
  expect((await h.get(`/api/v1/incidents/${elmConcern.body.id}`, elmDsl.token)).status).toBe(200);

  // School A: Vera reads child a through the Year 9 team; the DSL reads a concern about a.
  expect((await h.get(`/api/v1/students/${s.students.a}`, s.users.viewer.token)).status).toBe(200);
  const oakConcern = await logConcern(h, s, s.users.viewer.token!);
  expect((await h.get(`/api/v1/incidents/${oakConcern}`, s.users.dsl.token)).status).toBe(200);

  const elm = {
    ids: [schoolB, elmChild, year7, elmTeam, bea.id, beaGrant, elmDsl.id, elmConcern.body.id],
    ids2: [elmDefaults.safeguardingTeamId, elmDefaults.allStudentsId],
    names: ['Elm Academy', 'Zebedee', 'Elmhurst', 'Elm Year 7', 'Bea Elmviewer', 'Bert Elmdsl'],
  };
  return { s, ada, schoolB, elmChild, elmTeam, oakConcern, elm };
}

describe('school-scoped oversight of the audit and access logs (issue 14, item 5)', () => {
  const haven = useHaven();

  it("a school's Admin reads their own school's rows and nothing of another school; the organisation's Admins read both", async () => {
    const h = haven();
    const { s, ada, elm, oakConcern } = await twoSchools(h);
    for (const path of ['/api/v1/audit-log', '/api/v1/access-log'] as const) {
      const mine = await wholeLog(h, path, ada.token!);
      expect(mine.items.length).toBeGreaterThan(0);
      for (const id of [...elm.ids, ...elm.ids2]) expect(mine.text).not.toContain(id);
      for (const name of elm.names) expect(mine.text).not.toContain(name);
      // Nothing of the organisation's own either (its creation), nor of the Owner's sign-ins.
      expect(mine.items.map((e) => e.action)).not.toContain('organisation.create');
      expect(
        mine.items.filter((e) => e.actor?.id === s.org.ownerId && e.action === 'auth.login'),
      ).toEqual([]);
      const all = await wholeLog(h, path, s.t);
      for (const id of [elm.ids[1], elm.ids[7]]) expect(all.text).toContain(id);
      expect(all.items.length).toBeGreaterThan(mine.items.length);
    }
    const audit = await wholeLog(h, '/api/v1/audit-log', ada.token!);
    // A's own rows are there: her role grant with its reason, named; the Year 9 team's members.
    const granted = audit.items.find(
      (e) => e.action === 'role_grant.create' && e.after?.subject?.id === ada.id,
    );
    expect(granted.after).toMatchObject({
      role: 'admin',
      scope: { type: 'school', id: s.org.schoolId },
      reason: 'Business manager, runs the school office',
    });
    expect(audit.names[ada.id]).toBe('Ada Admin');
    expect(audit.names[s.org.schoolId]).toBe('Oak Primary');
    expect(audit.items.some((e) => e.target?.id === s.team)).toBe(true);
    const access = await wholeLog(h, '/api/v1/access-log', ada.token!);
    expect(access.items.some((e) => e.target?.id === s.students.a)).toBe(true);
    // A standard concern about a child Ada sees is hers to read, and so is its trail.
    expect(access.items.some((e) => e.target?.id === oakConcern)).toBe(true);
  });

  it('`schoolId` narrows the log to one school, for the organisation and for a school Admin; another school is 403', async () => {
    const h = haven();
    const { s, ada, schoolB, elmChild } = await twoSchools(h);
    const elmOnly = await wholeLog(h, '/api/v1/access-log', s.t, { schoolId: schoolB });
    expect(elmOnly.items.some((e) => e.target?.id === elmChild)).toBe(true);
    expect(elmOnly.text).not.toContain(s.students.a);
    const oakOnly = await wholeLog(h, '/api/v1/audit-log', ada.token!, {
      schoolId: s.org.schoolId,
    });
    expect(oakOnly.items.length).toBeGreaterThan(0);
    const refused = await h.get('/api/v1/audit-log', ada.token, { schoolId: schoolB });
    expect(refused.status).toBe(403);
    const unknown = await h.get('/api/v1/audit-log', s.t, { schoolId: s.students.a });
    expect(unknown.status).toBe(404);
    // A Viewer oversees nothing.
    expect((await h.get('/api/v1/audit-log', s.users.viewer.token)).status).toBe(403);
  });

  it('an access-log row names the record read and the team that allowed it', async () => {
    const h = haven();
    const s: School = await school(h);
    expect((await h.get(`/api/v1/students/${s.students.a}`, s.users.viewer.token)).status).toBe(
      200,
    );
    const concern = await logConcern(h, s, s.users.viewer.token!);
    expect((await h.get(`/api/v1/incidents/${concern}`, s.users.dsl.token)).status).toBe(200);
    const childRead = await h.get('/api/v1/access-log', s.t, {
      recordId: s.students.a,
      userId: s.users.viewer.id,
    });
    const child = (await h.get(`/api/v1/students/${s.students.a}`, s.t)).body;
    expect(childRead.body.items[0]).toMatchObject({
      action: 'student.read',
      record: {
        type: 'student',
        id: s.students.a,
        label: `${child.givenName} ${child.familyName}`,
      },
      allowedBy: {
        kind: 'user_group',
        userGroup: { id: s.team, name: 'Year 9 team' },
        studentGroup: { id: s.year9, name: 'Year 9' },
      },
    });
    const concernRead = await h.get('/api/v1/access-log', s.t, {
      recordId: concern,
      userId: s.users.dsl.id,
    });
    const allStudents = (await schoolDefaults(h, s.t, s.org.schoolId)).allStudentsId;
    expect(concernRead.body.items[0]).toMatchObject({
      action: 'incident.read',
      record: { type: 'incident', id: concern, label: expect.stringContaining('2026-11-20') },
      allowedBy: {
        kind: 'user_group',
        userGroup: { id: s.safeguardingTeamId, name: 'Safeguarding Team (Oak Primary)' },
        studentGroup: { id: allStudents, name: 'All students (Oak Primary)' },
        student: { id: s.students.a },
      },
    });
    // The reporter's own read: by reporting it, no team.
    await h.get(`/api/v1/incidents/${concern}`, s.users.viewer.token);
    const own = await h.get('/api/v1/access-log', s.t, {
      recordId: concern,
      userId: s.users.viewer.id,
    });
    expect(own.body.items[0].allowedBy).toMatchObject({ kind: 'reporter', userGroup: null });
  });

  it("a child's name is never given to a reader who cannot see the child", async () => {
    const h = haven();
    const s: School = await school(h);
    const ada = await createUser(h, s.t, { name: 'Ada Admin', role: 'admin', scope: s.atSchool });
    // Ada sees no child: a Viewer's read of child a is not hers to read, nor the child's name.
    await h.get(`/api/v1/students/${s.students.a}`, s.users.viewer.token);
    const log = await wholeLog(h, '/api/v1/audit-log', ada.token!);
    expect(log.items.some((e) => e.target?.id === s.students.a)).toBe(false);
    expect(log.text).not.toContain('Adams');
    expect(log.names[s.students.a]).toBeUndefined();
  });
});

describe('role overview (issue 14, item 4)', () => {
  const haven = useHaven();

  it('filters people by exact role and by a scope covering it, each with their roles and sources', async () => {
    const h = haven();
    const s = await school(h);
    const t = s.t;
    const schoolB = await addSchool(h, t, 'Elm Academy');
    const deputy = await createUser(h, t, {
      name: 'Derek Deputy',
      role: 'deputy_dsl',
      scope: s.atSchool,
    });
    const elmDsl = await createUser(h, t, {
      name: 'Bert Elmdsl',
      role: 'dsl',
      scope: { type: 'school', id: schoolB },
    });
    const leads = await createUserGroup(h, t, 'Leads', { homeScope: s.atSchool });
    await grantRole(h, t, { type: 'user_group', id: leads }, 'dsl', s.atSchool);
    const viaGroup = await createUser(h, t, { name: 'Gail Grouped' });
    await addMembers(h, t, leads, [viaGroup.id]);
    const ids = async (query: Record<string, string>) => {
      const reply = await h.get('/api/v1/users', t, { limit: 200, ...query });
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      return { ids: reply.body.items.map((u: any) => u.id).sort(), items: reply.body.items };
    };
    const atA = { scopeType: 'school', scopeId: s.org.schoolId };
    const dslAtA = await ids({ role: 'dsl', ...atA });
    expect(dslAtA.ids).toEqual([s.users.dsl.id, viaGroup.id].sort());
    expect((await ids({ role: 'deputy_dsl' })).ids).toEqual([deputy.id]);
    expect((await ids({ role: 'dsl' })).ids).toEqual(
      [s.users.dsl.id, viaGroup.id, elmDsl.id].sort(),
    );
    // Any role at school B: Bert there, and the Owner, whose organisation-wide role covers B.
    expect((await ids({ scopeType: 'school', scopeId: schoolB })).ids).toEqual(
      [elmDsl.id, s.org.ownerId].sort(),
    );
    const gail = dslAtA.items.find((u: any) => u.id === viaGroup.id);
    expect(gail.roles).toEqual([
      expect.objectContaining({
        role: 'dsl',
        scope: { type: 'school', id: s.org.schoolId, name: 'Oak Primary' },
        source: { type: 'user_group', userGroupId: leads, userGroupName: 'Leads' },
      }),
    ]);
    const dina = dslAtA.items.find((u: any) => u.id === s.users.dsl.id);
    expect(dina.roles).toEqual([
      expect.objectContaining({ role: 'dsl', source: { type: 'direct' } }),
    ]);
    // Search and pages stay inside the filter.
    const page = await h.get('/api/v1/users', t, { role: 'dsl', limit: 1 });
    expect(page.body.items).toHaveLength(1);
    const next = await h.get('/api/v1/users', t, {
      role: 'dsl',
      limit: 5,
      cursor: page.body.nextCursor,
    });
    expect([...page.body.items, ...next.body.items].map((u: any) => u.id).sort()).toEqual(
      [s.users.dsl.id, viaGroup.id, elmDsl.id].sort(),
    );
    expect((await ids({ role: 'dsl', q: 'gail' })).ids).toEqual([viaGroup.id]);
    expect((await h.get('/api/v1/users', t, { scopeType: 'school' })).status).toBe(400);
  });

  it("a group the caller may not see is not betrayed by its grant's id: its members are not seen together", async () => {
    const h = haven();
    const s = await school(h);
    const t = s.t;
    const schoolB = await addSchool(h, t, 'Elm Academy');
    const atB = { type: 'school' as const, id: schoolB };
    const ada = await createUser(h, t, { name: 'Ada Admin', role: 'admin', scope: s.atSchool });
    // A team homed at school B holds Viewer there, with two members.
    const elmTeam = await createUserGroup(h, t, 'Elm leads', { homeScope: atB });
    await grantRole(h, t, { type: 'user_group', id: elmTeam }, 'viewer', atB);
    const one = await createUser(h, t, { name: 'Elm One' });
    const two = await createUser(h, t, { name: 'Elm Two' });
    await addMembers(h, t, elmTeam, [one.id, two.id]);
    const list = await h.get('/api/v1/users', ada.token, { limit: 200, role: 'viewer' });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const held = list.body.items
      .filter((u: any) => u.id === one.id || u.id === two.id)
      .flatMap((u: any) => u.roles);
    expect(held).toHaveLength(2);
    for (const grant of held) {
      expect(grant.source).toEqual({ type: 'user_group', userGroupId: null, userGroupName: null });
      expect(grant.grantId).toBeNull();
    }
    const single = await h.get(`/api/v1/users/${one.id}`, ada.token);
    expect(single.body.roles[0].grantId).toBeNull();
    // The organisation's Admins see the group, and so the grant.
    const whole = await h.get(`/api/v1/users/${one.id}`, t);
    expect(whole.body.roles[0]).toMatchObject({ source: { userGroupId: elmTeam } });
    expect(typeof whole.body.roles[0].grantId).toBe('string');
  });
});

describe('"All students" in sight (issue 14, item 6)', () => {
  const haven = useHaven();

  it('a link to All students needs confirmation and a rationale, kept with the link and in the audit log', async () => {
    const h = haven();
    const s = await school(h);
    const { allStudentsId } = await schoolDefaults(h, s.t, s.org.schoolId);
    const group = await createUserGroup(h, s.t, 'Pastoral', { homeScope: s.atSchool });
    const path = `/api/v1/user-groups/${group}/student-links`;
    for (const body of [
      { studentGroupId: allStudentsId },
      { studentGroupId: allStudentsId, confirm: true },
      { studentGroupId: allStudentsId, confirm: true, rationale: '   ' },
      { studentGroupId: allStudentsId, confirm: false, rationale: 'Pastoral leads' },
    ]) {
      const refused = await h.post(path, s.t, body);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('all_students_confirmation_required');
    }
    const batch = await h.post(`/api/v1/user-groups/${group}/batch`, s.t, {
      operations: [{ op: 'addStudentLink', studentGroupId: allStudentsId }],
    });
    expect(batch.status).toBe(409);
    expect(batch.body).toMatchObject({
      code: 'all_students_confirmation_required',
      operationIndex: 0,
    });
    expect((await h.get(`/api/v1/user-groups/${group}`, s.t)).body.studentLinks).toEqual([]);
    // Another kind of group needs nothing.
    expect((await h.post(path, s.t, { studentGroupId: s.year9 })).status).toBe(201);

    const made = await h.post(path, s.t, {
      studentGroupId: allStudentsId,
      confirm: true,
      rationale: '  Pastoral leads follow every child  ',
    });
    expect(made.status).toBe(201);
    const row = await h.database.db
      .selectFrom('student_links')
      .select('rationale')
      .where('id', '=', made.body.id)
      .executeTakeFirstOrThrow();
    expect(row.rationale).toBe('Pastoral leads follow every child');
    const log = await h.get('/api/v1/audit-log', s.t, {
      targetId: group,
      action: 'user_group.link.add',
    });
    expect(log.body.items[0].after).toMatchObject({
      linkId: made.body.id,
      studentGroupId: allStudentsId,
      allStudents: true,
      rationale: 'Pastoral leads follow every child',
    });
    expect(log.body.names[allStudentsId]).toBe('All students (Oak Primary)');
  });

  it('a student group lists the user groups linked to it', async () => {
    const h = haven();
    const s = await school(h);
    const { allStudentsId } = await schoolDefaults(h, s.t, s.org.schoolId);
    const group = await createUserGroup(h, s.t, 'Pastoral', { homeScope: s.atSchool });
    await addMembers(h, s.t, group, [s.users.viewer.id, s.users.colleague.id]);
    await linkGroup(h, s.t, group, { studentGroupId: allStudentsId });
    const reply = await h.get(`/api/v1/student-groups/${allStudentsId}/linked-user-groups`, s.t);
    expect(reply.status).toBe(200);
    expect(reply.body.items.map((g: any) => g.name)).toEqual([
      'Allegations (Oak Primary)',
      'Pastoral',
      'Safeguarding Team (Oak Primary)',
    ]);
    expect(reply.body.items.find((g: any) => g.id === group)).toMatchObject({
      homeScope: { type: 'school', id: s.org.schoolId, name: 'Oak Primary' },
      memberCount: 2,
      since: expect.any(String),
      rationale: 'Set up for the test',
    });
    expect(reply.body.otherGroups).toBe(0);
    const year9 = await h.get(`/api/v1/student-groups/${s.year9}/linked-user-groups`, s.t);
    expect(year9.body.items.map((g: any) => g.id)).toEqual([s.team]);
    // A Viewer sees only the groups they belong to, and no count of the others.
    const viewer = await h.get(
      `/api/v1/student-groups/${allStudentsId}/linked-user-groups`,
      s.users.viewer.token,
    );
    expect(viewer.body.items.map((g: any) => g.id)).toEqual([group]);
    expect(viewer.body.otherGroups).toBeNull();
  });
});
