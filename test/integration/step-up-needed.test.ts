import { describe, expect, it } from 'vitest';
import type { TestHaven } from '../support/haven.ts';
import { logConcern, school } from '../support/school.ts';
import { enrolTotp, stepUp, useHavenWithTotpClock } from '../support/two-factor.ts';

// Issue 12, item 7: a list never says "0 concerns" when records are only held back by a missing
// two-factor step-up; it says how many (`stepUpNeeded`).

async function heldBack(h: TestHaven, token: string, query: Record<string, string> = {}) {
  const list = await h.get('/api/v1/incidents', token, { limit: 200, ...query });
  const count = await h.get('/api/v1/incidents/count', token, query);
  const exported = await h.get('/api/v1/incidents/export', token, query);
  expect([list.status, count.status, exported.status]).toEqual([200, 200, 200]);
  // The list, the count and the export agree.
  expect(count.body.stepUpNeeded).toBe(list.body.stepUpNeeded);
  expect(exported.headers['x-haven-step-up-needed']).toBe(String(list.body.stepUpNeeded));
  expect(count.body.count).toBe(list.body.items.length);
  return { shown: count.body.count as number, stepUpNeeded: list.body.stepUpNeeded as number };
}

describe('stepUpNeeded: records held back only by a two-factor step-up', () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('lists, counts, exports, a chronology and my actions say how many; 0 once stepped up', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const dsl = s.users.dsl.token!;
    await logConcern(h, s, dsl);
    const cpA = await logConcern(h, s, dsl, { sensitivity: 'child_protection' });
    await logConcern(h, s, dsl, {
      sensitivity: 'child_protection',
      studentIds: [s.students.b],
      description: 'Bruising on the arm noticed in PE.',
    });

    expect(await heldBack(h, dsl)).toEqual({ shown: 1, stepUpNeeded: 2 });
    // The list's filters apply to the count of what is held back.
    expect(await heldBack(h, dsl, { studentId: s.students.a })).toEqual({
      shown: 1,
      stepUpNeeded: 1,
    });
    expect(await heldBack(h, dsl, { q: 'bruising' })).toEqual({ shown: 0, stepUpNeeded: 1 });
    expect(await heldBack(h, dsl, { categoryId: s.category('standard') })).toEqual({
      shown: 1,
      stepUpNeeded: 0,
    });
    expect(await heldBack(h, dsl, { status: 'closed' })).toEqual({ shown: 0, stepUpNeeded: 0 });
    const chronology = (id: string) => h.get(`/api/v1/students/${id}/chronology`, dsl);
    expect((await chronology(s.students.a)).body).toMatchObject({ stepUpNeeded: 1 });
    expect((await chronology(s.students.c)).body).toMatchObject({ items: [], stepUpNeeded: 0 });

    // Enrolling passes a step-up for this session: nothing is held back.
    const { secret } = await enrolTotp(h, dsl, clock);
    expect(await heldBack(h, dsl)).toEqual({ shown: 3, stepUpNeeded: 0 });
    expect((await chronology(s.students.a)).body.stepUpNeeded).toBe(0);
    const action = await h.post(`/api/v1/incidents/${cpA}/actions`, dsl, {
      title: 'Call the social worker',
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(action.status).toBe(201);
    expect((await h.get('/api/v1/me/actions', dsl)).body).toMatchObject({
      items: [{ id: action.body.id }],
      stepUpNeeded: 0,
    });

    // The step-up grows old: held back again, and said so, until the next one.
    await h.database.db
      .updateTable('sessions')
      .set({ mfa_at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .where('user_id', '=', s.users.dsl.id)
      .execute();
    expect(await heldBack(h, dsl)).toEqual({ shown: 1, stepUpNeeded: 2 });
    expect((await h.get('/api/v1/me/actions', dsl)).body).toEqual({ items: [], stepUpNeeded: 1 });
    await stepUp(h, dsl, secret, clock);
    expect(await heldBack(h, dsl)).toEqual({ shown: 3, stepUpNeeded: 0 });
    expect((await h.get('/api/v1/me/actions', dsl)).body.stepUpNeeded).toBe(0);
  });

  it('counts only what a step-up would open: not records the reader could not read anyway', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    await logConcern(h, s, s.users.dsl.token!);
    // The Year 9 Viewer sees the child but holds no clearance: a step-up would not open it.
    const viewer = s.users.viewer.token!;
    expect(await heldBack(h, viewer)).toEqual({ shown: 1, stepUpNeeded: 0 });
    // Their own child-protection report is theirs to read once they pass a step-up.
    await logConcern(h, s, viewer, { sensitivity: 'child_protection' });
    expect(await heldBack(h, viewer)).toEqual({ shown: 1, stepUpNeeded: 1 });
    // Someone who sees none of it is told nothing about it.
    expect(await heldBack(h, s.users.outsider.token!)).toEqual({ shown: 0, stepUpNeeded: 0 });
  });

  it('a school that does not ask for the step-up holds nothing back', async () => {
    const h = haven();
    const s = await school(h);
    await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    await logConcern(h, s, s.users.dsl.token!);
    expect(await heldBack(h, s.users.dsl.token!)).toEqual({ shown: 2, stepUpNeeded: 0 });
    expect(
      (await h.get(`/api/v1/students/${s.students.a}/chronology`, s.users.dsl.token!)).body
        .stepUpNeeded,
    ).toBe(0);
  });
});
