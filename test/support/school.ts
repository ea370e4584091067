import { expect } from 'vitest';
import {
  addMembers,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  linkGroup,
  schoolDefaults,
  setupOrganisation,
} from './factories.ts';
import type { TestHaven } from './haven.ts';

/**
 * A school with a Year 9 team (Viewers linked to Year 9), a DSL in the Safeguarding Team
 * (child_protection clearance), and a Viewer with no children at all.
 */
export async function school(h: TestHaven, options: { stepUp?: boolean } = {}) {
  const org = await setupOrganisation(h);
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  if (!options.stepUp) {
    const off = await h.patch(`/api/v1/schools/${org.schoolId}/settings`, t, {
      requireMfaForSensitive: false,
    });
    expect(off.status).toBe(200);
  }
  const a = await createStudent(h, t, {
    schoolId: org.schoolId,
    yearGroup: 9,
    familyName: 'Adams',
  });
  const b = await createStudent(h, t, {
    schoolId: org.schoolId,
    yearGroup: 9,
    familyName: 'Baker',
  });
  const c = await createStudent(h, t, {
    schoolId: org.schoolId,
    yearGroup: 10,
    familyName: 'Clark',
  });
  const year9 = await createStudentGroup(h, t, {
    name: 'Year 9',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 9 },
  });
  // Homed at the school, so the school's own DSL and Admins manage it and can assign work to it.
  const team = await createUserGroup(h, t, 'Year 9 team', { homeScope: atSchool });
  await linkGroup(h, t, team, { studentGroupId: year9 });
  const viewer = await createUser(h, t, { name: 'Vera Viewer', role: 'viewer', scope: atSchool });
  const colleague = await createUser(h, t, {
    name: 'Colin Colleague',
    role: 'viewer',
    scope: atSchool,
  });
  const outsider = await createUser(h, t, {
    name: 'Olga Outsider',
    role: 'viewer',
    scope: atSchool,
  });
  await addMembers(h, t, team, [viewer.id, colleague.id]);
  const dsl = await createUser(h, t, { name: 'Dina DSL', role: 'dsl', scope: atSchool });
  const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
  await addMembers(h, t, safeguardingTeamId, [dsl.id]);
  const categories = (await h.get('/api/v1/categories', t, { schoolId: org.schoolId })).body.items;
  const category = (sensitivity: string) =>
    categories.find((x: any) => x.sensitivity === sensitivity).id as string;
  return {
    org,
    t,
    atSchool,
    students: { a, b, c },
    year9,
    team,
    safeguardingTeamId,
    users: { viewer, colleague, outsider, dsl },
    category,
  };
}

export type School = Awaited<ReturnType<typeof school>>;

export async function logConcern(
  h: TestHaven,
  s: School,
  token: string,
  extra: {
    studentIds?: string[];
    sensitivity?: string;
    description?: string;
    subjectUserId?: string;
  } = {},
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    studentIds: extra.studentIds ?? [s.students.a],
    categoryId: s.category(extra.sensitivity ?? 'standard'),
    occurredAt: '2026-11-20T10:15:00Z',
    location: 'Playground',
    description: extra.description ?? 'Upset at break; said an older pupil took lunch money.',
    ...(extra.subjectUserId ? { subjectUserId: extra.subjectUserId } : {}),
  });
  if (reply.status !== 201)
    throw new Error(`incident create failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

/**
 * A "Head teachers" group holding the allegations clearance, linked to every child of the school,
 * with these members: who may read an allegation (and, among them, whom one may be about).
 */
export async function headTeachers(h: TestHaven, s: School, memberIds: string[]) {
  const heads = await createUserGroup(h, s.t, 'Head teachers');
  await addMembers(h, s.t, heads, memberIds);
  await linkGroup(h, s.t, heads, {
    studentGroupId: (await schoolDefaults(h, s.t, s.org.schoolId)).allStudentsId,
  });
  const cleared = await h.put(`/api/v1/user-groups/${heads}/clearances`, s.t, {
    clearances: ['allegations'],
  });
  expect(cleared.status).toBe(200);
  return heads;
}
