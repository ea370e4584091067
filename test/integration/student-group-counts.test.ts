import { describe, expect, it } from 'vitest';
import {
  addMembers,
  blockStudent,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  linkGroup,
  setupOrganisation,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

const cpPlan = { field: 'flags', op: 'has', value: 'cp_plan' };

/**
 * Three children on a child-protection plan in a rule group, one more child outside it, and an
 * Admin at the school who holds the role but reaches children only through `reach`.
 */
async function world(h: TestHaven) {
  const org = await setupOrganisation(h);
  const t = org.ownerToken;
  const child = (familyName: string, flags: string[]) =>
    createStudent(h, t, { schoolId: org.schoolId, familyName, flags });
  const planned = {
    a: await child('Ashby', ['cp_plan']),
    b: await child('Brook', ['cp_plan', 'fsm']),
    c: await child('Colne', ['cp_plan']),
  };
  const other = await child('Derwent', []);
  const group = await createStudentGroup(h, t, {
    name: 'On a child-protection plan',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: cpPlan,
  });
  const admin = await createUser(h, t, {
    role: 'admin',
    scope: { type: 'school', id: org.schoolId },
  });
  const team = await createUserGroup(h, t, 'Form 9B tutors');
  await addMembers(h, t, team, [admin.id]);
  const reach = (target: { studentGroupId: string } | { studentId: string }) =>
    linkGroup(h, t, team, target);
  // A user group at the school linked to the rule group: its page shows the group's size too.
  const leads = await createUserGroup(h, t, 'Child-protection leads', {
    homeScope: { type: 'school', id: org.schoolId },
  });
  await linkGroup(h, t, leads, { studentGroupId: group });
  return { org, planned, other, group, leads, admin, adminToken: admin.token!, reach };
}

async function countsOf(h: TestHaven, token: string, w: { group: string; leads: string }) {
  const list = await h.get('/api/v1/student-groups', token);
  expect(list.status).toBe(200);
  const one = await h.get(`/api/v1/student-groups/${w.group}`, token);
  expect(one.status).toBe(200);
  const linked = await h.get(`/api/v1/user-groups/${w.leads}`, token);
  expect(linked.status).toBe(200);
  return {
    inList: list.body.items.find((g: any) => g.id === w.group)?.memberCount as number,
    one: one.body.memberCount as number,
    linked: linked.body.studentLinks.find((l: any) => l.studentGroup?.id === w.group)?.studentGroup
      .size as number,
  };
}

async function memberIds(h: TestHaven, token: string, group: string) {
  const reply = await h.get(`/api/v1/student-groups/${group}/students`, token, { limit: 200 });
  expect(reply.status).toBe(200);
  return (reply.body.items as { id: string }[]).map((s) => s.id).sort();
}

describe('student group member counts hold only the children the reader can see', () => {
  const haven = useHaven();

  it('an Admin who sees one of three members reads memberCount 1, everywhere a count is shown', async () => {
    const h = haven();
    const w = await world(h);
    expect(await countsOf(h, w.org.ownerToken, w)).toEqual({ inList: 3, one: 3, linked: 3 });

    // Before any path the Admin sees none of the three: the count says nothing of them.
    expect(await countsOf(h, w.adminToken, w)).toEqual({ inList: 0, one: 0, linked: 0 });

    await w.reach({ studentId: w.planned.a });
    expect(await countsOf(h, w.adminToken, w)).toEqual({ inList: 1, one: 1, linked: 1 });
    expect(await memberIds(h, w.adminToken, w.group)).toEqual([w.planned.a]);

    // The counts the Admin's own changes answer with, and the rule preview, count the same way.
    const renamed = await h.patch(`/api/v1/student-groups/${w.group}`, w.adminToken, {
      name: 'CP plans',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.memberCount).toBe(1);
    const again = await h.post('/api/v1/student-groups', w.adminToken, {
      name: 'CP plans again',
      schoolId: w.org.schoolId,
      kind: 'rule',
      rule: cpPlan,
    });
    expect(again.status).toBe(201);
    expect(again.body.memberCount).toBe(1);
    const preview = await h.post('/api/v1/student-groups/preview', w.adminToken, {
      schoolId: w.org.schoolId,
      rule: cpPlan,
    });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(1);
    expect(preview.body.sample.map((s: any) => s.id)).toEqual([w.planned.a]);
    expect(
      (
        await h.post('/api/v1/student-groups/preview', w.org.ownerToken, {
          schoolId: w.org.schoolId,
          rule: cpPlan,
        })
      ).body.count,
    ).toBe(3);

    // The Owner, who sees every child, still reads the whole group.
    expect(await countsOf(h, w.org.ownerToken, w)).toEqual({ inList: 3, one: 3, linked: 3 });
  });

  it('a blocked member is neither counted nor listed', async () => {
    const h = haven();
    const w = await world(h);
    await w.reach({ studentGroupId: w.group });
    expect(await countsOf(h, w.adminToken, w)).toEqual({ inList: 3, one: 3, linked: 3 });
    expect(await memberIds(h, w.adminToken, w.group)).toEqual(
      [w.planned.a, w.planned.b, w.planned.c].sort(),
    );

    await blockStudent(h, w.org.ownerToken, w.admin.id, w.planned.b);
    expect(await countsOf(h, w.adminToken, w)).toEqual({ inList: 2, one: 2, linked: 2 });
    expect(await memberIds(h, w.adminToken, w.group)).toEqual([w.planned.a, w.planned.c].sort());
    expect(await countsOf(h, w.org.ownerToken, w)).toEqual({ inList: 3, one: 3, linked: 3 });
  });

  it('counts each group of a page in the same answer, whatever the other groups hold', async () => {
    const h = haven();
    const w = await world(h);
    const t = w.org.ownerToken;
    const manual = await createStudentGroup(h, t, {
      name: 'Reading club',
      schoolId: w.org.schoolId,
      kind: 'manual',
      studentIds: [w.planned.c, w.other],
    });
    const empty = await createStudentGroup(h, t, {
      name: 'Chess club',
      schoolId: w.org.schoolId,
      kind: 'manual',
    });
    await w.reach({ studentId: w.planned.c });
    const items = (await h.get('/api/v1/student-groups', w.adminToken)).body.items as any[];
    const count = (id: string) => items.find((g) => g.id === id)?.memberCount;
    expect([count(w.group), count(manual), count(empty)]).toEqual([1, 1, 0]);
    // The school's All students group: four children, one of whom the Admin sees.
    expect(items.find((g) => g.kind === 'all' && g.schoolId === w.org.schoolId)?.memberCount).toBe(
      1,
    );
  });
});
