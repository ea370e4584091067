import { describe, expect, it } from 'vitest';
import {
  countRows,
  createUser,
  grantRole,
  login,
  setupOrganisation,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

async function loginReply(h: TestHaven, email: string, password = STRONG_PASSWORD) {
  return h.post('/api/v1/auth/login', undefined, { email, password });
}

function sessionCookie(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie.join(';') : (setCookie ?? '');
  const match = /haven_session=([^;]+)/.exec(header);
  if (!match) throw new Error(`no session cookie in ${header}`);
  return match[1]!;
}

describe('sign-in and sessions', () => {
  const haven = useHaven();

  it('signs in with a password, sets an HttpOnly SameSite cookie and returns a bearer token', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const reply = await loginReply(h, org.ownerEmail);
    expect(reply.status).toBe(200);
    expect(reply.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const cookie = String(reply.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(sessionCookie(reply.headers['set-cookie'])).toBe(reply.body.token);
    const stored = await h.database.db.selectFrom('sessions').select('token_hash').execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(reply.body.token);
  });

  it('answers 401 for a wrong password or an unknown email, and 401 without a session', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const wrong = await loginReply(h, org.ownerEmail, 'not-the-right-password-1');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_credentials');
    const unknown = await loginReply(h, 'nobody@school.test');
    expect(unknown.status).toBe(401);
    expect(unknown.body.code).toBe('invalid_credentials');
    const anonymous = await h.get('/api/v1/me');
    expect(anonymous.status).toBe(401);
    const forged = await h.get('/api/v1/me', 'forged-token');
    expect(forged.status).toBe(401);
  });

  it('refuses a Member-only user with 403 no_role, and lets them in once given a role', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const member = await createUser(h, org.ownerToken);
    const refused = await loginReply(h, member.email);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('no_role');
    expect(refused.body.detail).toMatch(/no role/i);
    await grantRole(h, org.ownerToken, { type: 'user', id: member.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    expect((await loginReply(h, member.email)).status).toBe(200);
  });

  it('refuses the next request of a user whose last role was revoked', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const viewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    expect((await h.get('/api/v1/me', viewer.token)).status).toBe(200);
    const grants = await h.get('/api/v1/role-grants', org.ownerToken, { userId: viewer.id });
    expect(grants.body.items).toHaveLength(1);
    expect(
      (await h.delete(`/api/v1/role-grants/${grants.body.items[0].id}`, org.ownerToken)).status,
    ).toBe(204);
    const after = await h.get('/api/v1/me', viewer.token);
    expect(after.status).toBe(403);
    expect(after.body.code).toBe('no_role');
  });

  it('throttles an account after 10 failures in 15 minutes, even for the right password, and logs it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (let i = 0; i < 10; i++) {
      expect((await loginReply(h, org.ownerEmail, `wrong-password-${i}-xyz`)).status).toBe(401);
    }
    const throttled = await loginReply(h, org.ownerEmail);
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('too_many_attempts');
    const logged = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'organisation_id', 'meta_json'])
      .where('category', '=', 'denied')
      .execute();
    expect(logged.filter((e) => e.action === 'request.invalid_credentials')).toHaveLength(10);
    const throttleRow = logged.find((e) => e.action === 'request.too_many_attempts');
    expect(throttleRow?.organisation_id).toBe(org.organisationId);
    expect(JSON.parse(throttleRow!.meta_json!).email).toBe(org.ownerEmail);
    // Other accounts are not affected.
    const other = await createUser(h, org.ownerToken, {
      role: 'viewer',
      organisationId: org.organisationId,
    });
    expect(other.token).toBeTruthy();
  });

  it('lets the account in again once the failures are older than the window', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (let i = 0; i < 10; i++) await loginReply(h, org.ownerEmail, `wrong-password-${i}-xyz`);
    expect((await loginReply(h, org.ownerEmail)).status).toBe(429);
    await h.database.db
      .updateTable('login_attempts')
      .set({ at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .execute();
    expect((await loginReply(h, org.ownerEmail)).status).toBe(200);
  });

  it('ends the session on logout', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const token = await login(h, org.ownerEmail);
    expect((await h.post('/api/v1/auth/logout', token)).status).toBe(204);
    expect((await h.get('/api/v1/me', token)).status).toBe(401);
    expect((await h.get('/api/v1/me', org.ownerToken)).status).toBe(200);
  });

  it('expires idle sessions and sessions past their absolute limit', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const idle = await login(h, org.ownerEmail);
    const old = await login(h, org.ownerEmail);
    const sessions = await h.database.db
      .selectFrom('sessions')
      .select('id')
      .orderBy('created_at')
      .execute();
    expect(sessions.length).toBe(3);
    const [, idleSession, oldSession] = sessions;
    await h.database.db
      .updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - 31 * 60_000).toISOString() })
      .where('id', '=', idleSession!.id)
      .execute();
    await h.database.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', oldSession!.id)
      .execute();
    expect((await h.get('/api/v1/me', idle)).status).toBe(401);
    expect((await h.get('/api/v1/me', old)).status).toBe(401);
    expect((await h.get('/api/v1/me', org.ownerToken)).status).toBe(200);
  });

  it('protects cookie-authenticated changes against CSRF; bearer requests need no CSRF token', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const signIn = await loginReply(h, org.ownerEmail);
    const cookie = `haven_session=${sessionCookie(signIn.headers['set-cookie'])}`;
    const read = await h.request('GET', '/api/v1/me', { headers: { cookie } });
    expect(read.status).toBe(200);
    const body = { name: 'Renamed Trust' };
    const noToken = await h.request('PATCH', '/api/v1/organisation', { headers: { cookie }, body });
    expect(noToken.status).toBe(403);
    expect(noToken.body.code).toBe('csrf_failed');
    const badToken = await h.request('PATCH', '/api/v1/organisation', {
      headers: { cookie, 'x-csrf-token': 'guess' },
      body,
    });
    expect(badToken.status).toBe(403);
    expect((await h.get('/api/v1/organisation', org.ownerToken)).body.name).toBe('Oak Trust');
    const withToken = await h.request('PATCH', '/api/v1/organisation', {
      headers: { cookie, 'x-csrf-token': signIn.body.csrfToken },
      body,
    });
    expect(withToken.status).toBe(200);
    const bearer = await h.patch('/api/v1/organisation', org.ownerToken, { name: 'Oak Trust' });
    expect(bearer.status).toBe(200);
  });

  it('ends every session of a user at once when they are disabled, and refuses their sign-in', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      organisationId: org.organisationId,
    });
    const second = await login(h, admin.email);
    const disabled = await h.patch(`/api/v1/users/${admin.id}`, org.ownerToken, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body.status).toBe('disabled');
    expect((await h.get('/api/v1/me', admin.token)).status).toBe(401);
    expect((await h.get('/api/v1/me', second)).status).toBe(401);
    const again = await loginReply(h, admin.email);
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('account_disabled');
    const ended = await h.database.db
      .selectFrom('sessions')
      .select('end_reason')
      .where('user_id', '=', admin.id)
      .execute();
    expect(ended.map((s) => s.end_reason)).toEqual(['user_disabled', 'user_disabled']);
    // Re-enabled, they can sign in again.
    expect(
      (await h.patch(`/api/v1/users/${admin.id}`, org.ownerToken, { disabled: false })).status,
    ).toBe(200);
    expect((await loginReply(h, admin.email)).status).toBe(200);
  });

  it('ends sessions at once when a user is removed from the organisation', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const viewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      organisationId: org.organisationId,
    });
    expect((await h.delete(`/api/v1/users/${viewer.id}`, org.ownerToken)).status).toBe(204);
    expect((await h.get('/api/v1/me', viewer.token)).status).toBe(401);
    expect((await loginReply(h, viewer.email)).status).toBe(401);
    expect((await h.get(`/api/v1/users/${viewer.id}`, org.ownerToken)).status).toBe(404);
  });

  it('changes my own password, ending my other sessions', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const other = await login(h, org.ownerEmail);
    const weak = await h.post('/api/v1/me/password', org.ownerToken, {
      currentPassword: STRONG_PASSWORD,
      newPassword: 'password',
    });
    expect(weak.status).toBe(400);
    expect(weak.body.errors[0].field).toBe('newPassword');
    const wrong = await h.post('/api/v1/me/password', org.ownerToken, {
      currentPassword: 'not-my-password-at-all',
      newPassword: 'violet-Anchor-93-meadow',
    });
    expect(wrong.status).toBe(401);
    const changed = await h.post('/api/v1/me/password', org.ownerToken, {
      currentPassword: STRONG_PASSWORD,
      newPassword: 'violet-Anchor-93-meadow',
    });
    expect(changed.status).toBe(204);
    expect((await h.get('/api/v1/me', org.ownerToken)).status).toBe(200);
    expect((await h.get('/api/v1/me', other)).status).toBe(401);
    expect((await loginReply(h, org.ownerEmail, 'violet-Anchor-93-meadow')).status).toBe(200);
    expect(await countRows(h, 'users')).toBe(1);
  });
});
