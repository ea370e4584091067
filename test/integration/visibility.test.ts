import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  blockStudent,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  linkGroup,
  schoolDefaults,
  setupOrganisation,
  visibleIds,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

const sorted = (ids: string[]) => [...ids].sort();

/** A school with Year 7 to Year 10 students, some with SEN support. */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h);
  const t = org.ownerToken;
  const s = (yearGroup: number, senStatus: 'none' | 'K' | 'E' = 'none', familyName?: string) =>
    createStudent(h, t, {
      schoolId: org.schoolId,
      yearGroup,
      senStatus,
      ...(familyName ? { familyName } : {}),
    });
  const students = {
    y9a: await s(9, 'none', 'Adams'),
    y9sen: await s(9, 'K', 'Baker'),
    y7sen: await s(7, 'E', 'Clark'),
    y8: await s(8, 'none', 'Davies'),
    y10sen: await s(10, 'K', 'Evans'),
    y10: await s(10, 'none', 'Foster'),
  };
  const defaults = await schoolDefaults(h, t, org.schoolId);
  return { org, students, ...defaults };
}

describe('need-to-know visibility (the seed examples)', () => {
  const haven = useHaven();

  it('a new school has its All students group and a Safeguarding Team holding child_protection', async () => {
    const h = haven();
    const { org, students, safeguardingTeamId, allStudentsId } = await school(h);
    const team = await h.get(`/api/v1/user-groups/${safeguardingTeamId}`, org.ownerToken);
    expect(team.body).toMatchObject({
      memberCount: 1,
      clearances: ['child_protection'],
      system: true,
    });
    expect(team.body.studentLinks).toEqual([
      expect.objectContaining({
        studentGroup: expect.objectContaining({ id: allStudentsId, kind: 'all', size: 6 }),
      }),
      expect.objectContaining({
        studentGroup: expect.objectContaining({
          name: 'Former students (Oak Primary)',
          kind: 'rule',
          size: 0,
        }),
      }),
    ]);
    // The Owner is in the team, so sees every child of the school.
    expect(sorted(await visibleIds(h, org.ownerToken))).toEqual(sorted(Object.values(students)));
  });

  it('a member of three groups sees what each adds: Year 9 pastoral, SEN in key stage 3, Safeguarding Team', async () => {
    const h = haven();
    const { org, students, safeguardingTeamId } = await school(h);
    const t = org.ownerToken;
    const year9 = await createStudentGroup(h, t, {
      name: 'Year 9 Students',
      schoolId: org.schoolId,
      kind: 'rule',
      rule: { field: 'yearGroup', op: 'eq', value: 9 },
    });
    const senKs3 = await createStudentGroup(h, t, {
      name: 'SEN Support - KS3',
      schoolId: org.schoolId,
      kind: 'rule',
      rule: {
        all: [
          { field: 'senStatus', op: 'in', value: ['K', 'E'] },
          { field: 'yearGroup', op: 'between', value: [7, 9] },
        ],
      },
    });
    const pastoral = await createUserGroup(h, t, 'Year 9 Pastoral Team');
    const sen = await createUserGroup(h, t, 'SEN Team');
    await linkGroup(h, t, pastoral, { studentGroupId: year9 });
    await linkGroup(h, t, sen, { studentGroupId: senKs3 });
    const staff = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });

    await addMembers(h, t, pastoral, [staff.id]);
    expect(sorted(await visibleIds(h, staff.token!))).toEqual(
      sorted([students.y9a, students.y9sen]),
    );

    await addMembers(h, t, sen, [staff.id]);
    expect(sorted(await visibleIds(h, staff.token!))).toEqual(
      sorted([students.y9a, students.y9sen, students.y7sen]),
    );

    await addMembers(h, t, safeguardingTeamId, [staff.id]);
    expect(sorted(await visibleIds(h, staff.token!))).toEqual(sorted(Object.values(students)));

    const explain = await h.get('/api/v1/access/explain', t, {
      userId: staff.id,
      studentId: students.y9sen,
    });
    expect(explain.body.allowed).toBe(true);
    expect(explain.body.paths.map((p: any) => p.summary).sort()).toEqual([
      'member of SEN Team -> linked to SEN Support - KS3 (rule: SEN status in K, E and year group between 7 and 9)',
      `member of Safeguarding Team (Oak Primary) -> linked to All students (Oak Primary) (all students)`,
      'member of Year 9 Pastoral Team -> linked to Year 9 Students (rule: year group = 9)',
    ]);
    const onlyTeam = await h.get('/api/v1/access/explain', t, {
      userId: staff.id,
      studentId: students.y10,
    });
    expect(onlyTeam.body.paths).toHaveLength(1);
    expect(onlyTeam.body.paths[0].userGroup.id).toBe(safeguardingTeamId);

    const effective = await h.get(`/api/v1/users/${staff.id}/effective-permissions`, t);
    expect(effective.status).toBe(200);
    const counts = Object.fromEntries(
      effective.body.paths.map((p: any) => [
        `${p.userGroup.name} -> ${p.studentGroup.name}`,
        p.students,
      ]),
    );
    expect(counts).toEqual({
      'Year 9 Pastoral Team -> Year 9 Students': 2,
      'SEN Team -> SEN Support - KS3': 2,
      'Safeguarding Team (Oak Primary) -> All students (Oak Primary)': 6,
      'Safeguarding Team (Oak Primary) -> Former students (Oak Primary)': 0,
    });
    expect(effective.body.clearances).toEqual([
      expect.objectContaining({
        clearance: 'child_protection',
        source: expect.objectContaining({ userGroupId: safeguardingTeamId }),
      }),
    ]);
    expect(effective.body.visibleStudents).toBe(6);
    expect(effective.body.roles).toEqual([
      expect.objectContaining({ role: 'viewer', source: { type: 'direct' } }),
    ]);
  });

  it('an external partner sees only the students linked to them', async () => {
    const h = haven();
    const { org, students } = await school(h);
    const t = org.ownerToken;
    const partner = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    for (const studentId of [students.y9a, students.y10]) {
      expect(
        (await h.post(`/api/v1/users/${partner.id}/student-links`, t, { studentId })).status,
      ).toBe(201);
    }
    const p = partner.token!;
    expect(sorted(await visibleIds(h, p))).toEqual(sorted([students.y9a, students.y10]));
    expect((await h.get('/api/v1/students/count', p)).body.count).toBe(2);
    expect((await h.get('/api/v1/students', p, { q: 'Baker' })).body.items).toEqual([]);
    expect(
      (await h.get('/api/v1/students', p, { q: 'Adams' })).body.items.map((s: any) => s.id),
    ).toEqual([students.y9a]);
    expect((await h.get(`/api/v1/students/${students.y9sen}`, p)).status).toBe(404);
    expect((await h.get(`/api/v1/students/${students.y9a}`, p)).status).toBe(200);
    const csv = await h.get('/api/v1/students/export', p);
    expect(csv.status).toBe(200);
    expect(String(csv.body).trim().split('\n')).toHaveLength(3);
    const explain = await h.get('/api/v1/access/explain', p, {
      userId: partner.id,
      studentId: students.y10,
    });
    expect(explain.body.paths).toEqual([
      expect.objectContaining({
        kind: 'user_to_student',
        summary: 'linked to this student directly',
      }),
    ]);
  });

  it('a blocked child stays invisible to that person even through an All students link', async () => {
    const h = haven();
    const { org, students, safeguardingTeamId, allStudentsId } = await school(h);
    const t = org.ownerToken;
    const parent = await createUser(h, t, {
      name: 'Pat Parent',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await addMembers(h, t, safeguardingTeamId, [parent.id]);
    await blockStudent(h, t, parent.id, students.y8, 'parent of the child');
    const p = parent.token!;
    const seen = await visibleIds(h, p);
    expect(seen).not.toContain(students.y8);
    expect(seen).toHaveLength(5);
    expect((await h.get('/api/v1/students', p, { q: 'Davies' })).body.items).toEqual([]);
    expect((await h.get('/api/v1/students/count', p)).body.count).toBe(5);
    expect((await h.get('/api/v1/students/count', p, { q: 'Davies' })).body.count).toBe(0);
    expect((await h.get(`/api/v1/students/${students.y8}`, p)).status).toBe(404);
    expect(String((await h.get('/api/v1/students/export', p)).body)).not.toContain('Davies');
    const members = await h.get(`/api/v1/student-groups/${allStudentsId}/students`, p);
    expect(members.body.items.map((s: any) => s.id)).not.toContain(students.y8);
    // Their own explain cannot even name the child; the Owner's explain shows the block.
    expect(
      (await h.get('/api/v1/access/explain', p, { userId: parent.id, studentId: students.y8 }))
        .status,
    ).toBe(404);
    const explain = await h.get('/api/v1/access/explain', t, {
      userId: parent.id,
      studentId: students.y8,
    });
    expect(explain.body.allowed).toBe(false);
    expect(explain.body.paths).toHaveLength(1);
    expect(explain.body.denials).toEqual([
      expect.objectContaining({
        kind: 'block',
        summary: expect.stringMatching(
          /^blocked by Olive Owner on \d{4}-\d\d-\d\d: parent of the child$/,
        ),
      }),
    ]);
    const who = await h.get(`/api/v1/students/${students.y8}/access`, t);
    expect(who.body.items.map((i: any) => i.user.id)).not.toContain(parent.id);
    expect(who.body.items.map((i: any) => i.user.id)).toContain(org.ownerId);
    const self = await h.get(`/api/v1/users/${parent.id}/effective-permissions`, p);
    expect(self.body.blocks).toEqual([]);
    expect(self.body.hiddenBlocks).toBe(1);
    expect(JSON.stringify(self.body)).not.toContain(students.y8);
  });

  it('a role granted at a school group covers every school in it and no other', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const cedar = await addSchool(h, t, 'Cedar School');
    const hub = (
      await h.post('/api/v1/school-groups', t, {
        name: 'North Hub',
        schoolIds: [org.schoolId, birch],
      })
    ).body.id;
    const oakChild = await createStudent(h, t, { schoolId: org.schoolId, yearGroup: 5 });
    const birchChild = await createStudent(h, t, { schoolId: birch, yearGroup: 5 });
    const cedarChild = await createStudent(h, t, { schoolId: cedar, yearGroup: 5 });
    const everyone = await createStudentGroup(h, t, {
      name: 'Whole trust',
      schoolId: null,
      kind: 'all',
    });
    const central = await createUserGroup(h, t, 'Hub pastoral team');
    await linkGroup(h, t, central, { studentGroupId: everyone });
    const hubStaff = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school_group', id: hub },
    });
    await addMembers(h, t, central, [hubStaff.id]);
    expect(sorted(await visibleIds(h, hubStaff.token!))).toEqual(sorted([oakChild, birchChild]));
    const explain = await h.get('/api/v1/access/explain', t, {
      userId: hubStaff.id,
      studentId: cedarChild,
    });
    expect(explain.body.allowed).toBe(false);
    expect(explain.body.denials).toEqual([
      expect.objectContaining({ kind: 'no_role', summary: 'holds no role at Cedar School' }),
    ]);
  });

  it('leaving a group revokes on the very next request', async () => {
    const h = haven();
    const { org, students, safeguardingTeamId } = await school(h);
    const t = org.ownerToken;
    const staff = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await addMembers(h, t, safeguardingTeamId, [staff.id]);
    expect((await h.get(`/api/v1/students/${students.y10}`, staff.token)).status).toBe(200);
    expect(
      (await h.delete(`/api/v1/user-groups/${safeguardingTeamId}/members/${staff.id}`, t)).status,
    ).toBe(204);
    expect((await h.get(`/api/v1/students/${students.y10}`, staff.token)).status).toBe(404);
    expect(await visibleIds(h, staff.token!)).toEqual([]);
    expect((await h.get('/api/v1/students/count', staff.token)).body.count).toBe(0);
  });

  it('answers as of a past time after access changed', async () => {
    const h = haven();
    const { org, students, safeguardingTeamId } = await school(h);
    const t = org.ownerToken;
    const staff = await createUser(h, t, {
      name: 'Sam Staff',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await addMembers(h, t, safeguardingTeamId, [staff.id]);
    await new Promise((r) => setTimeout(r, 5));
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await h.delete(`/api/v1/user-groups/${safeguardingTeamId}/members/${staff.id}`, t);
    await blockStudent(h, t, staff.id, students.y9a, 'relative');

    const now = await h.get('/api/v1/access/explain', t, {
      userId: staff.id,
      studentId: students.y9a,
    });
    expect(now.body.allowed).toBe(false);
    expect(now.body.paths).toEqual([]);
    const then = await h.get('/api/v1/access/explain', t, {
      userId: staff.id,
      studentId: students.y9a,
      asOf: before,
    });
    expect(then.body).toMatchObject({ allowed: true, asOf: before, denials: [] });
    expect(then.body.paths).toHaveLength(1);

    const whoThen = await h.get(`/api/v1/students/${students.y9a}/access`, t, { asOf: before });
    expect(whoThen.body.items.map((i: any) => i.user.name)).toEqual(['Olive Owner', 'Sam Staff']);
    const whoNow = await h.get(`/api/v1/students/${students.y9a}/access`, t);
    expect(whoNow.body.items.map((i: any) => i.user.name)).toEqual(['Olive Owner']);

    const effectiveThen = await h.get(`/api/v1/users/${staff.id}/effective-permissions`, t, {
      asOf: before,
    });
    expect(effectiveThen.body.visibleStudents).toBe(6);
    expect(effectiveThen.body.clearances).toHaveLength(1);
    const effectiveNow = await h.get(`/api/v1/users/${staff.id}/effective-permissions`, t);
    expect(effectiveNow.body.visibleStudents).toBe(0);
    expect(effectiveNow.body.clearances).toEqual([]);
    expect(effectiveNow.body.blocks).toHaveLength(1);
  });

  it('rule groups follow the students as they change, with no manual step', async () => {
    const h = haven();
    const { org, students } = await school(h);
    const t = org.ownerToken;
    const year9 = await createStudentGroup(h, t, {
      name: 'Year 9 Students',
      schoolId: org.schoolId,
      kind: 'rule',
      rule: { field: 'yearGroup', op: 'eq', value: 9 },
    });
    const team = await createUserGroup(h, t, 'Year 9 Pastoral Team');
    await linkGroup(h, t, team, { studentGroupId: year9 });
    const tutor = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await addMembers(h, t, team, [tutor.id]);
    expect(sorted(await visibleIds(h, tutor.token!))).toEqual(
      sorted([students.y9a, students.y9sen]),
    );
    await h.patch(`/api/v1/students/${students.y8}`, t, { yearGroup: 9 });
    await h.patch(`/api/v1/students/${students.y9a}`, t, { yearGroup: 10 });
    const newcomer = await createStudent(h, t, { schoolId: org.schoolId, yearGroup: 9 });
    expect(sorted(await visibleIds(h, tutor.token!))).toEqual(
      sorted([students.y8, students.y9sen, newcomer]),
    );
    await h.patch(`/api/v1/students/${students.y9sen}`, t, { onRoll: false });
    await h.delete(`/api/v1/students/${newcomer}`, t);
    expect(await visibleIds(h, tutor.token!)).toEqual([students.y8]);
    expect((await h.get(`/api/v1/student-groups/${year9}`, t)).body.memberCount).toBe(1);
    // Changing the rule moves the members at once.
    await h.patch(`/api/v1/student-groups/${year9}`, t, {
      rule: { field: 'yearGroup', op: 'in', value: [7, 10] },
    });
    expect(sorted(await visibleIds(h, tutor.token!))).toEqual(
      sorted([students.y7sen, students.y9a, students.y10sen, students.y10]),
    );
  });

  it('lists orphaned users: those in no user group', async () => {
    const h = haven();
    const { org, safeguardingTeamId } = await school(h);
    const t = org.ownerToken;
    const lonely = await createUser(h, t, { name: 'Lonely Teacher' });
    const grouped = await createUser(h, t, { name: 'Grouped Teacher' });
    await addMembers(h, t, safeguardingTeamId, [grouped.id]);
    const orphans = await h.get('/api/v1/users', t, { inGroup: 'none' });
    expect(orphans.body.items.map((u: any) => u.name)).toEqual(['Lonely Teacher']);
    const members = await h.get('/api/v1/users', t, { inGroup: safeguardingTeamId });
    expect(members.body.items.map((u: any) => u.name).sort()).toEqual([
      'Grouped Teacher',
      'Olive Owner',
    ]);
    void lonely;
  });
});
