import { describe, expect, it } from 'vitest';
import { countRows, createUser, setupOrganisation, type TestOrg } from '../support/factories.ts';
import { type Reply, type TestHaven, useHaven } from '../support/haven.ts';

interface BadRequest {
  name: string;
  send: (h: TestHaven, org: TestOrg, userId: string) => Promise<Reply>;
  fields: string[];
}

const cases: BadRequest[] = [
  {
    name: 'POST /users with a bad email and empty name',
    send: (h, org) => h.post('/api/v1/users', org.ownerToken, { email: 'not-an-email', name: '' }),
    fields: ['email', 'name'],
  },
  {
    name: 'POST /users with a weak password',
    send: (h, org) =>
      h.post('/api/v1/users', org.ownerToken, {
        email: 'weak@school.test',
        name: 'Weak',
        password: 'qwertyuiop12',
      }),
    fields: ['password'],
  },
  {
    name: 'POST /users with an unknown field',
    send: (h, org) =>
      h.post('/api/v1/users', org.ownerToken, { email: 'x@school.test', name: 'X', isAdmin: true }),
    fields: ['body'],
  },
  {
    name: 'PATCH /users/:id with a non-boolean',
    send: (h, org, userId) =>
      h.patch(`/api/v1/users/${userId}`, org.ownerToken, { disabled: 'yes' }),
    fields: ['disabled'],
  },
  {
    name: 'POST /role-grants with nonsense',
    send: (h, org) =>
      h.post('/api/v1/role-grants', org.ownerToken, {
        subject: { type: 'robot', id: '' },
        role: 'king',
        scope: { type: 'planet' },
      }),
    fields: ['role', 'scope.id', 'scope.type', 'subject.id', 'subject.type'],
  },
  {
    name: 'POST /schools with an empty name',
    send: (h, org) => h.post('/api/v1/schools', org.ownerToken, { name: '   ' }),
    fields: ['name'],
  },
  {
    name: 'POST /school-groups with schoolIds that is not a list',
    send: (h, org) =>
      h.post('/api/v1/school-groups', org.ownerToken, { name: 'Hub', schoolIds: 'all' }),
    fields: ['schoolIds'],
  },
  {
    name: 'PATCH /school-groups/:id with a bad name',
    send: (h, org) => h.patch('/api/v1/school-groups/whatever', org.ownerToken, { name: 7 }),
    fields: ['name'],
  },
  {
    name: 'PATCH /organisation with a number for a name',
    send: (h, org) => h.patch('/api/v1/organisation', org.ownerToken, { name: 5 }),
    fields: ['name'],
  },
  {
    name: 'POST /auth/login without credentials',
    send: (h) => h.post('/api/v1/auth/login', undefined, {}),
    fields: ['email', 'password'],
  },
  {
    name: 'POST /me/password without passwords',
    send: (h, org) => h.post('/api/v1/me/password', org.ownerToken, {}),
    fields: ['currentPassword', 'newPassword'],
  },
  {
    name: 'GET /users with limit 0',
    send: (h, org) => h.get('/api/v1/users', org.ownerToken, { limit: 0 }),
    fields: ['limit'],
  },
  {
    name: 'GET /users with limit over 200',
    send: (h, org) => h.get('/api/v1/users', org.ownerToken, { limit: 201 }),
    fields: ['limit'],
  },
  {
    name: 'GET /users with a forged cursor',
    send: (h, org) => h.get('/api/v1/users', org.ownerToken, { cursor: 'bm90LWEtY3Vyc29y' }),
    fields: ['cursor'],
  },
  {
    name: 'GET /audit-log with an unknown category',
    send: (h, org) => h.get('/api/v1/audit-log', org.ownerToken, { category: 'gossip' }),
    fields: ['category'],
  },
  {
    name: 'POST /users with a body that is not JSON',
    send: (h, org) =>
      h.request('POST', '/api/v1/users', {
        token: org.ownerToken,
        body: '{"email": ',
        headers: { 'content-type': 'application/json' },
      }),
    fields: ['body'],
  },
];

describe('bad input', () => {
  const haven = useHaven();

  it.each(cases)(
    '$name: a clear problem+json error and nothing written',
    async ({ send, fields }) => {
      const h = haven();
      const org = await setupOrganisation(h);
      const user = await createUser(h, org.ownerToken);
      const counts = async () =>
        Promise.all(
          (
            [
              'users',
              'audit_events',
              'role_grants',
              'schools',
              'school_groups',
              'organisations',
            ] as const
          ).map((t) => countRows(h, t)),
        );
      const before = await counts();
      const reply = await send(h, org, user.id);
      expect(reply.status, JSON.stringify(reply.body)).toBe(400);
      expect(reply.headers['content-type']).toContain('application/problem+json');
      expect(reply.body).toMatchObject({
        status: 400,
        code: 'validation_failed',
        title: 'Validation failed',
      });
      expect(reply.body.type).toContain('validation_failed');
      const named = [...new Set(reply.body.errors.map((e: { field: string }) => e.field))].sort();
      expect(named).toEqual(fields);
      for (const e of reply.body.errors) expect(e.message).toEqual(expect.any(String));
      expect(await counts()).toEqual(before);
      expect((await h.get(`/api/v1/users/${user.id}`, org.ownerToken)).body.name).toBe(user.name);
    },
  );

  it('refuses an email that is already used in the organisation, in any case', async () => {
    const h = haven();
    const oak = await setupOrganisation(h);
    const reply = await h.post('/api/v1/users', oak.ownerToken, {
      email: oak.ownerEmail.toUpperCase(),
      name: 'Copy',
    });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('email_taken');
  });
});
