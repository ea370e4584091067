import { describe, expect, it } from 'vitest';
import { createStudent, createUser, setupOrganisation } from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

async function rows(h: TestHaven, table: 'user_groups' | 'organisations' | 'students') {
  const row = await h.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

function expectRefused(reply: { status: number; body: any }, field: string) {
  expect(reply.status).toBe(400);
  expect(reply.body.code).toBe('validation_failed');
  expect(reply.body.errors).toEqual([
    { field, message: expect.stringMatching(/control character/) },
  ]);
}

describe('control characters are refused at the edge, the same on every engine', () => {
  const haven = useHaven();

  it('a NUL or other C0 character in a JSON string answers 400 naming the field; nothing is written', async () => {
    const h = haven();
    const setup = await h.post('/api/v1/setup', undefined, {
      organisationName: 'Oak Trust',
      schoolName: 'Oak Primary',
      owner: { email: 'head@oak.example', name: 'Olive\u0000Owner', password: STRONG_PASSWORD },
    });
    expectRefused(setup, 'owner.name');
    expect(await rows(h, 'organisations')).toBe(0);

    const org = await setupOrganisation(h);
    const groups = await rows(h, 'user_groups');
    for (const name of ['Year\u00009', 'Bell\u0007', 'Escape\u001b[31m', 'Rub\u007fout']) {
      expectRefused(await h.post('/api/v1/user-groups', org.ownerToken, { name }), 'name');
    }
    const nested = await h.post('/api/v1/user-groups', org.ownerToken, {
      name: 'Year 9',
      homeScope: { type: 'school', id: `${org.schoolId}\u0000` },
    });
    expectRefused(nested, 'homeScope.id');
    expect(await rows(h, 'user_groups')).toBe(groups);

    // Tabs and line breaks are ordinary text.
    const created = await h.post('/api/v1/user-groups', org.ownerToken, {
      name: 'Year 9',
      description: 'Line one\r\nLine two\twith a tab',
    });
    expect(created.status).toBe(201);
  });

  it('in the query string and route parameters too', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    expectRefused(await h.get('/api/v1/users', org.ownerToken, { q: 'ab\u0000c' }), 'q');
    expectRefused(await h.get(`/api/v1/users/abc%00def`, org.ownerToken), 'id');
    const viewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      organisationId: org.organisationId,
    });
    expect((await h.get(`/api/v1/users/${viewer.id}`, org.ownerToken)).status).toBe(200);
  });

  it('in a CSV import, while a document upload keeps its bytes', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const before = await rows(h, 'students');
    const csv = `givenName,familyName,schoolId\nAda,Love\u0000lace,${org.schoolId}\n`;
    const imported = await h.request('POST', '/api/v1/students/import', {
      token: org.ownerToken,
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    expectRefused(imported, 'body');
    expect(await rows(h, 'students')).toBe(before);

    await h.patch(`/api/v1/schools/${org.schoolId}/settings`, org.ownerToken, {
      requireMfaForSensitive: false,
    });
    const student = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    const pdf = Buffer.from('%PDF-1.4\n\u0000\u0001\u0002 binary\n%%EOF\n', 'latin1');
    const uploaded = await h.request('POST', `/api/v1/students/${student}/documents`, {
      token: org.ownerToken,
      query: { filename: 'plan.pdf' },
      headers: { 'content-type': 'application/pdf' },
      body: pdf,
    });
    expect(uploaded.status).toBe(201);
    expect(uploaded.body.size).toBe(pdf.length);
  });
});
