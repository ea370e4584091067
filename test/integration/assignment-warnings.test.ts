import { describe, expect, it } from 'vitest';
import { addMembers, blockStudent, createUserGroup } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, type School, school } from '../support/school.ts';

// Issue 12, item 7: giving a record or an action to someone who cannot read it warns the
// assigner; giving it to a person blocked from one of its children is refused.

const cannotRead = (type: 'user' | 'user_group', id: string, extra: object = {}) => ({
  code: 'assignee_cannot_read',
  assignee: { type, id },
  detail: expect.any(String),
  ...extra,
});

async function assignees(h: TestHaven, s: School, id: string) {
  return (await h.get(`/api/v1/incidents/${id}`, s.users.dsl.token)).body.assignees.map(
    (a: { id: string }) => a.id,
  );
}

async function actionCount(h: TestHaven) {
  const row = await h.database.db
    .selectFrom('actions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('assigning to a person blocked from a child on the record', () => {
  const haven = useHaven();

  it('is refused for the incident, a new concern, an action and its check; nothing changes', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const id = await logConcern(h, s, s.users.viewer.token!, {
      studentIds: [s.students.a, s.students.b],
    });
    // Blocked from one of the two children (the colleague still sees the other).
    await blockStudent(h, dsl, s.users.colleague.id, s.students.b);
    const colleague = { type: 'user', id: s.users.colleague.id };
    const before = await assignees(h, s, id);

    const assigned = await h.post(`/api/v1/incidents/${id}/assignees`, dsl, colleague);
    expect(assigned.status).toBe(409);
    expect(assigned.body.code).toBe('assignee_blocked');
    expect(await assignees(h, s, id)).toEqual(before);
    const preview = await h.post('/api/v1/access/widening-preview', dsl, {
      kind: 'incident_assignee',
      incidentId: id,
      assignee: colleague,
    });
    expect(preview.body.code).toBe('assignee_blocked');

    const created = await h.post('/api/v1/incidents', dsl, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.b],
      categoryId: s.category('standard'),
      occurredAt: '2026-11-21T09:00:00Z',
      description: 'Left school without signing out.',
      assignees: [colleague],
    });
    expect(created.status).toBe(409);
    expect(created.body.code).toBe('assignee_blocked');
    expect((await h.get('/api/v1/incidents/count', dsl)).body.count).toBe(1);

    const actions = await actionCount(h);
    const action = await h.post(`/api/v1/incidents/${id}/actions`, dsl, {
      title: 'Speak to the family',
      assignee: colleague,
    });
    expect(action.status).toBe(409);
    expect(action.body.code).toBe('assignee_blocked');
    const check = await h.post(`/api/v1/incidents/${id}/actions/assignee-check`, dsl, {
      assignee: colleague,
    });
    expect(check.body.code).toBe('assignee_blocked');
    const own = await h.post(`/api/v1/incidents/${id}/actions`, dsl, {
      title: 'Speak to the family',
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(own.status).toBe(201);
    const moved = await h.patch(`/api/v1/actions/${own.body.id}`, dsl, { assignee: colleague });
    expect(moved.status).toBe(409);
    expect(moved.body.code).toBe('assignee_blocked');
    expect(await actionCount(h)).toBe(actions + 1);
    const kept = await h.get(`/api/v1/incidents/${id}/actions`, dsl);
    expect(kept.body.items[0].assignee.id).toBe(s.users.dsl.id);
  });
});

describe('assigning to someone who cannot read the record', () => {
  const haven = useHaven();

  it('saves an action for a person without the clearance, and warns; a group says how many', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const cp = await logConcern(h, s, dsl, { sensitivity: 'child_protection' });
    const viewer = { type: 'user', id: s.users.viewer.id };

    // Before saving: the same answer, and nothing is saved.
    const actions = await actionCount(h);
    const check = await h.post(`/api/v1/incidents/${cp}/actions/assignee-check`, dsl, {
      assignee: viewer,
    });
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ warnings: [cannotRead('user', viewer.id)] });
    expect(await actionCount(h)).toBe(actions);

    const action = await h.post(`/api/v1/incidents/${cp}/actions`, dsl, {
      title: 'Check in after registration',
      assignee: viewer,
    });
    expect(action.status).toBe(201);
    expect(action.body.warnings).toEqual([cannotRead('user', viewer.id)]);
    expect(await actionCount(h)).toBe(actions + 1);
    // The Viewer indeed does not see it.
    expect((await h.get('/api/v1/me/actions', s.users.viewer.token)).body.items).toEqual([]);

    // The Year 9 team: two members, neither cleared.
    const toTeam = await h.patch(`/api/v1/actions/${action.body.id}`, dsl, {
      assignee: { type: 'user_group', id: s.team },
    });
    expect(toTeam.status).toBe(200);
    expect(toTeam.body.warnings).toEqual([
      cannotRead('user_group', s.team, { members: 2, cannotRead: 2, partial: false }),
    ]);
    // A cleared colleague joins the team: one of three still cannot read it.
    await addMembers(h, s.t, s.team, [s.users.dsl.id]);
    const again = await h.post(`/api/v1/incidents/${cp}/actions/assignee-check`, dsl, {
      assignee: { type: 'user_group', id: s.team },
    });
    expect(again.body.warnings).toEqual([
      cannotRead('user_group', s.team, { members: 3, cannotRead: 2, partial: false }),
    ]);
    // The Safeguarding Team reads it: no warning. An edit that leaves the assignee alone: none.
    const toTeamOk = await h.patch(`/api/v1/actions/${action.body.id}`, dsl, {
      assignee: { type: 'user_group', id: s.safeguardingTeamId },
    });
    expect(toTeamOk.body.warnings).toEqual([]);
    const retitled = await h.patch(`/api/v1/actions/${action.body.id}`, dsl, { title: 'Check in' });
    expect(retitled.body.warnings).toEqual([]);

    // A standard record: the Viewer who sees the child reads it; the outsider does not.
    const standard = await logConcern(h, s, dsl);
    const ok = await h.post(`/api/v1/incidents/${standard}/actions`, dsl, {
      title: 'Return the lunch money',
      assignee: viewer,
    });
    expect(ok.body.warnings).toEqual([]);
    const outsider = await h.post(`/api/v1/incidents/${standard}/actions`, dsl, {
      title: 'Return the lunch money',
      assignee: { type: 'user', id: s.users.outsider.id },
    });
    expect(outsider.body.warnings).toEqual([cannotRead('user', s.users.outsider.id)]);
  });

  it('an incident given to a person lets them read it, unless a denial still wins', async () => {
    const h = haven();
    const s = await school(h);
    const dsl = s.users.dsl.token!;
    const cp = await logConcern(h, s, dsl, { sensitivity: 'child_protection' });
    // Assignment is a way in: the uncleared Viewer reads it once assigned, so no warning.
    const preview = await h.post('/api/v1/access/widening-preview', dsl, {
      kind: 'incident_assignee',
      incidentId: cp,
      assignee: { type: 'user', id: s.users.viewer.id },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ newViewers: 1, warnings: [] });
    const assigned = await h.post(`/api/v1/incidents/${cp}/assignees`, dsl, {
      type: 'user',
      id: s.users.viewer.id,
    });
    expect(assigned.status).toBe(200);
    expect(assigned.body.warnings).toEqual([]);
    expect((await h.get(`/api/v1/incidents/${cp}`, s.users.viewer.token)).status).toBe(200);

    // The colleague is on the exclusion list: an assignment does not open it to them.
    await h.put(`/api/v1/incidents/${cp}/exclusions`, dsl, { userIds: [s.users.colleague.id] });
    const colleague = { type: 'user', id: s.users.colleague.id };
    const previewed = await h.post('/api/v1/access/widening-preview', dsl, {
      kind: 'incident_assignee',
      incidentId: cp,
      assignee: colleague,
    });
    expect(previewed.body.warnings).toEqual([cannotRead('user', colleague.id)]);
    expect(await assignees(h, s, cp)).not.toContain(colleague.id);
    const excluded = await h.post(`/api/v1/incidents/${cp}/assignees`, dsl, colleague);
    expect(excluded.status).toBe(200);
    expect(excluded.body.warnings).toEqual([cannotRead('user', colleague.id)]);
    expect(await assignees(h, s, cp)).toContain(colleague.id);

    // A group: the excluded member is counted.
    const pair = await createUserGroup(h, s.t, 'Pair', {
      homeScope: { type: 'school', id: s.org.schoolId },
    });
    await addMembers(h, s.t, pair, [s.users.colleague.id, s.users.outsider.id]);
    const toGroup = await h.post(`/api/v1/incidents/${cp}/assignees`, dsl, {
      type: 'user_group',
      id: pair,
    });
    expect(toGroup.body.warnings).toEqual([
      cannotRead('user_group', pair, { members: 2, cannotRead: 1, partial: false }),
    ]);
  });
});
