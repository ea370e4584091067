import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createStudentGroup,
  createUser,
  createUserGroup,
  linkGroup,
  schoolDefaults,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { logConcern, type School, school } from '../support/school.ts';

// Issue 16, a transfer within one organisation: which concerns move with the child, and which
// groups and links still reach the child at the new school.

/** A DSL on the Safeguarding Team of a new school `name` of the school's organisation. */
async function dslAt(h: TestHaven, s: School, name: string) {
  const schoolId = await addSchool(h, s.t, name);
  const dsl = await createUser(h, s.t, { role: 'dsl', scope: { type: 'school', id: schoolId } });
  const { safeguardingTeamId } = await schoolDefaults(h, s.t, schoolId);
  await addMembers(h, s.t, safeguardingTeamId, [dsl.id]);
  return { schoolId, id: dsl.id, token: dsl.token as string };
}

/** Sends child `studentId` to `toSchoolId` and accepts it as `receiver`. */
async function move(
  h: TestHaven,
  s: School,
  studentId: string,
  to: { schoolId: string; token: string },
) {
  const sent = await h.post('/api/v1/transfers', s.users.dsl.token, {
    studentId,
    toSchoolId: to.schoolId,
    reason: 'Moved within the trust',
  });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  const accepted = await h.post(`/api/v1/transfers/${sent.body.id}/accept`, to.token);
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
  return sent.body.id as string;
}

async function schoolOf(h: TestHaven, incidentId: string) {
  const row = await h.database.db
    .selectFrom('incidents')
    .select('school_id')
    .where('id', '=', incidentId)
    .executeTakeFirstOrThrow();
  return row.school_id;
}

const addAction = (h: TestHaven, token: string, incidentId: string, userId: string) =>
  h.post(`/api/v1/incidents/${incidentId}/actions`, token, {
    title: 'Speak to the family',
    assignee: { type: 'user', id: userId },
  });

describe('a transfer within one organisation', () => {
  const haven = useHaven();

  it('leaves a concern that also names a child still at the old school there, and moves the rest', async () => {
    const h = haven();
    const s = await school(h);
    const oldSchool = s.org.schoolId;
    const dsl = s.users.dsl.token as string;
    // A second DSL of the old school, on its Safeguarding Team, who reported none of the concerns.
    const second = await createUser(h, s.t, { role: 'dsl', scope: s.atSchool });
    await addMembers(h, s.t, s.safeguardingTeamId, [second.id]);
    const deputy = { id: second.id, token: second.token as string };
    const shared = await logConcern(h, s, dsl, {
      studentIds: [s.students.a, s.students.b],
      sensitivity: 'child_protection',
      description: 'SHARED-CP about A and B.',
    });
    const own = await logConcern(h, s, dsl, { description: 'ONLY-A concern.' });
    // A concern that also names C, who has since left the school's roll (deleted): nobody else
    // named on it is still at the old school, so it moves.
    const withLeaver = await logConcern(h, s, dsl, {
      studentIds: [s.students.a, s.students.c],
      description: 'A-AND-C concern.',
    });
    expect((await h.delete(`/api/v1/students/${s.students.c}`, s.t)).status).toBe(204);
    const north = await dslAt(h, s, 'Northfield Academy');

    await move(h, s, s.students.a, north);

    expect(await schoolOf(h, shared)).toBe(oldSchool);
    expect(await schoolOf(h, own)).toBe(north.schoolId);
    expect(await schoolOf(h, withLeaver)).toBe(north.schoolId);
    const accept = await h.database.db
      .selectFrom('audit_events')
      .select('after_json')
      .where('action', '=', 'transfer.accept')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(accept.after_json as string).keptAtOldSchool).toBe(1);
    // A moved record keeps where it was held as a revision, and the move is in its history.
    const history = await h.database.db
      .selectFrom('incident_revisions')
      .select(['incident_id', 'revision', 'school_id'])
      .where('incident_id', 'in', [own, shared])
      .execute();
    expect(history).toEqual([{ incident_id: own, revision: 1, school_id: oldSchool }]);
    const moved = await h.database.db
      .selectFrom('audit_events')
      .select(['before_json', 'after_json'])
      .where('action', '=', 'incident.update')
      .where('target_id', '=', own)
      .execute();
    expect(moved.map((m) => [JSON.parse(m.before_json!), JSON.parse(m.after_json!)])).toEqual([
      [
        { revision: 1, schoolId: oldSchool },
        { revision: 2, schoolId: north.schoolId },
      ],
    ]);

    // The receiving DSL reads the shared concern through A (clearances hold across the trust; the
    // old school asks no step-up), but manages it no more than any other record of the old school.
    const read = await h.get(`/api/v1/incidents/${shared}`, north.token);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body.schoolId).toBe(oldSchool);
    expect((await addAction(h, north.token, shared, north.id)).status).toBe(403);
    // The old school's DSL still reads it (through B) and manages it.
    expect((await h.get(`/api/v1/incidents/${shared}`, deputy.token)).status).toBe(200);
    const managed = await addAction(h, deputy.token, shared, deputy.id);
    expect(managed.status, JSON.stringify(managed.body)).toBe(201);
    const oldList = await h.get('/api/v1/incidents', deputy.token, { schoolId: oldSchool });
    expect(oldList.body.items.map((i: any) => i.id)).toContain(shared);

    // A's own concern went with A: the new school manages it, the old school no longer reads it.
    expect((await addAction(h, north.token, own, north.id)).status).toBe(201);
    expect((await h.get(`/api/v1/incidents/${own}`, deputy.token)).status).toBe(404);
    expect((await h.get(`/api/v1/incidents/${withLeaver}`, deputy.token)).status).toBe(404);
    expect((await h.get(`/api/v1/incidents/${withLeaver}`, north.token)).status).toBe(200);

    // When B follows A, nobody named on the shared concern is left at the old school: it moves,
    // and the new school's settings govern it (Northfield asks for a step-up, Oak does not).
    await move(h, s, s.students.b, north);
    expect(await schoolOf(h, shared)).toBe(north.schoolId);
    const later = await h.get(`/api/v1/incidents/${shared}`, north.token);
    expect(later.status).toBe(403);
    expect(later.body.code).toBe('mfa_required');
    expect((await h.get(`/api/v1/incidents/${shared}`, deputy.token)).status).toBe(404);

    // Who lists the two transfers (src/access/transfers.ts): the sending school's DSLs (out), the
    // receiving school's (in), and the trust's Owner, whose role covers every school, both ways.
    const listed = async (token: string, direction: 'in' | 'out') =>
      (await h.get('/api/v1/transfers', token, { direction })).body.items.length;
    expect(await listed(deputy.token, 'out')).toBe(2);
    expect(await listed(deputy.token, 'in')).toBe(0);
    expect(await listed(north.token, 'in')).toBe(2);
    expect(await listed(north.token, 'out')).toBe(0);
    expect(await listed(s.t, 'out')).toBe(2);
    expect(await listed(s.t, 'in')).toBe(2);
  });

  it('ends the old school’s group memberships with their history, and keeps the trust’s', async () => {
    const h = haven();
    const s = await school(h);
    const oldSchool = s.org.schoolId;
    const child = s.students.a;
    const trust = { type: 'organisation' as const, id: s.org.organisationId };
    const north = await dslAt(h, s, 'Northfield Academy');

    // A manual group of the old school, and one of the whole trust, each holding A.
    const pastoral = await createStudentGroup(h, s.t, {
      name: 'Oak pastoral',
      schoolId: oldSchool,
      kind: 'manual',
      studentIds: [child],
    });
    const mentoring = await createStudentGroup(h, s.t, {
      name: 'Trust mentoring',
      schoolId: null,
      kind: 'manual',
      studentIds: [child],
    });
    const reachThrough = async (
      studentGroupId: string,
      name: string,
      scope: { type: 'organisation' | 'school'; id: string },
    ) => {
      const user = await createUser(h, s.t, { role: 'viewer', scope });
      const group = await createUserGroup(h, s.t, name);
      await addMembers(h, s.t, group, [user.id]);
      await linkGroup(h, s.t, group, { studentGroupId });
      return user.token as string;
    };
    // Teachers who reach A through the old school's group: one with a role at the old school, one
    // with a role across the trust (who would still see A at the new school through the group).
    const schoolTeacher = await reachThrough(pastoral, 'Oak form tutors', s.atSchool);
    const trustTeacher = await reachThrough(pastoral, 'Trust pastoral leads', trust);
    // A trust mentor reaching A through the trust's own group.
    const mentor = await reachThrough(mentoring, 'Trust mentors', trust);
    // Directly linked to A: a trust-wide role holder and one with a role at the old school only.
    const linked = async (scope: { type: 'organisation' | 'school'; id: string }) => {
      const user = await createUser(h, s.t, { role: 'viewer', scope });
      const link = await h.post(`/api/v1/users/${user.id}/student-links`, s.t, {
        studentId: child,
      });
      expect(link.status, JSON.stringify(link.body)).toBe(201);
      return user.token as string;
    };
    const trustLinked = await linked(trust);
    const schoolLinked = await linked(s.atSchool);

    const sees = async (token: string | undefined) =>
      (await h.get(`/api/v1/students/${child}`, token)).status;
    for (const token of [schoolTeacher, trustTeacher, mentor, trustLinked, schoolLinked])
      expect(await sees(token)).toBe(200);

    await move(h, s, child, north);

    // The old school's group no longer holds A; the trust's does.
    expect(await sees(schoolTeacher)).toBe(404);
    expect(await sees(trustTeacher)).toBe(404);
    expect(await sees(mentor)).toBe(200);
    // A direct link and a role at the child's (new) school: the trust-wide holder keeps A; the
    // old school's holds no role where A now is.
    expect(await sees(trustLinked)).toBe(200);
    expect(await sees(schoolLinked)).toBe(404);
    expect(await sees(north.token)).toBe(200);

    // Memberships are closed, not removed: the old school's groups (manual, "All students", the
    // Year 9 rule) keep A's membership as history; the trust's group and the new school's "All
    // students" hold A now.
    const { allStudentsId: oldAll } = await schoolDefaults(h, s.t, oldSchool);
    const { allStudentsId: newAll } = await schoolDefaults(h, s.t, north.schoolId);
    const memberships = await h.database.db
      .selectFrom('student_group_members')
      .select(['student_group_id', 'valid_to'])
      .where('student_id', '=', child)
      .execute();
    const state = (groupId: string) =>
      memberships
        .filter((m) => m.student_group_id === groupId)
        .map((m) => (m.valid_to === null ? 'open' : 'closed'));
    expect(state(pastoral)).toEqual(['closed']);
    expect(state(oldAll)).toEqual(['closed']);
    expect(state(s.year9)).toEqual(['closed']);
    expect(state(mentoring)).toEqual(['open']);
    expect(state(newAll)).toEqual(['open']);
    const counts = await h.database.db
      .selectFrom('student_groups')
      .select(['id', 'member_count'])
      .where('id', 'in', [pastoral, mentoring])
      .execute();
    expect(Object.fromEntries(counts.map((c) => [c.id, Number(c.member_count)]))).toEqual({
      [pastoral]: 0,
      [mentoring]: 1,
    });
  });
});
