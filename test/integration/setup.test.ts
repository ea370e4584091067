import { describe, expect, it } from 'vitest';
import {
  countRows,
  login,
  mfaEnrolmentNotRequired,
  setupOrganisation,
} from '../support/factories.ts';
import { STRONG_PASSWORD, useHaven } from '../support/haven.ts';

const validSetup = {
  organisationName: 'Oak Trust',
  schoolName: 'Oak Primary',
  owner: { email: 'head@oak.test', name: 'Olive Owner', password: STRONG_PASSWORD },
};

describe('first run', () => {
  const haven = useHaven();

  it('answers health without signing in', async () => {
    const reply = await haven().get('/api/v1/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok' });
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
    expect(reply.headers['content-security-policy']).toContain("default-src 'self'");
    // Refusals and unknown paths carry the same headers.
    for (const refused of [
      await haven().get('/api/v1/me'),
      await haven().get('/api/v1/nothing-here'),
    ]) {
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      expect(refused.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(refused.headers['content-security-policy']).toContain("frame-ancestors 'self'");
      expect(refused.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    }
  });

  it('creates the first organisation, school and Owner, who can sign in as Owner', async () => {
    const h = haven();
    const reply = await h.post('/api/v1/setup', undefined, validSetup);
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      organisationId: expect.any(String),
      schoolId: expect.any(String),
      ownerId: expect.any(String),
    });
    const token = await login(h, 'HEAD@oak.test');
    const me = await h.get('/api/v1/me', token);
    expect(me.status).toBe(200);
    // The first Owner holds Owner and the Safeguarding Team's clearance, and the school asks for
    // two-factor enrolment by default: that comes first (test/integration/mfa-enrolment.test.ts).
    expect(me.body.mfaEnrolmentRequired).toBe(true);
    expect((await h.get('/api/v1/schools', token)).body.code).toBe('mfa_enrolment_required');
    await mfaEnrolmentNotRequired(h, reply.body.schoolId);
    expect(me.body.id).toBe(reply.body.ownerId);
    expect(me.body.organisation).toEqual({ id: reply.body.organisationId, name: 'Oak Trust' });
    expect(me.body.roles).toEqual([
      expect.objectContaining({
        role: 'owner',
        scope: { type: 'organisation', id: reply.body.organisationId, name: 'Oak Trust' },
        source: { type: 'direct' },
      }),
    ]);
    const schools = await h.get('/api/v1/schools', token);
    expect(schools.body.items.map((s: { name: string }) => s.name)).toEqual(['Oak Primary']);
  });

  it('refuses a second setup with 409 and writes nothing', async () => {
    const h = haven();
    await setupOrganisation(h);
    const before = await countRows(h, 'organisations');
    const again = await h.post('/api/v1/setup', undefined, {
      ...validSetup,
      owner: { ...validSetup.owner, email: 'other@oak.test' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_set_up');
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(await countRows(h, 'organisations')).toBe(before);
    expect(await countRows(h, 'users')).toBe(1);
  });

  it.each([
    [{ ...validSetup, organisationName: '' }, ['organisationName']],
    [{ ...validSetup, owner: { ...validSetup.owner, email: 'not-an-email' } }, ['owner.email']],
    [{ ...validSetup, owner: { ...validSetup.owner, password: 'short' } }, ['owner.password']],
    [
      { ...validSetup, owner: { ...validSetup.owner, password: 'password1234' } },
      ['owner.password'],
    ],
    [{ schoolName: 'x' }, ['organisationName', 'owner']],
  ])(
    'refuses bad setup input %#, naming each bad field, and writes nothing',
    async (body, fields) => {
      const h = haven();
      const reply = await h.post('/api/v1/setup', undefined, body);
      expect(reply.status).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
      expect(reply.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(fields);
      expect(await countRows(h, 'organisations')).toBe(0);
      expect(await countRows(h, 'users')).toBe(0);
      expect(await countRows(h, 'audit_events')).toBe(0);
    },
  );

  it('publishes an OpenAPI 3.1 document and browsable docs', async () => {
    const h = haven();
    const doc = await h.get('/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/setup', '/api/v1/auth/login', '/api/v1/role-grants']),
    );
    const docs = await h.get('/api/docs/');
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('<html');
  });

  it('answers unknown API paths with a problem+json 404', async () => {
    const reply = await haven().get('/api/v1/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.body.code).toBe('not_found');
  });
});
