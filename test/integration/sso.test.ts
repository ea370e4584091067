import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey, loadSecretKey } from '../../src/modules/documents/keys.ts';
import { openClientSecret } from '../../src/modules/sso/client-secret.ts';
import {
  addSchool,
  createUser,
  grantRole,
  login,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';
import { completeAtProvider, type OidcAccount, TestOidcProvider } from '../support/oidc.ts';
import { logConcern, school } from '../support/school.ts';

/**
 * Single sign-on end to end (issue 13, item 4) against a real OpenID provider (`oidc-provider`)
 * on a loopback port: Haven's start redirects to it, it signs in the account the test chose and
 * sends the browser back with a code, and Haven's callback exchanges it over real HTTP.
 */
const PUBLIC_URL = 'http://haven.test';
/** Each provider has its own callback; the test provider allows them all. */
const callbackOf = (providerId: string) => `${PUBLIC_URL}/api/v1/auth/oidc/${providerId}/callback`;

let idp: TestOidcProvider;
beforeAll(async () => {
  idp = await TestOidcProvider.start({ redirectUris: [`${PUBLIC_URL}/api/v1/auth/oidc/*`] });
});
afterAll(async () => {
  await idp?.stop();
});

function cookieFrom(setCookie: string | string[] | undefined, name: string): string | undefined {
  const headers = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  for (const header of headers) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(header);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

function cookieHeader(setCookie: string | string[] | undefined, name: string): string {
  const headers = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return headers.find((h) => h.startsWith(`${name}=`)) ?? '';
}

interface Started {
  /** The provider's authorization URL. */
  location: string;
  /** The browser's binding cookie, as set by the start. */
  browser: string;
}

async function startSignIn(h: TestHaven, providerId: string): Promise<Started> {
  const reply = await h.get(`/api/v1/auth/oidc/${providerId}/start`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(302);
  const browser = cookieFrom(reply.headers['set-cookie'], 'haven_sso');
  expect(browser).toBeTruthy();
  return { location: String(reply.headers.location), browser: browser! };
}

interface Finished {
  status: number;
  location: string;
  /** The `sso_error` the browser is sent back to the sign-in page with, if any. */
  error: string | null;
  session: string | undefined;
}

async function callback(h: TestHaven, url: URL, browser: string | undefined): Promise<Finished> {
  expect(url.href).toMatch(new RegExp(`^${PUBLIC_URL}/api/v1/auth/oidc/[^/]+/callback\\?`));
  const reply = await h.request('GET', `${url.pathname}${url.search}`, {
    headers: browser ? { cookie: `haven_sso=${browser}` } : {},
  });
  const location = String(reply.headers.location ?? '');
  return {
    status: reply.status,
    location,
    error: location.startsWith('/sign-in?')
      ? new URLSearchParams(location.slice('/sign-in?'.length)).get('sso_error')
      : null,
    session: cookieFrom(reply.headers['set-cookie'], 'haven_session'),
  };
}

/** A whole sign-in as a browser makes it: Haven, the provider, and back to Haven. */
async function signIn(h: TestHaven, providerId: string, account: OidcAccount): Promise<Finished> {
  idp.setAccount(account);
  const started = await startSignIn(h, providerId);
  return callback(h, await completeAtProvider(started.location), started.browser);
}

async function meWithCookie(h: TestHaven, session: string) {
  return h.request('GET', '/api/v1/me', { headers: { cookie: `haven_session=${session}` } });
}

function oidcProvider(extra: Record<string, unknown> = {}) {
  return {
    kind: 'oidc',
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    allowedDomains: ['school.test'],
    ...extra,
  };
}

const SETTINGS = { passwordSignIn: true, createAccounts: false, acceptProviderMfa: false };

/** Puts the provider (and settings) in place for the organisation; answers the provider's id. */
async function configure(
  h: TestHaven,
  token: string,
  settings: Partial<typeof SETTINGS> = {},
  provider: Record<string, unknown> = {},
): Promise<string> {
  const reply = await h.put('/api/v1/organisation/sso', token, {
    providers: [oidcProvider(provider)],
    ...SETTINGS,
    ...settings,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.providers[0].id;
}

let subjects = 0;
function subject(): string {
  subjects += 1;
  return `subject-${process.pid}-${subjects}`;
}

async function auditActions(h: TestHaven, organisationId: string): Promise<string[]> {
  const rows = await h.database.db
    .selectFrom('audit_events')
    .select('action')
    .where('organisation_id', '=', organisationId)
    .orderBy('seq')
    .execute();
  return rows.map((r) => r.action);
}

describe('single sign-on: settings', () => {
  const haven = useHaven({ HAVEN_PUBLIC_URL: PUBLIC_URL, HAVEN_OIDC_ALLOW_HTTP: 'true' });

  it('never answers the client secret, keeps it sealed at rest, and keeps it when a PUT leaves it out', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const providerId = await configure(h, org.ownerToken);

    const read = await h.get('/api/v1/organisation/sso', org.ownerToken);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(idp.clientSecret);
    expect(read.body).toMatchObject({
      providers: [
        {
          id: providerId,
          kind: 'oidc',
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecretSet: true,
          allowedDomains: ['school.test'],
          startUrl: `/api/v1/auth/oidc/${providerId}/start`,
          redirectUri: callbackOf(providerId),
        },
      ],
      ...SETTINGS,
    });

    const row = await h.database.db
      .selectFrom('sso_providers')
      .selectAll()
      .where('id', '=', providerId)
      .executeTakeFirstOrThrow();
    expect(row.client_secret.startsWith('v1.')).toBe(true);
    expect(row.client_secret).not.toContain(idp.clientSecret);
    const key = deriveKey(
      loadSecretKey({ secretKey: h.config.secretKey, dataDir: h.config.dataDir }),
      'sso',
    );
    expect(openClientSecret(key, org.organisationId, providerId, row.client_secret)).toBe(
      idp.clientSecret,
    );
    // Bound to the organisation and provider: copied elsewhere it does not open.
    expect(() => openClientSecret(key, org.organisationId, 'another', row.client_secret)).toThrow();
    // Not sealed under the TOTP subkey.
    const totpKey = deriveKey(
      loadSecretKey({ secretKey: h.config.secretKey, dataDir: h.config.dataDir }),
      'totp',
    );
    expect(() =>
      openClientSecret(totpKey, org.organisationId, providerId, row.client_secret),
    ).toThrow();

    // A PUT naming the provider without a secret keeps the sealed one.
    const { clientSecret: _secret, ...withoutSecret } = oidcProvider({
      id: providerId,
      label: 'Trust sign-in',
      // As the GET answers it.
      tenantId: null,
    });
    const kept = await h.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [withoutSecret],
      ...SETTINGS,
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.providers[0]).toMatchObject({ id: providerId, label: 'Trust sign-in' });
    const after = await h.database.db
      .selectFrom('sso_providers')
      .select('client_secret')
      .where('id', '=', providerId)
      .executeTakeFirstOrThrow();
    expect(after.client_secret).toBe(row.client_secret);

    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['before_json', 'after_json'])
      .where('action', '=', 'organisation.sso')
      .execute();
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(idp.clientSecret);
    expect(JSON.stringify(audit)).not.toContain(row.client_secret);
  });

  it('is the Owner’s alone: an Admin of the organisation is refused 403, reading and writing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      organisationId: org.organisationId,
    });
    expect((await h.get('/api/v1/organisation/sso', admin.token)).status).toBe(403);
    const put = await h.put('/api/v1/organisation/sso', admin.token, {
      providers: [oidcProvider()],
      ...SETTINGS,
    });
    expect(put.status).toBe(403);
    expect(await h.database.db.selectFrom('sso_providers').select('id').execute()).toEqual([]);
    expect((await h.get('/api/v1/organisation/sso', org.ownerToken)).status).toBe(200);
    expect((await h.get('/api/v1/organisation/sso')).status).toBe(401);
  });

  it('validates the providers: presets, issuers, domains and secrets', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const put = (provider: Record<string, unknown>) =>
      h.put('/api/v1/organisation/sso', org.ownerToken, { providers: [provider], ...SETTINGS });
    const fieldOf = (reply: { body: any }) =>
      (reply.body.errors ?? []).map((e: { field: string }) => e.field);

    // Microsoft from a tenant id; Google's issuer is fixed.
    const tenant = '7d3f0c52-1e2a-4b8e-9c0d-2f4a6b8c0e1f';
    const presets = await h.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [
        {
          kind: 'microsoft',
          tenantId: tenant,
          clientId: 'app',
          clientSecret: 's',
          allowedDomains: ['School.Test'],
        },
        { kind: 'google', clientId: 'g', clientSecret: 's', allowedDomains: ['school.test'] },
      ],
      ...SETTINGS,
    });
    expect(presets.status, JSON.stringify(presets.body)).toBe(200);
    expect(presets.body.providers.map((p: any) => [p.kind, p.issuer, p.allowedDomains])).toEqual([
      ['microsoft', `https://login.microsoftonline.com/${tenant}/v2.0`, ['school.test']],
      ['google', 'https://accounts.google.com', ['school.test']],
    ]);

    const microsoftByName = await put({
      kind: 'microsoft',
      tenantId: 'school.onmicrosoft.com',
      clientId: 'a',
      clientSecret: 's',
      allowedDomains: ['school.test'],
    });
    expect(microsoftByName.status).toBe(400);
    expect(fieldOf(microsoftByName)).toEqual(['providers.0.tenantId']);

    const noDomains = await put(oidcProvider({ allowedDomains: [] }));
    expect(noDomains.status).toBe(400);
    expect(fieldOf(noDomains)).toEqual(['providers.0.allowedDomains']);

    const badDomain = await put(oidcProvider({ allowedDomains: ['@school.test'] }));
    expect(badDomain.status).toBe(400);

    const noIssuer = await put(oidcProvider({ issuer: undefined }));
    expect(noIssuer.status).toBe(400);
    expect(fieldOf(noIssuer)).toEqual(['providers.0.issuer']);

    // Plain http only on a loopback address, even with HAVEN_OIDC_ALLOW_HTTP.
    const httpElsewhere = await put(oidcProvider({ issuer: 'http://idp.example.org' }));
    expect(httpElsewhere.status).toBe(400);
    expect(fieldOf(httpElsewhere)).toEqual(['providers.0.issuer']);

    const googleElsewhere = await put({
      kind: 'google',
      issuer: 'https://evil.example.org',
      clientId: 'g',
      clientSecret: 's',
      allowedDomains: ['school.test'],
    });
    expect(googleElsewhere.status).toBe(400);

    const { clientSecret: _s, ...noSecret } = oidcProvider();
    const newWithoutSecret = await put(noSecret);
    expect(newWithoutSecret.status).toBe(400);
    expect(fieldOf(newWithoutSecret)).toEqual(['providers.0.clientSecret']);
  });

  it('refuses an http issuer when HAVEN_OIDC_ALLOW_HTTP is not set', async () => {
    const h = haven();
    // The same test file's Haven allows it; this one is built without the setting.
    const { startHaven } = await import('../support/haven.ts');
    const strict = await startHaven({ HAVEN_PUBLIC_URL: PUBLIC_URL });
    try {
      const org = await setupOrganisation(strict);
      const reply = await strict.put('/api/v1/organisation/sso', org.ownerToken, {
        providers: [oidcProvider()],
        ...SETTINGS,
      });
      expect(reply.status).toBe(400);
      expect(reply.body.detail).toMatch(/https/);
    } finally {
      await strict.close();
    }
    expect(h).toBeTruthy();
  });

  it('does not let an Owner name another organisation’s provider, nor sign in there with it', async () => {
    const h = haven();
    const first = await setupOrganisation(h);
    const second = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm' });
    const firstProvider = await configure(h, first.ownerToken);

    const taken = await h.put('/api/v1/organisation/sso', second.ownerToken, {
      providers: [oidcProvider({ id: firstProvider, clientSecret: undefined })],
      ...SETTINGS,
    });
    expect(taken.status).toBe(404);
    const stillFirst = await h.database.db
      .selectFrom('sso_providers')
      .select(['id', 'organisation_id'])
      .execute();
    expect(stillFirst).toEqual([{ id: firstProvider, organisation_id: first.organisationId }]);

    // The second organisation's Owner has the same address domain: the first organisation's
    // provider signs in nobody of the second.
    const result = await signIn(h, firstProvider, {
      sub: subject(),
      email: second.ownerEmail,
      email_verified: true,
    });
    expect(result.error).toBe('sso_no_account');
    expect(result.session).toBeUndefined();
  });
});

describe('single sign-on: signing in', () => {
  const haven = useHaven({ HAVEN_PUBLIC_URL: PUBLIC_URL, HAVEN_OIDC_ALLOW_HTTP: 'true' });

  async function setUp(h: TestHaven, settings: Partial<typeof SETTINGS> = {}) {
    const org = await setupOrganisation(h);
    const providerId = await configure(h, org.ownerToken, settings);
    const teacher = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    return { org, providerId, teacher };
  }

  it('signs in end to end: redirects with PKCE, state and nonce, and the session cookie works on /me', async () => {
    const h = haven();
    const { org, providerId, teacher } = await setUp(h);

    const start = await h.get(`/api/v1/auth/oidc/${providerId}/start`);
    expect(start.status).toBe(302);
    const authorize = new URL(String(start.headers.location));
    expect(authorize.origin).toBe(idp.issuer);
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      client_id: idp.clientId,
      redirect_uri: callbackOf(providerId),
      response_type: 'code',
      code_challenge_method: 'S256',
      scope: 'openid email profile',
    });
    for (const p of ['code_challenge', 'state', 'nonce'])
      expect(authorize.searchParams.get(p)).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const binding = cookieHeader(start.headers['set-cookie'], 'haven_sso');
    expect(binding).toMatch(/HttpOnly/);
    expect(binding).toMatch(/SameSite=Lax/);
    expect(binding).toContain(`Path=/api/v1/auth/oidc/${providerId}/callback`);
    expect(binding).toMatch(/Max-Age=600/);
    // Kept server-side as hashes: neither the state nor the browser's secret is in the table.
    const pending = await h.database.db.selectFrom('sso_sign_ins').selectAll().execute();
    expect(pending).toHaveLength(1);
    expect(JSON.stringify(pending)).not.toContain(authorize.searchParams.get('state')!);
    expect(JSON.stringify(pending)).not.toContain(
      cookieFrom(start.headers['set-cookie'], 'haven_sso')!,
    );

    idp.setAccount({ sub: subject(), email: teacher.email, email_verified: true });
    const back = await completeAtProvider(authorize.href);
    const done = await callback(h, back, cookieFrom(start.headers['set-cookie'], 'haven_sso'));
    expect(done.error).toBeNull();
    expect(done.status).toBe(302);
    expect(done.location).toBe('/');
    expect(done.session).toBeTruthy();

    const me = await meWithCookie(h, done.session!);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: teacher.id, email: teacher.email, mfaAt: null });
    expect(me.body.csrfToken).toBeTruthy();

    const user = await h.database.db
      .selectFrom('users')
      .select(['activated_at', 'last_sign_in_at'])
      .where('id', '=', teacher.id)
      .executeTakeFirstOrThrow();
    expect(user.last_sign_in_at).toBeTruthy();
    expect(user.activated_at).toBeTruthy();
    const actions = await auditActions(h, org.organisationId);
    expect(actions.filter((a) => a.startsWith('auth.')).slice(-2)).toEqual([
      'auth.sso.linked',
      'auth.login',
    ]);
    const loginRow = await h.database.db
      .selectFrom('audit_events')
      .select(['meta_json', 'actor_user_id'])
      .where('action', '=', 'auth.login')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(loginRow.actor_user_id).toBe(teacher.id);
    expect(JSON.parse(loginRow.meta_json!)).toMatchObject({ method: 'sso', providerId });
  });

  it('links by the verified email the first time, then by the provider’s sub', async () => {
    const h = haven();
    const { org, providerId, teacher } = await setUp(h);
    const sub = subject();

    const first = await signIn(h, providerId, { sub, email: teacher.email, email_verified: true });
    expect(first.error).toBeNull();
    const links = await h.database.db.selectFrom('sso_links').selectAll().execute();
    expect(links).toMatchObject([
      {
        provider_id: providerId,
        subject: sub,
        user_id: teacher.id,
        organisation_id: org.organisationId,
      },
    ]);

    // The address changed at the provider (a new surname), and is not verified there yet: the
    // same person still, by their `sub`.
    const second = await signIn(h, providerId, {
      sub,
      email: 'renamed@school.test',
      email_verified: false,
    });
    expect(second.error).toBeNull();
    expect((await meWithCookie(h, second.session!)).body.id).toBe(teacher.id);

    // Someone else at the provider with the teacher's address, now that the teacher is linked,
    // is matched by email too: the provider vouches for it.
    const other = await signIn(h, providerId, {
      sub: subject(),
      email: teacher.email,
      email_verified: true,
    });
    expect(other.error).toBeNull();
    expect(await h.database.db.selectFrom('sso_links').select('subject').execute()).toHaveLength(2);
  });

  it('refuses an address outside the allowed domains, even one with an account', async () => {
    const h = haven();
    const { org, providerId } = await setUp(h);
    const outside = await h.post('/api/v1/users', org.ownerToken, {
      email: 'ann@elsewhere.test',
      name: 'Ann Elsewhere',
      password: STRONG_PASSWORD,
    });
    expect(outside.status).toBe(201);
    await grantRole(h, org.ownerToken, { type: 'user', id: outside.body.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    const result = await signIn(h, providerId, {
      sub: subject(),
      email: 'ann@elsewhere.test',
      email_verified: true,
    });
    expect(result).toMatchObject({ status: 302, error: 'sso_domain', session: undefined });
    expect(await h.database.db.selectFrom('sso_links').select('subject').execute()).toEqual([]);
    // The refusal is written to the organisation's audit log.
    expect(await auditActions(h, org.organisationId)).toContain('request.sso_domain');
  });

  it('refuses an email the provider does not say is verified', async () => {
    const h = haven();
    const { providerId, teacher } = await setUp(h);
    const unverified = await signIn(h, providerId, {
      sub: subject(),
      email: teacher.email,
      email_verified: false,
    });
    expect(unverified).toMatchObject({ error: 'sso_unverified_email', session: undefined });
    const unsaid = await signIn(h, providerId, { sub: subject(), email: teacher.email });
    expect(unsaid.error).toBe('sso_unverified_email');
    expect(await h.database.db.selectFrom('sso_links').select('subject').execute()).toEqual([]);
  });

  it('refuses a tampered state, and an answer brought to another browser (login CSRF)', async () => {
    const h = haven();
    const { providerId, teacher } = await setUp(h);
    idp.setAccount({ sub: subject(), email: teacher.email, email_verified: true });
    const started = await startSignIn(h, providerId);
    const back = await completeAtProvider(started.location);

    const tampered = new URL(back);
    tampered.searchParams.set('state', `${back.searchParams.get('state')}x`);
    expect((await callback(h, tampered, started.browser)).error).toBe('sso_state');

    // The attacker's own answer in the victim's browser, or a stolen one in the attacker's:
    // without this browser's cookie, or with another, it is refused.
    expect((await callback(h, back, undefined)).error).toBe('sso_state');
    const elsewhere = await startSignIn(h, providerId);
    expect((await callback(h, back, elsewhere.browser)).error).toBe('sso_state');

    // The genuine browser still finishes: the refusals spent nothing.
    const genuine = await callback(h, back, started.browser);
    expect(genuine.error).toBeNull();
    expect((await meWithCookie(h, genuine.session!)).body.id).toBe(teacher.id);
  });

  it('takes an answer only at the callback of the provider the sign-in was started with (no mix-up)', async () => {
    const h = haven();
    const { providerId, teacher } = await setUp(h);
    // Another organisation's Owner runs a provider of their own on this installation.
    const other = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm' });
    const theirs = await configure(h, other.ownerToken, {}, { allowedDomains: ['elm.test'] });
    expect(theirs).not.toBe(providerId);

    // The victim is sent to start at their provider, which passes them on to this school's
    // provider: the answer (code and state) arrives at this school's callback.
    idp.setAccount({ sub: subject(), email: teacher.email, email_verified: true });
    const started = await startSignIn(h, theirs);
    const back = await completeAtProvider(started.location);
    expect(back.pathname).toBe(`/api/v1/auth/oidc/${theirs}/callback`);
    const mixed = new URL(callbackOf(providerId));
    mixed.search = back.search;
    // Even with the binding cookie (a browser sends it only to the provider's own callback).
    const refused = await callback(h, mixed, started.browser);
    expect(refused).toMatchObject({ error: 'sso_state', session: undefined });
    // And the answer is spent: it does not sign anyone in at the right callback afterwards.
    expect((await callback(h, back, started.browser)).error).toBe('sso_state');
    const rows = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'meta_json'])
      .where('organisation_id', '=', other.organisationId)
      .where('meta_json', 'like', '%another provider%')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('takes each answer once: a replayed callback, or a code brought to a new sign-in, is refused', async () => {
    const h = haven();
    const { providerId, teacher } = await setUp(h);
    idp.setAccount({ sub: subject(), email: teacher.email, email_verified: true });
    const started = await startSignIn(h, providerId);
    const back = await completeAtProvider(started.location);
    // The same answer twice at once: one of them signs in.
    const both = await Promise.all([
      callback(h, back, started.browser),
      callback(h, back, started.browser),
    ]);
    expect(both.map((b) => b.error).sort()).toEqual([null, 'sso_state'].sort());
    const replay = await callback(h, back, started.browser);
    expect(replay).toMatchObject({ error: 'sso_state', session: undefined });

    // The spent code with the state of a fresh sign-in: the provider refuses it (used, and the
    // fresh sign-in's PKCE verifier is not the one it was issued for).
    const fresh = await startSignIn(h, providerId);
    const replayedCode = new URL(callbackOf(providerId));
    replayedCode.searchParams.set('code', back.searchParams.get('code')!);
    replayedCode.searchParams.set('state', new URL(fresh.location).searchParams.get('state')!);
    replayedCode.searchParams.set('iss', idp.issuer);
    const refused = await callback(h, replayedCode, fresh.browser);
    expect(refused).toMatchObject({ error: 'sso_failed', session: undefined });
    expect(
      await h.database.db
        .selectFrom('sessions')
        .select('id')
        .where('user_id', '=', teacher.id)
        .execute(),
    ).toHaveLength(2);
  });

  it('refuses a sign-in finished after its ten minutes', async () => {
    const h = haven();
    const { providerId, teacher } = await setUp(h);
    idp.setAccount({ sub: subject(), email: teacher.email, email_verified: true });
    const started = await startSignIn(h, providerId);
    const back = await completeAtProvider(started.location);
    await h.database.db
      .updateTable('sso_sign_ins')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    expect((await callback(h, back, started.browser)).error).toBe('sso_expired');
  });

  it('refuses a disabled account', async () => {
    const h = haven();
    const { org, providerId, teacher } = await setUp(h);
    expect(
      (await h.patch(`/api/v1/users/${teacher.id}`, org.ownerToken, { disabled: true })).status,
    ).toBe(200);
    const result = await signIn(h, providerId, {
      sub: subject(),
      email: teacher.email,
      email_verified: true,
    });
    expect(result).toMatchObject({ error: 'sso_disabled', session: undefined });
  });

  it('honours the provider’s multi-factor claim (amr) only when the organisation accepts it', async () => {
    const h = haven();
    const { org, providerId, teacher } = await setUp(h);
    const sub = subject();
    const account = { sub, email: teacher.email, email_verified: true };

    const notAccepted = await signIn(h, providerId, { ...account, amr: ['pwd', 'mfa'] });
    expect((await meWithCookie(h, notAccepted.session!)).body.mfaAt).toBeNull();

    await configure(
      h,
      org.ownerToken,
      { acceptProviderMfa: true },
      { id: providerId, clientSecret: undefined },
    );
    const accepted = await signIn(h, providerId, { ...account, amr: ['pwd', 'mfa'] });
    const mfaAt = (await meWithCookie(h, accepted.session!)).body.mfaAt;
    expect(mfaAt).toEqual(expect.any(String));
    expect(Date.now() - Date.parse(mfaAt)).toBeLessThan(60_000);

    const twoKinds = await signIn(h, providerId, { ...account, amr: ['pwd', 'otp'] });
    expect((await meWithCookie(h, twoKinds.session!)).body.mfaAt).toEqual(expect.any(String));

    const passwordOnly = await signIn(h, providerId, { ...account, amr: ['pwd'] });
    expect((await meWithCookie(h, passwordOnly.session!)).body.mfaAt).toBeNull();
    const twoOfAKind = await signIn(h, providerId, { ...account, amr: ['pwd', 'pin'] });
    expect((await meWithCookie(h, twoOfAKind.session!)).body.mfaAt).toBeNull();
    const none = await signIn(h, providerId, account);
    expect((await meWithCookie(h, none.session!)).body.mfaAt).toBeNull();
  });

  it('lets a DSL read a child-protection record after the provider’s multi-factor sign-in only when accepted', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const cp = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const providerId = await configure(h, s.t);
    const account = {
      sub: subject(),
      email: s.users.dsl.email,
      email_verified: true,
      amr: ['pwd', 'mfa'],
    };
    const read = (session: string) =>
      h.request('GET', `/api/v1/incidents/${cp}`, {
        headers: { cookie: `haven_session=${session}` },
      });

    const notAccepted = await signIn(h, providerId, account);
    const held = await read(notAccepted.session!);
    expect(held.status).toBe(403);
    expect(held.body.code).toBe('mfa_required');

    await configure(
      h,
      s.t,
      { acceptProviderMfa: true },
      { id: providerId, clientSecret: undefined },
    );
    const accepted = await signIn(h, providerId, account);
    expect((await read(accepted.session!)).status).toBe(200);
  });

  it('creates no account unless the organisation says so; then a Member, who still needs a role', async () => {
    const h = haven();
    const { org, providerId } = await setUp(h);
    const newcomer = {
      sub: subject(),
      email: 'newcomer@school.test',
      email_verified: true,
      name: 'Nia Newcomer',
    };

    const refused = await signIn(h, providerId, newcomer);
    expect(refused).toMatchObject({ error: 'sso_no_account', session: undefined });
    const none = await h.database.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'newcomer@school.test')
      .execute();
    expect(none).toEqual([]);

    await configure(
      h,
      org.ownerToken,
      { createAccounts: true },
      { id: providerId, clientSecret: undefined },
    );
    const member = await signIn(h, providerId, newcomer);
    expect(member).toMatchObject({ error: 'sso_no_role', session: undefined });
    const created = await h.database.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', 'newcomer@school.test')
      .executeTakeFirstOrThrow();
    expect(created).toMatchObject({
      name: 'Nia Newcomer',
      organisation_id: org.organisationId,
      password_hash: null,
    });
    expect(created.activated_at).toBeTruthy();
    const creation = await h.database.db
      .selectFrom('audit_events')
      .select(['meta_json', 'actor_user_id'])
      .where('action', '=', 'user.create')
      .where('target_id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(creation.meta_json!)).toMatchObject({ via: 'sso', providerId });
    const roles = await h.get(`/api/v1/users/${created.id}`, org.ownerToken);
    expect(roles.status).toBe(200);
    expect(roles.body.status).toBe('active');

    // Given a role, the same person signs in (by their sub now).
    await grantRole(h, org.ownerToken, { type: 'user', id: created.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    const inNow = await signIn(h, providerId, newcomer);
    expect(inNow.error).toBeNull();
    expect((await meWithCookie(h, inNow.session!)).body.id).toBe(created.id);
  });

  it('turns password sign-in off only once the Owner has used single sign-on; then password sign-in is refused', async () => {
    const h = haven();
    const { org, providerId, teacher } = await setUp(h);
    const other = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm' });
    const off = { passwordSignIn: false };
    const unproven = await h.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [oidcProvider({ id: providerId, clientSecret: undefined })],
      ...SETTINGS,
      ...off,
    });
    expect(unproven.status).toBe(409);
    expect(unproven.body.code).toBe('sso_not_proven');
    // A teacher's sign-in through it does not count: the Owner must have used it.
    expect(
      (await signIn(h, providerId, { sub: subject(), email: teacher.email, email_verified: true }))
        .error,
    ).toBeNull();
    expect(
      (
        await h.put('/api/v1/organisation/sso', org.ownerToken, {
          providers: [oidcProvider({ id: providerId, clientSecret: undefined })],
          ...SETTINGS,
          ...off,
        })
      ).status,
    ).toBe(409);

    const owner = await signIn(h, providerId, {
      sub: subject(),
      email: org.ownerEmail,
      email_verified: true,
    });
    expect(owner.error).toBeNull();
    // Replacing the provider's issuer or client would forget that sign-in: still refused.
    const changedClient = await h.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [
        oidcProvider({ id: providerId, clientSecret: undefined, clientId: 'another-client' }),
      ],
      ...SETTINGS,
      ...off,
    });
    expect(changedClient.status).toBe(409);
    const turnedOff = await h.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [oidcProvider({ id: providerId, clientSecret: undefined })],
      ...SETTINGS,
      ...off,
    });
    expect(turnedOff.status, JSON.stringify(turnedOff.body)).toBe(200);
    expect(turnedOff.body.passwordSignIn).toBe(false);

    const refused = await h.post('/api/v1/auth/login', undefined, {
      email: teacher.email,
      password: STRONG_PASSWORD,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('password_sign_in_off');
    // Nothing said before the password is right, nor for an unknown address.
    const wrong = await h.post('/api/v1/auth/login', undefined, {
      email: teacher.email,
      password: 'not-the-password-at-all-9',
    });
    expect(wrong.body.code).toBe('invalid_credentials');
    const unknown = await h.post('/api/v1/auth/login', undefined, {
      email: 'nobody@school.test',
      password: STRONG_PASSWORD,
    });
    expect(unknown.body.code).toBe('invalid_credentials');
    // Another organisation keeps its passwords.
    expect(await login(h, other.ownerEmail)).toBeTruthy();
    // Single sign-on still works.
    expect(
      (await signIn(h, providerId, { sub: subject(), email: teacher.email, email_verified: true }))
        .error,
    ).toBeNull();
  });

  it('reads Microsoft Entra ID’s address from the UPN or a domain-verified email (xms_edov)', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const teacher = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    // The whole issuer given (the test provider standing in for the tenant's).
    const providerId = await configure(h, org.ownerToken, {}, { kind: 'microsoft' });
    // No email_verified from Entra: an `email` alone is not enough.
    const emailOnly = await signIn(h, providerId, { sub: subject(), email: teacher.email });
    expect(emailOnly.error).toBe('sso_unverified_email');
    const byUpn = await signIn(h, providerId, {
      sub: subject(),
      preferred_username: teacher.email,
    });
    expect(byUpn.error).toBeNull();
    const byEdov = await signIn(h, providerId, {
      sub: subject(),
      email: teacher.email,
      xms_edov: true,
    });
    expect(byEdov.error).toBeNull();
    expect((await meWithCookie(h, byEdov.session!)).body.id).toBe(teacher.id);
  });

  it('sends an unknown provider, or a callback with nothing, back to the sign-in page', async () => {
    const h = haven();
    const { providerId } = await setUp(h);
    const unknown = await h.get('/api/v1/auth/oidc/01JZZZZZZZZZZZZZZZZZZZZZZZ/start');
    expect(unknown.status).toBe(302);
    expect(unknown.headers.location).toBe('/sign-in?sso_error=sso_unknown_provider');
    const empty = await h.get(`/api/v1/auth/oidc/${providerId}/callback`);
    expect(empty.status).toBe(302);
    expect(empty.headers.location).toBe('/sign-in?sso_error=sso_state');
    expect(empty.body).toBe('');
  });
});

describe('single sign-on: the sign-in buttons', () => {
  const haven = useHaven({ HAVEN_PUBLIC_URL: PUBLIC_URL, HAVEN_OIDC_ALLOW_HTTP: 'true' });

  it('lists an only organisation’s providers; with several, only by the domain asked about', async () => {
    const h = haven();
    const first: TestOrg = await setupOrganisation(h);
    const none = await h.get('/api/v1/auth/sso-providers');
    expect(none.body).toEqual({ items: [], passwordSignIn: true });
    const providerId = await configure(h, first.ownerToken, {}, { label: 'Oak sign-in' });
    const listed = await h.get('/api/v1/auth/sso-providers');
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({
      items: [
        {
          id: providerId,
          kind: 'oidc',
          label: 'Oak sign-in',
          organisationName: 'Oak Trust',
          startUrl: `/api/v1/auth/oidc/${providerId}/start`,
        },
      ],
      passwordSignIn: true,
    });
    expect(JSON.stringify(listed.body)).not.toContain(idp.issuer);

    const second = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm' });
    await addSchool(h, second.ownerToken, 'Elm Juniors');
    const elm = await configure(h, second.ownerToken, {}, { allowedDomains: ['elm.test'] });
    // Two organisations now: nobody is told of either without saying whose address they have.
    expect((await h.get('/api/v1/auth/sso-providers')).body.items).toEqual([]);
    const byDomain = await h.get('/api/v1/auth/sso-providers', undefined, {
      email: 'someone@Elm.test',
    });
    expect(byDomain.body.items.map((p: any) => [p.id, p.organisationName, p.label])).toEqual([
      [elm, 'Elm Trust', 'Single sign-on'],
    ]);
    const nobody = await h.get('/api/v1/auth/sso-providers', undefined, {
      email: 'x@nowhere.test',
    });
    expect(nobody.body.items).toEqual([]);
  });
});
