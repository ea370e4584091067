import { describe, expect, it } from 'vitest';
import { viewerOf } from '../../src/access/decide.ts';
import { loadPrincipal } from '../../src/access/principal.ts';
import { countVisibleStudents } from '../../src/modules/students/count.ts';
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

/**
 * `GET /students/count` reads the children of linked automatic groups from the groups'
 * definitions (`countVisibleStudents`), and the rest of what a caller reaches one by one. Each
 * count here must equal the list it counts, whatever the search or narrowing, and the number
 * the rules give.
 */
describe('student counts', () => {
  const haven = useHaven();

  /** An organisation with a second school, and a way to add a child to either. */
  async function twoSchools() {
    const h = haven();
    const org = await setupOrganisation(h);
    const owner = org.ownerToken;
    const a = org.schoolId;
    const b = await addSchool(h, owner, 'Elm Academy');
    const child = (schoolId: string, givenName: string, familyName: string, extra = {}) =>
      createStudent(h, owner, { schoolId, givenName, familyName, ...extra });
    return { h, org, owner, a, b, child };
  }

  async function count(h: TestHaven, token: string, query: Record<string, string | number> = {}) {
    const reply = await h.get('/api/v1/students/count', token, query);
    expect(reply.status).toBe(200);
    return reply.body.count as number;
  }

  const filters: Record<string, string | number>[] = [
    {},
    // Both of Sol Smith's words start with "s": counted once.
    { q: 's' },
    { q: 'smi' },
    { q: 'a' },
    { q: 'smith j' },
    { q: 'zz' },
    { yearGroup: 9 },
    { onRoll: 'false' },
  ];

  /** The count by HTTP, and both ways of reading it, against the list. */
  async function expectCountsMatchList(
    h: TestHaven,
    caller: { id: string; token: string | undefined },
    organisationId: string,
    schools: string[],
  ) {
    const db = h.database.db;
    const viewer = viewerOf(await loadPrincipal(db, organisationId, caller.id));
    const all: Record<string, string | number>[] = [
      ...filters,
      ...schools.map((schoolId) => ({ schoolId })),
    ];
    for (const filter of all) {
      const listed = (await visibleIds(h, caller.token!, filter)).length;
      expect(await count(h, caller.token!, filter), JSON.stringify(filter)).toBe(listed);
      const { onRoll, ...rest } = filter;
      const asFilter = { ...rest, ...(onRoll === undefined ? {} : { onRoll: onRoll === 'true' }) };
      for (const way of ['cells', 'walk', 'matches'] as const) {
        expect(
          await countVisibleStudents(db, { organisationId }, viewer, asFilter, way),
          `${JSON.stringify(filter)} by ${way}`,
        ).toBe(listed);
      }
    }
  }

  it('counts whole schools and organisation-wide groups less the blocked, the left and the deleted, as the list does', async () => {
    const { h, org, owner, a, b, child } = await twoSchools();
    await child(a, 'Amira', 'Smith', { yearGroup: 9 });
    await child(a, 'Ben', 'Smithers', { yearGroup: 9 });
    await child(a, 'Cara', 'Jones', { yearGroup: 10 });
    await child(a, 'Sol', 'Smith', { yearGroup: 11 });
    const left = await child(a, 'Eve', 'Smith-Jones', { yearGroup: 9, onRoll: false });
    const gone = await child(a, 'Finn', 'Ahmed', { yearGroup: 11 });
    const gia = await child(a, 'Gia', 'Patel', { yearGroup: 9 });
    const hana = await child(b, 'Hana', 'Smith', { yearGroup: 9 });
    await child(b, 'Ivan', 'Novak', { yearGroup: 10 });
    expect((await h.delete(`/api/v1/students/${gone}`, owner)).status).toBe(204);

    // A school's DSL in its Safeguarding Team ("All students" and "Former students"), blocked
    // from one child: every live child of the school but that one, on roll or not.
    const dsl = await createUser(h, owner, { role: 'dsl', scope: { type: 'school', id: a } });
    await addMembers(h, owner, (await schoolDefaults(h, owner, a)).safeguardingTeamId, [dsl.id]);
    await blockStudent(h, owner, dsl.id, gia);
    expect(await count(h, dsl.token!)).toBe(5);
    expect(await count(h, dsl.token!, { q: 'smith' })).toBe(4);
    expect(await count(h, dsl.token!, { onRoll: 'false' })).toBe(1);
    await expectCountsMatchList(h, dsl, org.organisationId, [a, b]);

    // A trust lead linked to an organisation-wide "All students" group and to a manual group
    // holding a child who has left (counted once, though the group also holds a child on roll).
    const lead = await createUser(h, owner, {
      role: 'dsl',
      scope: { type: 'organisation', id: org.organisationId },
    });
    const team = await createUserGroup(h, owner, 'Trust team');
    await addMembers(h, owner, team, [lead.id]);
    const everyone = await createStudentGroup(h, owner, {
      name: 'Everyone',
      schoolId: null,
      kind: 'all',
    });
    await linkGroup(h, owner, team, { studentGroupId: everyone });
    const leavers = await createStudentGroup(h, owner, {
      name: 'Watched',
      schoolId: a,
      kind: 'manual',
      studentIds: [left, gia],
    });
    await linkGroup(h, owner, team, { studentGroupId: leavers });
    await blockStudent(h, owner, lead.id, hana);
    // Amira, Ben, Cara, Sol, Gia, Ivan on roll; Eve through the manual group; Hana blocked.
    expect(await count(h, lead.token!)).toBe(7);
    expect(await count(h, lead.token!, { q: 'smi' })).toBe(4);
    await expectCountsMatchList(h, lead, org.organisationId, [a, b]);

    // The same lead with a role at the first school only: the second school's children drop out.
    const narrow = await createUser(h, owner, { role: 'dsl', scope: { type: 'school', id: a } });
    await addMembers(h, owner, team, [narrow.id]);
    expect(await count(h, narrow.token!)).toBe(6);
    await expectCountsMatchList(h, narrow, org.organisationId, [a, b]);

    // A child who leaves the roll leaves "All students": the count follows at once.
    const amira = (await visibleIds(h, lead.token!, { q: 'amira' }))[0]!;
    expect((await h.patch(`/api/v1/students/${amira}`, owner, { onRoll: false })).status).toBe(200);
    expect(await count(h, lead.token!)).toBe(6);
    expect(await count(h, dsl.token!)).toBe(5);
    await expectCountsMatchList(h, lead, org.organisationId, [a, b]);
  });

  it('counts a Viewer reached through rule groups, a manual group, flags and links, in their schools only', async () => {
    const { h, org, owner, a, b, child } = await twoSchools();
    const amira = await child(a, 'Amira', 'Smith', { yearGroup: 9, house: 'Red' });
    await child(a, 'Ben', 'Smithers', { yearGroup: 9, flags: ['fsm'] });
    const cara = await child(a, 'Cara', 'Jones', { yearGroup: 10, house: 'Red' });
    const dan = await child(a, 'Dan', 'Adams', { yearGroup: 10, flags: ['fsm'] });
    await child(a, 'Eve', 'Smith-Jones', { yearGroup: 9, onRoll: false });
    await child(a, 'Gia', 'Patel', { yearGroup: 9 });
    await child(a, 'Kit', 'Moss', { yearGroup: 11 });
    await child(b, 'Hana', 'Smith', { yearGroup: 9, house: 'Red' });
    const jude = await child(b, 'Jude', 'Okafor', { yearGroup: 10 });

    const viewer = await createUser(h, owner, { role: 'viewer', scope: { type: 'school', id: a } });
    const team = await createUserGroup(h, owner, 'Pastoral reviewers');
    await addMembers(h, owner, team, [viewer.id]);
    const group = (name: string, schoolId: string | null, rule: unknown) =>
      createStudentGroup(h, owner, { name, schoolId, kind: 'rule', rule });
    // Year 9 across the trust, Red house of the other school, FSM at the first school (a flag:
    // counted from its members), a manual group at the other school, a child linked to the
    // group and one linked to the Viewer alone.
    const links = [
      await group('Year 9', null, { field: 'yearGroup', op: 'eq', value: 9 }),
      await group('Red (Elm)', b, { field: 'house', op: 'eq', value: 'Red' }),
      await group('FSM', a, { field: 'flags', op: 'has', value: 'fsm' }),
      await createStudentGroup(h, owner, {
        name: 'Elm list',
        schoolId: b,
        kind: 'manual',
        studentIds: [jude],
      }),
    ];
    for (const studentGroupId of links) await linkGroup(h, owner, team, { studentGroupId });
    await linkGroup(h, owner, team, { studentId: cara });
    const direct = await h.post(`/api/v1/users/${viewer.id}/student-links`, owner, {
      studentId: dan,
    });
    expect(direct.status).toBe(201);
    await blockStudent(h, owner, viewer.id, amira);
    // Ben and Gia (year 9 on roll), Ben and Dan (FSM), Cara (linked), Dan (direct); Amira
    // blocked, Eve off roll, Kit unreached, Hana and Jude outside the Viewer's school.
    expect(await count(h, viewer.token!)).toBe(4);
    expect(await count(h, viewer.token!, { q: 'smi' })).toBe(1);
    await expectCountsMatchList(h, viewer, org.organisationId, [a, b]);

    // A role over the second school brings its reached children in, and only those.
    await h.post('/api/v1/role-grants', owner, {
      subject: { type: 'user', id: viewer.id },
      role: 'viewer',
      scope: { type: 'school', id: b },
    });
    expect(await count(h, viewer.token!)).toBe(6);
    await expectCountsMatchList(h, viewer, org.organisationId, [a, b]);

    // Leaving the group ends every group path at once; the direct link stays.
    expect((await h.delete(`/api/v1/user-groups/${team}/members/${viewer.id}`, owner)).status).toBe(
      204,
    );
    expect(await count(h, viewer.token!)).toBe(1);
    await expectCountsMatchList(h, viewer, org.organisationId, [a, b]);
  });
});
