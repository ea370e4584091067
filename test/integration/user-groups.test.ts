import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHaven } from '../support/cli.ts';
import {
  addMembers,
  addSchool,
  countRows,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  grantRole,
  linkGroup,
  login,
  schoolDefaults,
  setupOrganisation,
  visibleIds,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

async function groupState(h: TestHaven, token: string, groupId: string) {
  const group = (await h.get(`/api/v1/user-groups/${groupId}`, token)).body;
  const members = (
    await h.get(`/api/v1/user-groups/${groupId}/members`, token, { limit: 200 })
  ).body.items.map((m: any) => m.id);
  return { group, members: members.sort() };
}

describe('user groups', () => {
  const haven = useHaven();

  it('applies a batch of edits atomically: all of them, or none', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const [a, b] = [await createUser(h, t), await createUser(h, t)];
    const student = await createStudent(h, t, { schoolId: org.schoolId, yearGroup: 8 });
    const groupId = await createUserGroup(h, t, 'Year 8 Team');
    const before = await groupState(h, t, groupId);
    const auditBefore = await countRows(h, 'audit_events');

    const failing = await h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
      operations: [
        { op: 'addMembers', userIds: [a.id, b.id] },
        { op: 'update', rationale: 'Pastoral care for Year 8' },
        { op: 'addStudentLink', studentId: student },
        { op: 'addOwners', userIds: ['no-such-user'] },
      ],
    });
    expect(failing.status).toBe(404);
    expect(failing.body).toMatchObject({
      code: 'not_found',
      operationIndex: 3,
      operation: 'addOwners',
    });
    expect(await groupState(h, t, groupId)).toEqual(before);
    // Only the refusal row is new; the changes of operations 0 to 2 left no trace.
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);

    const good = await h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
      operations: [
        { op: 'addMembers', userIds: [a.id, b.id] },
        { op: 'removeMembers', userIds: [b.id] },
        { op: 'addMembers', userIds: [b.id] },
        { op: 'update', rationale: 'Pastoral care for Year 8' },
        { op: 'addStudentLink', studentId: student },
        { op: 'addOwners', userIds: [a.id] },
        { op: 'setClearances', clearances: [] },
      ],
    });
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(good.body.applied).toBe(7);
    const after = await groupState(h, t, groupId);
    expect(after.members).toEqual([a.id, b.id].sort());
    expect(after.group).toMatchObject({ rationale: 'Pastoral care for Year 8', memberCount: 2 });
    expect(after.group.owners.map((o: any) => o.id)).toEqual([a.id]);
    expect(after.group.studentLinks).toHaveLength(1);
  });

  it('enforces its limits with limit_exceeded and writes nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const groupId = await createUserGroup(h, t, 'Owners galore');
    const users = [];
    for (let i = 0; i < 11; i++) users.push((await createUser(h, t)).id);
    expect(
      (await h.post(`/api/v1/user-groups/${groupId}/owners`, t, { userIds: users.slice(0, 10) }))
        .status,
    ).toBe(200);
    const eleventh = await h.post(`/api/v1/user-groups/${groupId}/owners`, t, {
      userIds: [users[10]],
    });
    expect(eleventh.status).toBe(422);
    expect(eleventh.body).toMatchObject({ code: 'limit_exceeded', limit: 10 });
    expect((await h.get(`/api/v1/user-groups/${groupId}`, t)).body.owners).toHaveLength(10);

    const tooMany = Array.from({ length: 10_001 }, (_, i) => `user-${i}`);
    const bulk = await h.post(`/api/v1/user-groups/${groupId}/members`, t, { userIds: tooMany });
    expect(bulk.status).toBe(400);
    expect(bulk.body.errors[0].field).toBe('userIds');

    // 1,000 user groups per organisation (the school set-up made two already: its Safeguarding
    // Team and its Allegations group).
    const now = new Date().toISOString();
    await h.database.db
      .insertInto('user_groups')
      .values(
        Array.from({ length: 996 }, (_, i) => ({
          id: `filler-${i}`,
          organisation_id: org.organisationId,
          name: `Filler ${i}`,
          description: '',
          rationale: '',
          system_key: null,
          home_scope_type: 'organisation',
          home_scope_id: org.organisationId,
          member_count: 0,
          created_at: now,
          updated_at: now,
          deleted_at: null,
        })),
      )
      .execute();
    const count = Number(
      (
        await h.database.db
          .selectFrom('user_groups')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('organisation_id', '=', org.organisationId)
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(count).toBe(999);
    expect((await h.post('/api/v1/user-groups', t, { name: 'The thousandth' })).status).toBe(201);
    const over = await h.post('/api/v1/user-groups', t, { name: 'One too many' });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 'limit_exceeded', limit: 1000 });
  });

  it('refuses a duplicate name, and ids from another organisation (404)', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const groupId = await createUserGroup(h, oak.ownerToken, 'Year 7 Team');
    const dup = await h.post('/api/v1/user-groups', oak.ownerToken, { name: 'Year 7 Team' });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('name_taken');
    const elmUser = await createUser(h, elm.ownerToken);
    const elmStudent = await createStudent(h, elm.ownerToken, { schoolId: elm.schoolId });
    const elmGroups = await schoolDefaults(h, elm.ownerToken, elm.schoolId);
    const t = oak.ownerToken;
    for (const reply of [
      await h.post(`/api/v1/user-groups/${groupId}/members`, t, { userIds: [elmUser.id] }),
      await h.post(`/api/v1/user-groups/${groupId}/student-links`, t, { studentId: elmStudent }),
      await h.post(`/api/v1/user-groups/${groupId}/student-links`, t, {
        studentGroupId: elmGroups.allStudentsId,
      }),
      await h.get(`/api/v1/user-groups/${elmGroups.safeguardingTeamId}`, t),
      await h.post(`/api/v1/user-groups/${elmGroups.safeguardingTeamId}/members`, t, {
        userIds: [oak.ownerId],
      }),
      await h.post('/api/v1/role-grants', t, {
        subject: { type: 'user_group', id: elmGroups.safeguardingTeamId },
        role: 'viewer',
        scope: { type: 'organisation', id: oak.organisationId },
      }),
      await h.get(`/api/v1/student-groups/${elmGroups.allStudentsId}`, t),
      await h.post('/api/v1/blocks', t, { userId: elmUser.id, studentId: elmStudent, reason: 'x' }),
      await h.post(`/api/v1/users/${elmUser.id}/student-links`, t, { studentId: elmStudent }),
      await h.get(`/api/v1/students/${elmStudent}`, t),
      await h.get('/api/v1/access/explain', t, { userId: elmUser.id, studentId: elmStudent }),
      await h.get(`/api/v1/users/${elmUser.id}/effective-permissions`, t),
    ]) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(404);
    }
    expect((await h.get(`/api/v1/user-groups/${groupId}`, t)).body).toMatchObject({
      memberCount: 0,
      studentLinks: [],
    });
    expect(
      JSON.stringify((await h.get('/api/v1/user-groups', t, { limit: 200 })).body),
    ).not.toContain('Elm');
  });

  it('only a holder of a clearance, or an Owner, passes it on (anti-escalation rule 3)', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const admin = await createUser(h, t, { role: 'admin', organisationId: org.organisationId });
    const teacher = await createUser(h, t);
    const join = await h.post(`/api/v1/user-groups/${safeguardingTeamId}/members`, admin.token, {
      userIds: [admin.id],
    });
    expect(join.status).toBe(403);
    expect(join.body.requiredClearance).toBe('child_protection');
    const other = await createUserGroup(h, t, 'Pastoral leads');
    const grantClearance = await h.put(`/api/v1/user-groups/${other}/clearances`, admin.token, {
      clearances: ['child_protection'],
    });
    expect(grantClearance.status).toBe(403);
    const allegations = await h.put(`/api/v1/user-groups/${other}/clearances`, t, {
      clearances: ['allegations'],
    });
    expect(allegations.status).toBe(200);
    // A DSL in the Safeguarding Team holds child_protection and may pass it on, but not allegations.
    const dsl = await createUser(h, t, { role: 'dsl', organisationId: org.organisationId });
    await addMembers(h, t, safeguardingTeamId, [dsl.id]);
    expect(
      (
        await h.post(`/api/v1/user-groups/${safeguardingTeamId}/members`, dsl.token, {
          userIds: [teacher.id],
        })
      ).status,
    ).toBe(200);
    const third = await createUserGroup(h, t, 'Heads of year');
    expect(
      (
        await h.put(`/api/v1/user-groups/${third}/clearances`, dsl.token, {
          clearances: ['child_protection'],
        })
      ).status,
    ).toBe(200);
    const dropAllegations = await h.put(`/api/v1/user-groups/${other}/clearances`, dsl.token, {
      clearances: [],
    });
    expect(dropAllegations.status).toBe(403);
    expect(dropAllegations.body.requiredClearance).toBe('allegations');
    expect((await h.get(`/api/v1/user-groups/${other}`, t)).body.clearances).toEqual([
      'allegations',
    ]);
    const detail = await h.get(`/api/v1/user-groups/${safeguardingTeamId}`, admin.token);
    expect(detail.body.abilities).toMatchObject({
      manageMembers: false,
      manageClearances: false,
      edit: true,
    });
  });

  it('changing the members of a group that holds Owner takes an Owner (rules 1 and 4)', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const governors = await createUserGroup(h, t, 'Trust board');
    await grantRole(h, t, { type: 'user_group', id: governors }, 'owner', {
      type: 'organisation',
      id: org.organisationId,
    });
    const admin = await createUser(h, t, { role: 'admin', organisationId: org.organisationId });
    const adminIn = await h.post(`/api/v1/user-groups/${governors}/members`, admin.token, {
      userIds: [admin.id],
    });
    expect(adminIn.status).toBe(403);
    expect(adminIn.body.requiredRole).toBe('owner');
    const trustee = await createUser(h, t);
    await addMembers(h, t, governors, [trustee.id]);
    const trusteeToken = await login(h, trustee.email);
    // The trustee is an Owner through the group and retires the first Owner's direct grant.
    const direct = (await h.get('/api/v1/role-grants', t, { userId: org.ownerId })).body.items[0]
      .id;
    expect((await h.delete(`/api/v1/role-grants/${direct}`, trusteeToken)).status).toBe(204);
    const lastOut = await h.delete(
      `/api/v1/user-groups/${governors}/members/${trustee.id}`,
      trusteeToken,
    );
    expect(lastOut.status).toBe(409);
    expect(lastOut.body.code).toBe('last_owner');
    const dissolve = await h.delete(`/api/v1/user-groups/${governors}`, trusteeToken);
    expect(dissolve.status).toBe(409);
  });

  it('lets owners manage members of their group, but not links; others cannot even see it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const leader = await createUser(h, t, { role: 'viewer', organisationId: org.organisationId });
    const outsider = await createUser(h, t, { role: 'viewer', organisationId: org.organisationId });
    const tutor = await createUser(h, t);
    const team = await createUserGroup(h, t, 'Year 10 Tutors');
    const year10 = await createStudentGroup(h, t, {
      name: 'Year 10',
      schoolId: org.schoolId,
      kind: 'rule',
      rule: { field: 'yearGroup', op: 'eq', value: 10 },
    });
    await h.post(`/api/v1/user-groups/${team}/owners`, t, { userIds: [leader.id] });
    expect((await h.get(`/api/v1/user-groups/${team}`, outsider.token)).status).toBe(404);
    expect(
      (await h.post(`/api/v1/user-groups/${team}/members`, outsider.token, { userIds: [tutor.id] }))
        .status,
    ).toBe(404);
    expect((await h.get('/api/v1/user-groups', outsider.token)).body.items).toEqual([]);
    const mine = await h.get(`/api/v1/user-groups/${team}`, leader.token);
    expect(mine.body.abilities).toMatchObject({
      edit: true,
      manageMembers: true,
      manageLinks: false,
    });
    expect(
      (await h.post(`/api/v1/user-groups/${team}/members`, leader.token, { userIds: [tutor.id] }))
        .status,
    ).toBe(200);
    const link = await h.post(`/api/v1/user-groups/${team}/student-links`, leader.token, {
      studentGroupId: year10,
    });
    expect(link.status).toBe(403);
    expect(link.body.requiredRole).toBe('admin');
    expect(
      (await h.get('/api/v1/user-groups', leader.token)).body.items.map((g: any) => g.id),
    ).toEqual([team]);
  });

  it('deleting a group ends the access it gave at once', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const child = await createStudent(h, t, { schoolId: org.schoolId, yearGroup: 6 });
    const staff = await createUser(h, t, { role: 'viewer', organisationId: org.organisationId });
    const team = await createUserGroup(h, t, 'Year 6 Team');
    await linkGroup(h, t, team, { studentId: child });
    await addMembers(h, t, team, [staff.id]);
    expect(await visibleIds(h, staff.token!)).toEqual([child]);
    expect((await h.delete(`/api/v1/user-groups/${team}`, t)).status).toBe(204);
    expect(await visibleIds(h, staff.token!)).toEqual([]);
    expect((await h.get(`/api/v1/user-groups/${team}`, t)).status).toBe(404);
  });

  it('lists and searches members, page by page', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const team = await createUserGroup(h, t, 'Everyone');
    const ids = [];
    for (const name of ['Ann Able', 'Bob Baker', 'Cat Carter', 'Dan Dyer', 'Eve Evans'])
      ids.push((await createUser(h, t, { name })).id);
    await addMembers(h, t, team, ids);
    const first = await h.get(`/api/v1/user-groups/${team}/members`, t, { limit: 2 });
    expect(first.body.items.map((m: any) => m.name)).toEqual(['Ann Able', 'Bob Baker']);
    const second = await h.get(`/api/v1/user-groups/${team}/members`, t, {
      limit: 2,
      cursor: first.body.nextCursor,
    });
    expect(second.body.items.map((m: any) => m.name)).toEqual(['Cat Carter', 'Dan Dyer']);
    const search = await h.get(`/api/v1/user-groups/${team}/members`, t, { q: 'eva' });
    expect(search.body.items.map((m: any) => m.name)).toEqual(['Eve Evans']);
  });

  it('lists a group of thousands in name order without sorting all of it, and searches it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'haven-members-'));
    // 6,000 staff, of whom every one but "Aaron Outside" joins the group: a large group is
    // read by walking staff in name order, so non-members and removed staff must be skipped.
    const rows = Array.from({ length: 6000 }, (_, i) => {
      const n = String(i).padStart(4, '0');
      return `staff${n}@school.test,Staff ${n}`;
    });
    fs.writeFileSync(
      `${dir}/users.csv`,
      `email,name\n${rows.join('\n')}\naaron@school.test,Aaron Outside\n`,
    );
    fs.writeFileSync(
      `${dir}/members.csv`,
      `email\n${rows.map((r) => r.split(',')[0]).join('\n')}\n`,
    );
    const cli = (args: string[]) => runHaven(h, [...args, '--org', org.organisationId]);
    expect((await cli(['users', 'import', '--file', `${dir}/users.csv`])).code).toBe(0);
    const group = (await cli(['user-groups', 'create', '--name', 'All staff'])).out.trim();
    const added = await cli([
      'user-groups',
      'add-members',
      '--group',
      group,
      '--file',
      `${dir}/members.csv`,
    ]);
    expect(added.code).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
    const removed = (await h.get('/api/v1/users', t, { q: 'staff0001@' })).body.items[0];
    expect((await h.delete(`/api/v1/users/${removed.id}`, t)).status).toBe(204);

    const names = (reply: { body: { items: { name: string }[] } }) =>
      reply.body.items.map((m) => m.name);
    const first = await h.get(`/api/v1/user-groups/${group}/members`, t, { limit: 3 });
    expect(names(first)).toEqual(['Staff 0000', 'Staff 0002', 'Staff 0003']);
    const next = await h.get(`/api/v1/user-groups/${group}/members`, t, {
      limit: 3,
      cursor: first.body.nextCursor,
    });
    expect(names(next)).toEqual(['Staff 0004', 'Staff 0005', 'Staff 0006']);
    const search = await h.get(`/api/v1/user-groups/${group}/members`, t, { q: '5999' });
    expect(names(search)).toEqual(['Staff 5999']);
    const outsider = await h.get(`/api/v1/user-groups/${group}/members`, t, { q: 'aaron' });
    expect(names(outsider)).toEqual([]);
  });
});

describe('administration has a home (spec section 5)', () => {
  const haven = useHaven();

  /** A trust with two schools, an Admin at each, and a group homed at Birch with a member. */
  async function twoSchools(h: TestHaven) {
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const oakAdmin = await createUser(h, t, {
      name: 'Oak Admin',
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const birchAdmin = await createUser(h, t, {
      name: 'Birch Admin',
      role: 'admin',
      scope: { type: 'school', id: birch },
    });
    const birchGroup = await createUserGroup(h, t, 'Birch pastoral', {
      homeScope: { type: 'school', id: birch },
    });
    const member = await createUser(h, t, { name: 'Birch Tutor' });
    await addMembers(h, t, birchGroup, [member.id]);
    const year9 = await createStudentGroup(h, t, {
      name: 'Birch Year 9',
      schoolId: birch,
      kind: 'rule',
      rule: { field: 'yearGroup', op: 'eq', value: 9 },
    });
    const linkId = await linkGroup(h, t, birchGroup, { studentGroupId: year9 });
    const grantId = await grantRole(h, t, { type: 'user_group', id: birchGroup }, 'viewer', {
      type: 'school',
      id: birch,
    });
    return { org, birch, oakAdmin, birchAdmin, birchGroup, member, year9, linkId, grantId };
  }

  it("a school's Admin gets 404 for another school's group on every read and edit", async () => {
    const h = haven();
    const w = await twoSchools(h);
    const t = w.oakAdmin.token!;
    const g = `/api/v1/user-groups/${w.birchGroup}`;
    const oakStudent = await createStudent(h, w.org.ownerToken, { schoolId: w.org.schoolId });
    const outsider = await createUser(h, w.org.ownerToken);
    const before = await groupState(h, w.org.ownerToken, w.birchGroup);
    const auditBefore = await countRows(h, 'audit_events');
    const attempts: [string, () => Promise<{ status: number; body: any }>][] = [
      ['read', () => h.get(g, t)],
      ['members', () => h.get(`${g}/members`, t)],
      ['add member', () => h.post(`${g}/members`, t, { userIds: [outsider.id] })],
      ['remove member', () => h.delete(`${g}/members/${w.member.id}`, t)],
      ['rename', () => h.patch(g, t, { name: 'Taken over' })],
      ['add owner', () => h.post(`${g}/owners`, t, { userIds: [w.oakAdmin.id] })],
      ['remove owner', () => h.delete(`${g}/owners/${w.member.id}`, t)],
      ['link', () => h.post(`${g}/student-links`, t, { studentId: oakStudent })],
      ['unlink', () => h.delete(`${g}/student-links/${w.linkId}`, t)],
      ['clearances', () => h.put(`${g}/clearances`, t, { clearances: [] })],
      [
        'batch',
        () =>
          h.post(`${g}/batch`, t, {
            operations: [{ op: 'removeMembers', userIds: [w.member.id] }],
          }),
      ],
      ['delete', () => h.delete(g, t)],
      [
        'grant a role to it',
        () =>
          h.post('/api/v1/role-grants', t, {
            subject: { type: 'user_group', id: w.birchGroup },
            role: 'viewer',
            scope: { type: 'school', id: w.org.schoolId },
          }),
      ],
      ['revoke its role', () => h.delete(`/api/v1/role-grants/${w.grantId}`, t)],
      ['list its roles', () => h.get('/api/v1/role-grants', t, { userGroupId: w.birchGroup })],
      [
        'preview new members',
        () =>
          h.post('/api/v1/access/widening-preview', t, {
            kind: 'group_members',
            userGroupId: w.birchGroup,
            userIds: [outsider.id],
          }),
      ],
      [
        'preview a link',
        () =>
          h.post('/api/v1/access/widening-preview', t, {
            kind: 'student_link',
            userGroupId: w.birchGroup,
            studentId: oakStudent,
          }),
      ],
      [
        'preview a batch',
        () =>
          h.post('/api/v1/access/widening-preview', t, {
            kind: 'user_group_batch',
            userGroupId: w.birchGroup,
            operations: [{ op: 'addMembers', userIds: [outsider.id] }],
          }),
      ],
    ];
    for (const [what, attempt] of attempts) {
      const reply = await attempt();
      expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(404);
      expect(JSON.stringify(reply.body), what).not.toContain('Birch pastoral');
    }
    expect(await groupState(h, w.org.ownerToken, w.birchGroup)).toEqual(before);
    // Nothing was changed, and a 404 is not a refusal worth a row: the group is not there for them.
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);
    const grants = await h.get('/api/v1/role-grants', t);
    expect(grants.body.items.map((g: any) => g.id)).not.toContain(w.grantId);
  });

  it("lists only the groups homed at the Admin's schools, the ones they own and the ones they are in", async () => {
    const h = haven();
    const w = await twoSchools(h);
    const t = w.org.ownerToken;
    const trustWide = await createUserGroup(h, t, 'Trust heads of year');
    const oakGroup = await createUserGroup(h, w.oakAdmin.token!, 'Oak pastoral');
    const names = async (token: string) =>
      (await h.get('/api/v1/user-groups', token, { limit: 200 })).body.items
        .map((g: any) => g.name)
        .sort();
    // Each school's own groups (its Safeguarding Team and Allegations group) are homed there.
    expect(await names(w.oakAdmin.token!)).toEqual([
      'Allegations (Oak Primary)',
      'Oak pastoral',
      'Safeguarding Team (Oak Primary)',
    ]);
    expect(await names(w.birchAdmin.token!)).toEqual([
      'Allegations (Birch Academy)',
      'Birch pastoral',
      'Safeguarding Team (Birch Academy)',
    ]);
    expect(await names(t)).toEqual([
      'Allegations (Birch Academy)',
      'Allegations (Oak Primary)',
      'Birch pastoral',
      'Oak pastoral',
      'Safeguarding Team (Birch Academy)',
      'Safeguarding Team (Oak Primary)',
      'Trust heads of year',
    ]);
    // Belonging to a group, or owning it, shows it wherever it is homed.
    await addMembers(h, t, trustWide, [w.oakAdmin.id]);
    await h.post(`/api/v1/user-groups/${w.birchGroup}/owners`, t, { userIds: [w.oakAdmin.id] });
    expect(await names(w.oakAdmin.token!)).toEqual([
      'Allegations (Oak Primary)',
      'Birch pastoral',
      'Oak pastoral',
      'Safeguarding Team (Oak Primary)',
      'Trust heads of year',
    ]);
    const inIt = await h.get(`/api/v1/user-groups/${trustWide}`, w.oakAdmin.token);
    expect(inIt.status).toBe(200);
    // A member holds the Members set: view, and nothing else, by default (spec section 5).
    expect(inIt.body.abilities).toEqual({
      view: true,
      viewMembers: false,
      edit: false,
      editDetails: false,
      delete: false,
      manageMembers: false,
      manageOwners: false,
      managePermissionSets: false,
      manageLinks: false,
      manageClearances: false,
      manageRoles: false,
    });
    expect((await h.get(`/api/v1/user-groups/${trustWide}/members`, w.oakAdmin.token)).status).toBe(
      403,
    );
    expect(
      (await h.patch(`/api/v1/user-groups/${trustWide}`, w.oakAdmin.token, { name: 'Mine now' }))
        .status,
    ).toBe(403);
    expect((await h.get(`/api/v1/user-groups/${oakGroup}`, w.birchAdmin.token)).status).toBe(404);
  });

  it('an Admin at the organisation manages groups homed anywhere; a school Admin those of their school', async () => {
    const h = haven();
    const w = await twoSchools(h);
    const trustAdmin = await createUser(h, w.org.ownerToken, {
      role: 'admin',
      organisationId: w.org.organisationId,
    });
    const newcomer = await createUser(h, w.org.ownerToken);
    for (const token of [trustAdmin.token!, w.birchAdmin.token!]) {
      const g = `/api/v1/user-groups/${w.birchGroup}`;
      const group = await h.get(g, token);
      expect(group.status).toBe(200);
      expect(group.body.homeScope).toEqual({ type: 'school', id: w.birch, name: 'Birch Academy' });
      expect(group.body.abilities).toMatchObject({
        edit: true,
        manageMembers: true,
        manageLinks: true,
        manageRoles: true,
      });
      expect((await h.post(`${g}/members`, token, { userIds: [newcomer.id] })).status).toBe(200);
      expect((await h.delete(`${g}/members/${newcomer.id}`, token)).status).toBe(204);
    }
    // Grants to the group: the Birch Admin grants at Birch, not at Oak (rule 2).
    const atBirch = await h.post('/api/v1/role-grants', w.birchAdmin.token, {
      subject: { type: 'user_group', id: w.birchGroup },
      role: 'deputy_dsl',
      scope: { type: 'school', id: w.birch },
    });
    expect(atBirch.status).toBe(201);
    const atOak = await h.post('/api/v1/role-grants', w.birchAdmin.token, {
      subject: { type: 'user_group', id: w.birchGroup },
      role: 'viewer',
      scope: { type: 'school', id: w.org.schoolId },
    });
    expect(atOak.status).toBe(403);
    expect(
      (await h.delete(`/api/v1/role-grants/${atBirch.body.id}`, w.birchAdmin.token)).status,
    ).toBe(204);
    // The trust's groups are the trust Admin's alone.
    const trustWide = await createUserGroup(h, trustAdmin.token!, 'Trust DSL network');
    const created = await h.get(`/api/v1/user-groups/${trustWide}`, trustAdmin.token);
    expect(created.body.homeScope).toMatchObject({
      type: 'organisation',
      id: w.org.organisationId,
    });
    expect((await h.get(`/api/v1/user-groups/${trustWide}`, w.birchAdmin.token)).status).toBe(404);
    expect((await h.delete(`/api/v1/user-groups/${w.birchGroup}`, w.birchAdmin.token)).status).toBe(
      204,
    );
  });

  it('a group is homed where it is created: a sensible default, and only where the caller is Admin', async () => {
    const h = haven();
    const w = await twoSchools(h);
    const home = async (token: string, id: string) =>
      (await h.get(`/api/v1/user-groups/${id}`, token)).body.homeScope;
    // A school Admin's groups default to their school; an organisation Admin's to the organisation.
    const oakGroup = await createUserGroup(h, w.oakAdmin.token!, 'Oak Year 7');
    expect(await home(w.oakAdmin.token!, oakGroup)).toMatchObject({
      type: 'school',
      id: w.org.schoolId,
    });
    const trustGroup = await createUserGroup(h, w.org.ownerToken, 'Trust Year 7');
    expect(await home(w.org.ownerToken, trustGroup)).toMatchObject({
      type: 'organisation',
      id: w.org.organisationId,
    });
    // Admin at two schools and nowhere above them: the caller must say which.
    const both = await createUser(h, w.org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: w.org.schoolId },
    });
    await grantRole(h, w.org.ownerToken, { type: 'user', id: both.id }, 'admin', {
      type: 'school',
      id: w.birch,
    });
    const unsaid = await h.post('/api/v1/user-groups', both.token, { name: 'Shared tutors' });
    expect(unsaid.status).toBe(400);
    expect(unsaid.body.errors[0].field).toBe('homeScope');
    const homes = await h.get('/api/v1/user-groups/homes', both.token);
    expect(homes.status).toBe(200);
    expect(homes.body.items.map((s: any) => s.name).sort()).toEqual([
      'Birch Academy',
      'Oak Primary',
    ]);
    const said = await h.post('/api/v1/user-groups', both.token, {
      name: 'Shared tutors',
      homeScope: { type: 'school', id: w.birch },
    });
    expect(said.status).toBe(201);
    expect(said.body.homeScope).toMatchObject({ type: 'school', id: w.birch });
    // Nowhere the caller is not Admin: another school, the organisation, a scope that is not there.
    for (const homeScope of [
      { type: 'school', id: w.birch },
      { type: 'organisation', id: w.org.organisationId },
    ]) {
      const elsewhere = await h.post('/api/v1/user-groups', w.oakAdmin.token, {
        name: `Elsewhere ${homeScope.type}`,
        homeScope,
      });
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.requiredRole).toBe('admin');
    }
    const nowhere = await h.post('/api/v1/user-groups', w.org.ownerToken, {
      name: 'Nowhere',
      homeScope: { type: 'school', id: 'no-such-school' },
    });
    expect(nowhere.status).toBe(404);
    expect((await h.get('/api/v1/user-groups/homes', w.oakAdmin.token)).body.items).toEqual([
      { type: 'school', id: w.org.schoolId, name: 'Oak Primary' },
    ]);
    // The console homes a group where it is told, at the organisation by default.
    const cli = (args: string[]) =>
      runHaven(h, ['user-groups', 'create', ...args, '--org', w.org.organisationId]);
    const fromConsole = await cli(['--name', 'Birch cover staff', '--home', `school:${w.birch}`]);
    expect(fromConsole.code, fromConsole.err).toBe(0);
    expect(await home(w.birchAdmin.token!, fromConsole.out.trim())).toMatchObject({
      type: 'school',
      id: w.birch,
    });
    const plain = await cli(['--name', 'Trust cover staff']);
    expect(await home(w.org.ownerToken, plain.out.trim())).toMatchObject({
      type: 'organisation',
    });
    expect((await cli(['--name', 'Lost', '--home', 'school:no-such-school'])).code).toBe(1);
    expect((await cli(['--name', 'Lost', '--home', 'district:1'])).code).toBe(1);
    // A new school's Safeguarding Team is homed at the school.
    const { safeguardingTeamId } = await schoolDefaults(h, w.birchAdmin.token!, w.birch);
    expect(await home(w.birchAdmin.token!, safeguardingTeamId)).toMatchObject({
      type: 'school',
      id: w.birch,
    });
  });

  it('a school-group Admin administers groups homed at the school group and its schools', async () => {
    const h = haven();
    const w = await twoSchools(h);
    const t = w.org.ownerToken;
    const cedar = await addSchool(h, t, 'Cedar School');
    const hub = (
      await h.post('/api/v1/school-groups', t, { name: 'North Hub', schoolIds: [w.birch, cedar] })
    ).body.id;
    const hubAdmin = await createUser(h, t, {
      role: 'admin',
      scope: { type: 'school_group', id: hub },
    });
    const hubGroup = await createUserGroup(h, hubAdmin.token!, 'Hub leads');
    const created = await h.get(`/api/v1/user-groups/${hubGroup}`, hubAdmin.token);
    expect(created.body.homeScope).toMatchObject({ type: 'school_group', id: hub });
    const names = (await h.get('/api/v1/user-groups', hubAdmin.token, { limit: 200 })).body.items
      .map((g: any) => g.name)
      .sort();
    expect(names).toEqual([
      'Allegations (Birch Academy)',
      'Allegations (Cedar School)',
      'Birch pastoral',
      'Hub leads',
      'Safeguarding Team (Birch Academy)',
      'Safeguarding Team (Cedar School)',
    ]);
    // A school's Admin does not administer the hub's groups, though their school is in it.
    expect((await h.get(`/api/v1/user-groups/${hubGroup}`, w.birchAdmin.token)).status).toBe(404);
  });

  it('owners administer their own group, within the anti-escalation rules, wherever it is homed', async () => {
    const h = haven();
    const w = await twoSchools(h);
    const t = w.org.ownerToken;
    const leader = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: w.org.schoolId },
    });
    const tutor = await createUser(h, t);
    const club = await createUserGroup(h, t, 'Birch homework club', {
      homeScope: { type: 'school', id: w.birch },
    });
    await h.post(`/api/v1/user-groups/${club}/owners`, t, { userIds: [leader.id] });
    const mine = await h.get(`/api/v1/user-groups/${club}`, leader.token);
    expect(mine.status).toBe(200);
    expect(mine.body.abilities).toMatchObject({
      edit: true,
      manageMembers: true,
      manageOwners: true,
      manageLinks: false,
      manageClearances: false,
      manageRoles: false,
    });
    expect(
      (await h.post(`/api/v1/user-groups/${club}/members`, leader.token, { userIds: [tutor.id] }))
        .status,
    ).toBe(200);
    // The owner of Birch pastoral (which holds Viewer at Birch) may not pass on a role they cannot grant.
    await h.post(`/api/v1/user-groups/${w.birchGroup}/owners`, t, { userIds: [leader.id] });
    const passOn = await h.post(`/api/v1/user-groups/${w.birchGroup}/members`, leader.token, {
      userIds: [tutor.id],
    });
    expect(passOn.status).toBe(403);
    expect(passOn.body.requiredRole).toBe('admin');
  });
});
