import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  setupOrganisation,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven } from '../support/haven.ts';
import { school } from '../support/school.ts';
import { enrolTotp, useHavenWithTotpClock } from '../support/two-factor.ts';

// Issue 12, item 7: where a school asks for it (on by default), whoever holds a clearance, or
// Deputy DSL or higher, enrols two-factor sign-in before anything else.

const WHILE_ENROLLING = new Set([
  'GET /api/v1/me',
  'POST /api/v1/me/totp',
  'POST /api/v1/me/totp/confirm',
  'POST /api/v1/auth/logout',
]);

function signIn(h: TestHaven, email: string) {
  return h.post('/api/v1/auth/login', undefined, { email, password: STRONG_PASSWORD });
}

async function requireEnrolment(h: TestHaven, token: string, schoolId: string, on = true) {
  const reply = await h.patch(`/api/v1/schools/${schoolId}/settings`, token, {
    requireMfaEnrolment: on,
  });
  expect(reply.status).toBe(200);
  return reply.body;
}

describe('two-factor enrolment required by the school', () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('a DSL without TOTP signs in to enrolment only; every other route is refused until it is confirmed', async () => {
    const h = haven();
    const s = await school(h);
    await requireEnrolment(h, s.t, s.org.schoolId);
    const dsl = s.users.dsl;

    const login = await signIn(h, dsl.email);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      token: expect.any(String),
      mfaEnrolmentRequired: true,
      user: { id: dsl.id, mfaEnrolmentRequired: true, totpStatus: 'off' },
    });
    const token: string = login.body.token;
    const me = await h.get('/api/v1/me', token);
    expect(me.status).toBe(200);
    expect(me.body.mfaEnrolmentRequired).toBe(true);

    // Every route in the API description but the four, whatever it needs and whatever it is sent
    // (the public ones, which answer without a session, aside).
    const openapi = (await h.get('/api/v1/openapi.json')).body;
    const routes = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.length).toBeGreaterThan(60);
    const answered: string[] = [];
    for (const route of routes) {
      if (WHILE_ENROLLING.has(route)) continue;
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{[^}]+\}/g, s.org.schoolId);
      const body = method === 'GET' || method === 'DELETE' ? {} : { body: {} };
      if ((await h.request(method, url, body)).status !== 401) continue;
      const reply = await h.request(method, url, { token, ...body });
      if (reply.status !== 403 || reply.body.code !== 'mfa_enrolment_required')
        answered.push(`${route}: ${reply.status} ${reply.body?.code ?? ''}`);
    }
    expect(answered).toEqual([]);
    const refused = await h.get('/api/v1/incidents', token);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.detail).toMatch(/two-factor/);

    // Enrolling is allowed, and confirming lifts the restriction for this very session.
    await enrolTotp(h, token, clock);
    expect((await h.get('/api/v1/me', token)).body.mfaEnrolmentRequired).toBe(false);
    expect((await h.get('/api/v1/incidents', token)).status).toBe(200);
    // From now on sign-in asks for a code, and is not restricted.
    expect((await signIn(h, dsl.email)).body.code).toBe('totp_required');
  });

  it('a restricted session may sign out', async () => {
    const h = haven();
    const s = await school(h);
    await requireEnrolment(h, s.t, s.org.schoolId);
    const { token } = (await signIn(h, s.users.dsl.email)).body;
    expect((await h.post('/api/v1/auth/logout', token)).status).toBe(204);
    expect((await h.get('/api/v1/me', token)).status).toBe(401);
  });

  it('with the setting off, the same DSL signs in as before', async () => {
    const h = haven();
    const s = await school(h);
    const login = await signIn(h, s.users.dsl.email);
    expect(login.body.mfaEnrolmentRequired).toBe(false);
    expect(login.body.user.mfaEnrolmentRequired).toBe(false);
    expect((await h.get('/api/v1/incidents', login.body.token)).status).toBe(200);
  });

  it('a Viewer or an Admin with no clearance is never asked', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    await requireEnrolment(h, s.t, s.org.schoolId);
    for (const email of [s.users.viewer.email, admin.email]) {
      const login = await signIn(h, email);
      expect(login.body.mfaEnrolmentRequired).toBe(false);
      expect((await h.get('/api/v1/students', login.body.token)).status).toBe(200);
    }
  });

  it('a role asks only where its grant covers a school that asks; a clearance wherever one does', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { role: 'admin', organisationId: s.org.organisationId });
    const birch = await addSchool(h, s.t, 'Birch Academy');
    const deputy = await createUser(h, s.t, { role: 'deputy_dsl', scope: s.atSchool });
    const birchDeputy = await createUser(h, s.t, {
      role: 'deputy_dsl',
      scope: { type: 'school', id: birch },
    });
    const cleared = await createUserGroup(h, s.t, 'Pastoral leads');
    await h.put(`/api/v1/user-groups/${cleared}/clearances`, s.t, {
      clearances: ['child_protection'],
    });
    await addMembers(h, s.t, cleared, [s.users.colleague.id]);
    // Birch asks; Oak does not.
    await requireEnrolment(h, admin.token!, birch);
    // Deputy DSL at Oak: not restricted. At Birch: restricted.
    expect((await signIn(h, deputy.email)).body.mfaEnrolmentRequired).toBe(false);
    expect((await signIn(h, birchDeputy.email)).body.mfaEnrolmentRequired).toBe(true);
    // A Viewer at Oak holding the child-protection clearance: a school asks, so restricted; the
    // Viewer beside them without it is not.
    expect((await signIn(h, s.users.colleague.email)).body.mfaEnrolmentRequired).toBe(true);
    expect((await signIn(h, s.users.viewer.email)).body.mfaEnrolmentRequired).toBe(false);
    // The Owner's grant covers Birch: restricted too.
    expect((await h.get('/api/v1/students', s.t)).body.code).toBe('mfa_enrolment_required');
  });

  it('turning the setting on restricts open sessions from their next request; off lifts it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);
    await requireEnrolment(h, admin.token!, org.schoolId);
    // The Owner signed in before; their session is held to the rule now.
    const refused = await h.get('/api/v1/users', org.ownerToken);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('mfa_enrolment_required');
    expect((await h.get('/api/v1/me', org.ownerToken)).body.mfaEnrolmentRequired).toBe(true);
    await requireEnrolment(h, admin.token!, org.schoolId, false);
    expect((await h.get('/api/v1/users', org.ownerToken)).status).toBe(200);
  });
});

describe('school settings (PATCH /schools/:id/settings)', () => {
  const { haven } = useHavenWithTotpClock();

  it('an Admin at the school changes them; a Viewer, or an Admin elsewhere, is refused', async () => {
    const h = haven();
    const s = await school(h);
    const birch = await addSchool(h, s.t, 'Birch Academy');
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    const birchAdmin = await createUser(h, s.t, {
      role: 'admin',
      scope: { type: 'school', id: birch },
    });
    const url = `/api/v1/schools/${s.org.schoolId}/settings`;
    const changed = await h.patch(url, admin.token, { digestTime: '07:30' });
    expect(changed.status).toBe(200);
    // The settings named change; the others keep what they were.
    expect(changed.body).toEqual({
      requireMfaForSensitive: false,
      requireMfaEnrolment: false,
      digestTime: '07:30',
      retentionYears: 6,
    });
    const asViewer = await h.patch(url, s.users.viewer.token, { digestTime: '08:00' });
    expect(asViewer.status).toBe(403);
    expect(asViewer.body).toMatchObject({ code: 'forbidden', requiredRole: 'admin' });
    const elsewhere = await h.patch(url, birchAdmin.token, { digestTime: '08:00' });
    expect(elsewhere.status).toBe(403);
    expect((await h.get(url, s.users.viewer.token)).body.digestTime).toBe('07:30');
    expect((await h.get(`/api/v1/schools/${s.org.schoolId}`, admin.token)).body.settings).toEqual(
      changed.body,
    );
    // The notification worker reads the stored JSON itself.
    const stored = await h.database.db
      .selectFrom('schools')
      .select('settings')
      .where('id', '=', s.org.schoolId)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(stored.settings).digestTime).toBe('07:30');
  });

  it('answers the defaults for a school that never set them, and refuses bad values', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    // A new school, as made (the Owner who made it must now enrol: Birch asks).
    const birch = (await h.post('/api/v1/schools', s.t, { name: 'Birch Academy' })).body.id;
    const fresh = await h.get(`/api/v1/schools/${birch}/settings`, s.users.viewer.token);
    expect(fresh.body).toEqual({
      requireMfaForSensitive: true,
      requireMfaEnrolment: true,
      digestTime: '16:00',
      retentionYears: 6,
    });
    const url = `/api/v1/schools/${s.org.schoolId}/settings`;
    for (const body of [
      {},
      { digestTime: '24:00' },
      { digestTime: '7:30' },
      { digestTime: '16:00:00' },
      { requireMfaEnrolment: 'yes' },
      { somethingElse: true },
    ]) {
      const reply = await h.patch(url, admin.token, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.code).toBe('validation_failed');
    }
    expect((await h.patch(url, admin.token, { digestTime: '23:59' })).status).toBe(200);
    expect((await h.patch(url, admin.token, { digestTime: '00:00' })).status).toBe(200);
  });
});
