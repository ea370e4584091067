import { describe, expect, it } from 'vitest';
import { addMembers, blockStudent, createUser, createUserGroup } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, school as sharedSchool } from '../support/school.ts';

/**
 * The shared school (a Year 9 team of two Viewers without clearance, a DSL in the Safeguarding
 * Team, a Viewer outside every group), with one child-protection concern about a Year 9 child
 * (Adams) and one about a Year 10 child (Clark), and a standard one about Adams.
 */
async function school(h: TestHaven) {
  const s = await sharedSchool(h);
  const concern = (studentId: string, sensitivity: string) =>
    logConcern(h, s, s.users.dsl.token!, {
      studentIds: [studentId],
      sensitivity,
      description: 'Disclosure at break.',
    });
  const { a: adams, c: clark } = s.students;
  return {
    ...s,
    students: { adams, clark },
    incidents: {
      adamsCp: await concern(adams, 'child_protection'),
      adamsStandard: await concern(adams, 'standard'),
      clarkCp: await concern(clark, 'child_protection'),
    },
  };
}

const preview = (h: TestHaven, token: string | undefined, change: object) =>
  h.post('/api/v1/access/widening-preview', token, change);

describe('widening preview: how many more people would see sensitive records', () => {
  const haven = useHaven();

  it('assigning a child-protection concern to a group counts the members who cannot see it yet, and changes nothing', async () => {
    const h = haven();
    const s = await school(h);
    const change = {
      kind: 'incident_assignee',
      incidentId: s.incidents.adamsCp,
      assignee: { type: 'user_group', id: s.team },
    };
    const reply = await preview(h, s.users.dsl.token, change);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      sensitiveRecords: 1,
      newViewers: 2,
      examples: [
        { id: s.users.colleague.id, name: 'Colin Colleague' },
        { id: s.users.viewer.id, name: 'Vera Viewer' },
      ],
      partial: false,
      warnings: [],
    });
    // Nothing was assigned: the team still cannot read it.
    expect(
      (await h.get(`/api/v1/incidents/${s.incidents.adamsCp}`, s.users.viewer.token)).status,
    ).toBe(404);
    const incident = await h.get(`/api/v1/incidents/${s.incidents.adamsCp}`, s.users.dsl.token);
    expect(incident.body.assignees).toEqual([]);
  });

  it('a block still wins after the change: a member blocked from the only child is not counted', async () => {
    const h = haven();
    const s = await school(h);
    await blockStudent(h, s.t, s.users.colleague.id, s.students.adams);
    const reply = await preview(h, s.users.dsl.token, {
      kind: 'incident_assignee',
      incidentId: s.incidents.adamsCp,
      assignee: { type: 'user_group', id: s.team },
    });
    expect(reply.body).toMatchObject({ newViewers: 1, examples: [{ name: 'Vera Viewer' }] });
  });

  it('nothing widens: someone who already sees it, or a standard concern', async () => {
    const h = haven();
    const s = await school(h);
    const toDsl = await preview(h, s.users.dsl.token, {
      kind: 'incident_assignee',
      incidentId: s.incidents.adamsCp,
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(toDsl.body).toEqual({
      sensitiveRecords: 0,
      newViewers: 0,
      examples: [],
      partial: false,
      warnings: [],
    });
    const standard = await preview(h, s.users.dsl.token, {
      kind: 'incident_assignee',
      incidentId: s.incidents.adamsStandard,
      assignee: { type: 'user_group', id: s.team },
    });
    expect(standard.body).toEqual({
      sensitiveRecords: 0,
      newViewers: 0,
      examples: [],
      partial: false,
      warnings: [],
    });
  });

  it('linking a cleared group to a child, and adding members to the Safeguarding Team', async () => {
    const h = haven();
    const s = await school(h);
    const pastoral = await createUserGroup(h, s.t, 'Pastoral leads');
    const cleared = await h.put(`/api/v1/user-groups/${pastoral}/clearances`, s.t, {
      clearances: ['child_protection'],
    });
    expect(cleared.status).toBe(200);
    await addMembers(h, s.t, pastoral, [s.users.outsider.id]);
    const link = await preview(h, s.t, {
      kind: 'student_link',
      userGroupId: pastoral,
      studentId: s.students.clark,
    });
    expect(link.body).toEqual({
      sensitiveRecords: 1,
      newViewers: 1,
      examples: [{ id: s.users.outsider.id, name: 'Olga Outsider' }],
      partial: false,
      warnings: [],
    });
    const toYear9 = await preview(h, s.t, {
      kind: 'student_link',
      userGroupId: pastoral,
      studentGroupId: s.year9,
    });
    expect(toYear9.body).toMatchObject({ sensitiveRecords: 1, newViewers: 1 });
    // The Year 9 team holds no clearance: linking it to Year 10 shows no sensitive record.
    const uncleared = await preview(h, s.t, {
      kind: 'student_link',
      userGroupId: s.team,
      studentId: s.students.clark,
    });
    expect(uncleared.body).toMatchObject({ newViewers: 0 });

    const members = await preview(h, s.t, {
      kind: 'group_members',
      userGroupId: s.safeguardingTeamId,
      userIds: [s.users.outsider.id, s.users.dsl.id],
    });
    expect(members.body).toEqual({
      sensitiveRecords: 2,
      newViewers: 1,
      examples: [{ id: s.users.outsider.id, name: 'Olga Outsider' }],
      partial: false,
      warnings: [],
    });
    // Still not a member.
    const team = await h.get(`/api/v1/user-groups/${s.safeguardingTeamId}/members`, s.t);
    expect(team.body.items.map((m: any) => m.id)).not.toContain(s.users.outsider.id);
  });

  it('a whole user-group batch is tried together: a clearance and a link that widen only together', async () => {
    const h = haven();
    const s = await school(h);
    // A new team holding nothing yet, with the outsider in it.
    const pastoral = await createUserGroup(h, s.t, 'Pastoral');
    await addMembers(h, s.t, pastoral, [s.users.outsider.id]);
    const link = { op: 'addStudentLink', studentGroupId: s.year9 };
    const clearance = { op: 'setClearances', clearances: ['child_protection'] };
    const batch = (operations: object[]) =>
      preview(h, s.t, { kind: 'user_group_batch', userGroupId: pastoral, operations });

    // Either alone lets no one new read a child-protection record.
    expect((await batch([link])).body).toMatchObject({ newViewers: 0, sensitiveRecords: 0 });
    expect((await batch([clearance])).body).toMatchObject({ newViewers: 0, sensitiveRecords: 0 });
    // Together they open Adams's child-protection concern to the outsider.
    const both = await batch([link, clearance]);
    expect(both.status).toBe(200);
    expect(both.body).toEqual({
      sensitiveRecords: 1,
      newViewers: 1,
      examples: [{ id: s.users.outsider.id, name: 'Olga Outsider' }],
      partial: false,
      warnings: [],
    });
    // Members added in the same batch are counted too.
    const withMember = await batch([
      { op: 'addMembers', userIds: [s.users.viewer.id] },
      link,
      clearance,
    ]);
    expect(withMember.body).toMatchObject({ newViewers: 2, sensitiveRecords: 1 });
    // Nothing was saved.
    const group = await h.get(`/api/v1/user-groups/${pastoral}`, s.t);
    expect(group.body.clearances).toEqual([]);
    expect(group.body.studentLinks).toEqual([]);
    expect(
      (await h.get(`/api/v1/incidents/${s.incidents.adamsCp}`, s.users.outsider.token)).status,
    ).toBe(404);
    // A batch the caller could not save is refused as the save would be (a group homed where the
    // Viewer administers nothing does not exist for them).
    const asViewer = await preview(h, s.users.viewer.token, {
      kind: 'user_group_batch',
      userGroupId: pastoral,
      operations: [link],
    });
    const save = await h.post(`/api/v1/user-groups/${pastoral}/batch`, s.users.viewer.token, {
      operations: [link],
    });
    expect(asViewer.status).toBe(404);
    expect(save.status).toBe(asViewer.status);
  });

  it('a caller who cannot see the record gets 404, not a count; one who sees it but may not assign gets 403', async () => {
    const h = haven();
    const s = await school(h);
    const otherDsl = await createUser(h, s.t, { name: 'Dan DSL', role: 'dsl', scope: s.atSchool });
    const change = {
      kind: 'incident_assignee',
      incidentId: s.incidents.adamsCp,
      assignee: { type: 'user_group', id: s.team },
    };
    const hidden = await preview(h, otherDsl.token, change);
    expect(hidden.status).toBe(404);
    expect(hidden.body).not.toHaveProperty('newViewers');
    expect((await preview(h, s.users.viewer.token, change)).status).toBe(404);
    const seenNotAssignable = await preview(h, s.users.viewer.token, {
      ...change,
      incidentId: s.incidents.adamsStandard,
    });
    expect(seenNotAssignable.status).toBe(403);
    // A child the caller cannot see.
    const admin = await createUser(h, s.t, { name: 'Ada Admin', role: 'admin', scope: s.atSchool });
    const link = await preview(h, admin.token, {
      kind: 'student_link',
      userGroupId: s.team,
      studentId: s.students.clark,
    });
    expect(link.status).toBe(404);
    expect((await preview(h, s.users.viewer.token, { ...change, kind: 'x' })).status).toBe(400);
    const both = await preview(h, s.t, {
      kind: 'student_link',
      userGroupId: s.team,
      studentId: s.students.clark,
      studentGroupId: s.year9,
    });
    expect(both.status).toBe(400);
    const members = await preview(h, s.users.viewer.token, {
      kind: 'group_members',
      userGroupId: s.team,
      userIds: [s.users.outsider.id],
    });
    expect(members.status).toBe(403);
    expect((await preview(h, undefined, change)).status).toBe(401);
  });
});
