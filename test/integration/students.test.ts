import { describe, expect, it } from 'vitest';
import type { GrantableRole } from '../../src/access/roles.ts';
import { runHaven } from '../support/cli.ts';
import {
  addSchool,
  countRows,
  createStudent,
  createUser,
  createUserGroup,
  schoolDefaults,
  setupOrganisation,
  type TestOrg,
  visibleIds,
} from '../support/factories.ts';
import { type Reply, type TestHaven, useHaven } from '../support/haven.ts';

async function countStudents(h: TestHaven) {
  const row = await h.database.db
    .selectFrom('students')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

interface Row {
  permission: string;
  minimum: GrantableRole;
  below: GrantableRole;
  ok: number;
  attempt: (h: TestHaven, token: string, org: TestOrg, actorId: string) => Promise<Reply>;
}

/** Actors are in the Safeguarding Team, so they can see the children they act on. */
const rows: Row[] = [
  {
    permission: 'students.create',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: (h, t, org) =>
      h.post('/api/v1/students', t, {
        schoolId: org.schoolId,
        givenName: 'Ada',
        familyName: 'Lovelace',
      }),
  },
  {
    permission: 'students.update',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: async (h, t, org) => {
      const id = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      return h.patch(`/api/v1/students/${id}`, t, { house: 'Red' });
    },
  },
  {
    permission: 'students.delete',
    minimum: 'admin',
    below: 'viewer',
    ok: 204,
    attempt: async (h, t, org) => {
      const id = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      return h.delete(`/api/v1/students/${id}`, t);
    },
  },
  {
    permission: 'students.create (import)',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: (h, t) =>
      h.request('POST', '/api/v1/students/import', {
        token: t,
        headers: { 'content-type': 'text/csv' },
        body: 'givenName,familyName,school\nAda,Lovelace,Oak Primary\n',
      }),
  },
  {
    permission: 'student_groups.manage',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: (h, t, org) =>
      h.post('/api/v1/student-groups', t, {
        name: 'Year 3',
        schoolId: org.schoolId,
        kind: 'rule',
        rule: { field: 'yearGroup', op: 'eq', value: 3 },
      }),
  },
  {
    permission: 'students.assign_groups',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: async (h, t, org) => {
      const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      const group = (
        await h.post('/api/v1/student-groups', org.ownerToken, {
          name: 'Choir',
          schoolId: org.schoolId,
          kind: 'manual',
        })
      ).body.id;
      return h.post(`/api/v1/student-groups/${group}/students`, t, { studentIds: [child] });
    },
  },
  {
    permission: 'user_groups.manage',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: (h, t) => h.post('/api/v1/user-groups', t, { name: 'Attendance Team' }),
  },
  {
    permission: 'user_groups.manage (direct link)',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: async (h, t, org) => {
      const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      const partner = await createUser(h, org.ownerToken);
      return h.post(`/api/v1/users/${partner.id}/student-links`, t, { studentId: child });
    },
  },
  {
    permission: 'blocks.manage',
    minimum: 'deputy_dsl',
    below: 'admin',
    ok: 201,
    attempt: async (h, t, org) => {
      const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      const parent = await createUser(h, org.ownerToken);
      return h.post('/api/v1/blocks', t, { userId: parent.id, studentId: child, reason: 'parent' });
    },
  },
  {
    permission: 'reports.access_audit (who can see)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: async (h, t, org) => {
      const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      return h.get(`/api/v1/students/${child}/access`, t);
    },
  },
  {
    permission: 'reports.access_audit (explain someone else)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: async (h, t, org) => {
      const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
      return h.get('/api/v1/access/explain', t, { userId: org.ownerId, studentId: child });
    },
  },
  {
    permission: 'reports.access_audit (effective permissions of someone else)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: (h, t, org) => h.get(`/api/v1/users/${org.ownerId}/effective-permissions`, t),
  },
];

describe('permission table for students and access (spec section 2)', () => {
  const haven = useHaven();

  describe.each(rows)('$permission', (row) => {
    for (const [role, expected] of [
      [row.minimum, row.ok],
      [row.below, 403],
    ] as const) {
      it(`${expected === 403 ? 'refuses' : 'allows'} ${role}`, async () => {
        const h = haven();
        const org = await setupOrganisation(h);
        const actor = await createUser(h, org.ownerToken, {
          role,
          scope: { type: 'school', id: org.schoolId },
        });
        const { safeguardingTeamId } = await schoolDefaults(h, org.ownerToken, org.schoolId);
        await h.post(`/api/v1/user-groups/${safeguardingTeamId}/members`, org.ownerToken, {
          userIds: [actor.id],
        });
        const reply = await row.attempt(h, actor.token!, org, actor.id);
        expect(reply.status, JSON.stringify(reply.body)).toBe(expected);
        if (expected === 403) expect(reply.body.requiredRole).toBe(row.minimum);
      });
    }
  });

  it('anyone may explain their own access and read their own effective permissions', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const viewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    await h.post(`/api/v1/users/${viewer.id}/student-links`, org.ownerToken, { studentId: child });
    const self = await h.get('/api/v1/access/explain', viewer.token, {
      userId: viewer.id,
      studentId: child,
    });
    expect(self.body.allowed).toBe(true);
    expect(
      (await h.get(`/api/v1/users/${viewer.id}/effective-permissions`, viewer.token)).status,
    ).toBe(200);
  });
});

describe('students', () => {
  const haven = useHaven();

  it('derives the key stage, keeps flags and tags, pages by family name and searches names or UPN', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const created = await h.post('/api/v1/students', t, {
      schoolId: org.schoolId,
      givenName: 'Zoë',
      familyName: 'Ørsted',
      preferredName: 'Zo',
      upn: 'a123456789012',
      dateOfBirth: '2013-04-02',
      yearGroup: 8,
      house: 'Red',
      senStatus: 'K',
      flags: ['looked_after', 'fsm'],
      tags: ['choir'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      keyStage: 3,
      upn: 'A123456789012',
      flags: ['fsm', 'looked_after'],
      onRoll: true,
      revision: 1,
    });
    for (const familyName of ['Adams', 'Brown', 'Clark'])
      await createStudent(h, t, { schoolId: org.schoolId, familyName });
    const first = await h.get('/api/v1/students', t, { limit: 2 });
    expect(first.body.items.map((s: any) => s.familyName)).toEqual(['Adams', 'Brown']);
    const rest = await h.get('/api/v1/students', t, { limit: 2, cursor: first.body.nextCursor });
    expect(rest.body.items.map((s: any) => s.familyName)).toEqual(['Clark', 'Ørsted']);
    expect(rest.body.nextCursor).toBeNull();
    expect((await h.get('/api/v1/students', t, { q: 'zoe orsted' })).body.items).toHaveLength(1);
    expect((await h.get('/api/v1/students', t, { q: 'A123456789012' })).body.items).toHaveLength(1);
    expect((await h.get('/api/v1/students', t, { q: '50%_' })).body.items).toHaveLength(0);
    const updated = await h.patch(`/api/v1/students/${created.body.id}`, t, { yearGroup: 10 });
    expect(updated.body).toMatchObject({ keyStage: 4, revision: 2 });
    const log = await h.get('/api/v1/audit-log', t, {
      targetId: created.body.id,
      action: 'student.update',
    });
    expect(log.body.items[0]).toMatchObject({
      before: { yearGroup: 8, keyStage: 3 },
      after: { yearGroup: 10, keyStage: 4 },
    });
    const dup = await h.post('/api/v1/students', t, {
      schoolId: org.schoolId,
      givenName: 'A',
      familyName: 'B',
      upn: 'A123456789012',
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('upn_taken');
  });

  it('lists a search in name order, by the names as they are now', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const zara = await createStudent(h, t, {
      schoolId: org.schoolId,
      givenName: 'Zara',
      familyName: 'Smith',
    });
    const amy = await createStudent(h, t, {
      schoolId: org.schoolId,
      givenName: 'Amy',
      familyName: 'Smith',
    });
    await createStudent(h, t, { schoolId: org.schoolId, givenName: 'Sam', familyName: 'Jones' });
    const names = async (q: string) =>
      (await h.get('/api/v1/students', t, { q })).body.items.map(
        (s: any) => `${s.givenName} ${s.familyName}`,
      );
    expect(await names('smith')).toEqual(['Amy Smith', 'Zara Smith']);
    await h.patch(`/api/v1/students/${amy}`, t, { familyName: 'Smithson' });
    await h.patch(`/api/v1/students/${zara}`, t, { givenName: 'Ava' });
    expect(await names('smith')).toEqual(['Ava Smith', 'Amy Smithson']);
    // A search pages one child at a time, in the same order.
    const first = await h.get('/api/v1/students', t, { q: 's', limit: 1 });
    const second = await h.get('/api/v1/students', t, {
      q: 's',
      limit: 1,
      cursor: first.body.nextCursor,
    });
    const third = await h.get('/api/v1/students', t, {
      q: 's',
      limit: 1,
      cursor: second.body.nextCursor,
    });
    expect([first, second, third].map((r) => r.body.items[0].familyName)).toEqual([
      'Jones',
      'Smith',
      'Smithson',
    ]);
    expect(third.body.nextCursor).toBeNull();
  });

  it('refuses bad student input, naming each field, and writes nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const before = await countStudents(h);
    const bad = await h.post('/api/v1/students', t, {
      schoolId: org.schoolId,
      givenName: '',
      familyName: 'X',
      upn: 'nope',
      dateOfBirth: '2013-13-45',
      yearGroup: 20,
      senStatus: 'maybe',
      flags: ['Looked After'],
      favouriteColour: 'blue',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(
      ['body', 'dateOfBirth', 'flags.0', 'givenName', 'senStatus', 'upn', 'yearGroup'].sort(),
    );
    const elsewhere = await h.post('/api/v1/students', t, {
      schoolId: 'no-such-school',
      givenName: 'A',
      familyName: 'B',
    });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.field).toBe('schoolId');
    expect(await countStudents(h)).toBe(before);
  });

  it('imports CSV: a dry run reports every bad row by line and column, and nothing is written while any row is bad', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    await createStudent(h, t, { schoolId: org.schoolId, upn: 'B123456789012' });
    const csv = [
      'Given name,Family name,School,Year group,SEN,Flags,UPN',
      'Ada,Lovelace,Oak Primary,5,N,fsm,A123456789012',
      ',Babbage,Oak Primary,5,K,,',
      'Grace,Hopper,Elm Primary,Reception,,,',
      'Alan,Turing,Oak Primary,year 19,Z,Looked After,A123456789012',
      'Tim,Berners-Lee,Oak Primary,6,E,,B123456789012',
      'Edsger,Dijkstra,Oak Primary,R,E,eal;fsm,',
    ].join('\n');
    const send = (dryRun: boolean) =>
      h.request('POST', '/api/v1/students/import', {
        token: t,
        query: dryRun ? { dryRun: 'true' } : {},
        headers: { 'content-type': 'text/csv' },
        body: csv,
      });
    const before = await countStudents(h);
    const dry = await send(true);
    expect(dry.status).toBe(200);
    // A known UPN (line 6) is an update now, not a problem.
    expect(dry.body).toMatchObject({
      dryRun: true,
      rows: 6,
      created: 0,
      plan: { create: 2, update: 1, unchanged: 0, skip: 3 },
    });
    expect(dry.body.errors).toEqual([
      expect.objectContaining({
        line: 3,
        column: 'Given name',
        message: 'the forename is missing',
      }),
      expect.objectContaining({
        line: 4,
        column: 'School',
        message: 'there is no school called "Elm Primary" in your organisation',
      }),
      expect.objectContaining({ line: 5, column: 'Year group', message: expect.any(String) }),
      expect.objectContaining({ line: 5, column: 'SEN', message: expect.any(String) }),
      expect.objectContaining({ line: 5, column: 'Flags', message: expect.any(String) }),
      expect.objectContaining({
        line: 5,
        column: 'UPN',
        message: 'the UPN A123456789012 is also on row 2',
      }),
    ]);
    const real = await send(false);
    expect(real.status).toBe(400);
    expect(real.body.code).toBe('validation_failed');
    expect(real.body.problems).toHaveLength(6);
    expect(real.body.errors[0].field).toBe('line 3, Given name');
    expect(await countStudents(h)).toBe(before);

    const fixed = [
      'givenName,familyName,school,yearGroup,flags',
      'Ada,Lovelace,Oak Primary,5,fsm',
      'Edsger,Dijkstra,Oak Primary,R,eal;fsm',
    ].join('\n');
    const ok = await h.request('POST', '/api/v1/students/import', {
      token: t,
      headers: { 'content-type': 'text/csv' },
      body: fixed,
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ created: 2, errors: [] });
    const reception = (await h.get('/api/v1/students', t, { q: 'Dijkstra' })).body.items[0];
    expect(reception).toMatchObject({ yearGroup: 0, keyStage: 0, flags: ['eal', 'fsm'] });
  });

  it('creates a million-member group and many students from the haven CLI (here at small scale)', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/haven-cli-'));
    const fs = await import('node:fs');
    fs.writeFileSync(
      `${dir}/users.csv`,
      `email,name\n${Array.from({ length: 2500 }, (_, i) => `bulk${i}@cli.test,Bulk ${i}`).join('\n')}\n`,
    );
    fs.writeFileSync(
      `${dir}/members.csv`,
      `email\n${Array.from({ length: 2500 }, (_, i) => `bulk${i}@cli.test`).join('\n')}\n`,
    );
    fs.writeFileSync(
      `${dir}/students.csv`,
      `givenName,familyName,school,yearGroup\n${Array.from({ length: 1500 }, (_, i) => `Kid${i},Bulk${i},Oak Primary,${7 + (i % 5)}`).join('\n')}\n`,
    );
    expect(
      (
        await runHaven(h, [
          'users',
          'import',
          '--file',
          `${dir}/users.csv`,
          '--org',
          org.organisationId,
        ])
      ).out,
    ).toMatch(/^Added 2500 users/);
    const group = (
      await runHaven(h, [
        'user-groups',
        'create',
        '--name',
        'All staff',
        '--org',
        org.organisationId,
      ])
    ).out.trim();
    const added = await runHaven(h, [
      'user-groups',
      'add-members',
      '--group',
      group,
      '--file',
      `${dir}/members.csv`,
      '--org',
      org.organisationId,
    ]);
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/^Added 2500 members \(0 already members\)/);
    const again = await runHaven(h, [
      'user-groups',
      'add-members',
      '--group',
      group,
      '--file',
      `${dir}/members.csv`,
      '--org',
      org.organisationId,
    ]);
    expect(again.out).toMatch(/^Added 0 members \(2500 already members\)/);
    expect((await h.get(`/api/v1/user-groups/${group}`, org.ownerToken)).body.memberCount).toBe(
      2500,
    );
    const students = await runHaven(h, [
      'students',
      'import',
      '--file',
      `${dir}/students.csv`,
      '--org',
      org.organisationId,
    ]);
    expect(students.out).toMatch(/Added 1500 of 1500 students, 0 problems/);
    // The new students joined the school's All students group, so the Owner sees them.
    expect(await visibleIds(h, org.ownerToken)).toHaveLength(1500);
    const { allStudentsId } = await schoolDefaults(h, org.ownerToken, org.schoolId);
    expect(
      (await h.get(`/api/v1/student-groups/${allStudentsId}`, org.ownerToken)).body.memberCount,
    ).toBe(1500);
    expect((await runHaven(h, ['audit', 'verify'])).code).toBe(0);
    expect(await countRows(h, 'users')).toBe(2501);
    void createUserGroup;
  });
});

describe('student groups', () => {
  const haven = useHaven();

  it.each([
    [{ field: 'colour', op: 'eq', value: 'red' }, 'rule.field'],
    [{ field: 'house', op: 'between', value: ['A', 'B'] }, 'rule.op'],
    [{ field: 'yearGroup', op: 'eq', value: 'nine' }, 'rule.value'],
    [{ field: 'yearGroup', op: 'between', value: [9, 7] }, 'rule.value'],
    [{ all: [{ field: 'yearGroup', op: 'eq', value: 9 }, { any: [] }] }, 'rule.all.1.any'],
    [{ not: { field: 'flags', op: 'has', value: 'Looked After' } }, 'rule.not.value'],
    [{ all: [{ field: 'schoolId', op: 'eq', value: 'not-a-school' }] }, 'rule.all.0.value'],
    ['year 9', 'rule'],
  ])('refuses a malformed rule %j naming %s, and writes nothing', async (rule, field) => {
    const h = haven();
    const org = await setupOrganisation(h);
    const before = await h.get('/api/v1/student-groups', org.ownerToken);
    const reply = await h.post('/api/v1/student-groups', org.ownerToken, {
      name: 'Bad',
      schoolId: org.schoolId,
      kind: 'rule',
      rule,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
    expect(reply.body.errors.map((e: any) => e.field)).toContain(field);
    const preview = await h.post('/api/v1/student-groups/preview', org.ownerToken, {
      schoolId: org.schoolId,
      rule,
    });
    expect(preview.status).toBe(400);
    expect((await h.get('/api/v1/student-groups', org.ownerToken)).body).toEqual(before.body);
  });

  it('previews who a rule matches', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    for (const yearGroup of [7, 8, 9, 9])
      await createStudent(h, t, {
        schoolId: org.schoolId,
        yearGroup,
        senStatus: yearGroup === 9 ? 'K' : 'none',
      });
    const preview = await h.post('/api/v1/student-groups/preview', t, {
      schoolId: org.schoolId,
      rule: {
        all: [
          { field: 'senStatus', op: 'in', value: ['K', 'E'] },
          { field: 'keyStage', op: 'eq', value: 3 },
        ],
      },
    });
    expect(preview.status).toBe(200);
    expect(preview.body.count).toBe(2);
    expect(preview.body.sample).toHaveLength(2);
  });

  it('keeps manual groups to their school, and refuses members in automatic groups', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const birchChild = await createStudent(h, t, { schoolId: birch });
    const reply = await h.post('/api/v1/student-groups', t, {
      name: 'Choir',
      schoolId: org.schoolId,
      kind: 'manual',
      studentIds: [birchChild],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].field).toBe('studentIds');
    const { allStudentsId } = await schoolDefaults(h, t, org.schoolId);
    const add = await h.post(`/api/v1/student-groups/${allStudentsId}/students`, t, {
      studentIds: [birchChild],
    });
    expect(add.status).toBe(409);
    const remove = await h.delete(`/api/v1/student-groups/${allStudentsId}`, t);
    expect(remove.status).toBe(409);
    expect(remove.body.code).toBe('system_group');
  });
});
