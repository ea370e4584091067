import { describe, expect, it } from 'vitest';
import { login, setupOrganisation } from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

async function outcomes(h: TestHaven, email: string): Promise<Record<string, number>> {
  const rows = await h.database.db
    .selectFrom('login_attempts')
    .select('outcome')
    .where('email', '=', email)
    .execute();
  const counted: Record<string, number> = {};
  for (const row of rows) counted[row.outcome] = (counted[row.outcome] ?? 0) + 1;
  return counted;
}

function tally(replies: { status: number; body: any }[]): Record<string, number> {
  const counted: Record<string, number> = {};
  for (const r of replies) {
    const key = `${r.status} ${r.body.code}`;
    counted[key] = (counted[key] ?? 0) + 1;
  }
  return counted;
}

describe('password throttles are counted before the password is checked', () => {
  const haven = useHaven();

  it('150 concurrent wrong passwords on one account: at most 10 are checked, the rest answer 429', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const replies = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        h.post('/api/v1/auth/login', undefined, {
          email: org.ownerEmail,
          password: `wrong-password-${i}-xyz`,
        }),
      ),
    );
    const seen = tally(replies);
    expect(Object.keys(seen).sort()).toEqual(['401 invalid_credentials', '429 too_many_attempts']);
    expect(seen['401 invalid_credentials']).toBeLessThanOrEqual(10);
    expect(seen['401 invalid_credentials']! + seen['429 too_many_attempts']!).toBe(150);
    // Every 429 says when to come back: when the oldest counted failure leaves the 15 minutes.
    for (const r of replies.filter((x) => x.status === 429)) {
      const wait = Number(r.headers['retry-after']);
      expect(wait).toBeGreaterThan(14 * 60);
      expect(wait).toBeLessThanOrEqual(15 * 60);
      expect(r.body.retryAfter).toBe(wait);
    }
    // One `failure` row per password verified: argon2 ran at most ten times.
    const rows = await outcomes(h, org.ownerEmail);
    expect(rows.failure).toBe(seen['401 invalid_credentials']);
    expect(rows.pending ?? 0).toBe(0);
    // The right password is refused too until the window has passed.
    const right = await h.post('/api/v1/auth/login', undefined, {
      email: org.ownerEmail,
      password: STRONG_PASSWORD,
    });
    expect(right.status).toBe(429);
  });

  it('wrong current passwords on POST /me/password are throttled per account, audited, and count with sign-ins', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const token = org.ownerToken;
    const change = (currentPassword: string) =>
      h.post('/api/v1/me/password', token, {
        currentPassword,
        newPassword: 'another-Lantern-77-meadow',
      });
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) => change(`wrong-password-${i}-xyz`)),
    );
    const seen = tally(replies);
    expect(seen['401 unauthorized']).toBeLessThanOrEqual(10);
    expect(seen['429 too_many_attempts']).toBeGreaterThanOrEqual(20);
    expect((await outcomes(h, org.ownerEmail)).wrong_current_password).toBe(
      seen['401 unauthorized'],
    );

    // Past the limit even the right current password waits for the window, and sign-in too.
    expect((await change(STRONG_PASSWORD)).status).toBe(429);
    const signIn = await h.post('/api/v1/auth/login', undefined, {
      email: org.ownerEmail,
      password: STRONG_PASSWORD,
    });
    expect(signIn.status).toBe(429);

    const refused = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_user_id'])
      .where('action', '=', 'request.too_many_attempts')
      .where('actor_user_id', '=', org.ownerId)
      .execute();
    expect(refused.length).toBeGreaterThan(0);

    // Once the window has passed the right password changes it.
    await h.database.db
      .updateTable('login_attempts')
      .set({ at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .execute();
    expect((await change(STRONG_PASSWORD)).status).toBe(204);
    expect(await login(h, org.ownerEmail, 'another-Lantern-77-meadow')).toBeTruthy();
  });
});

describe('Retry-After on the per-account limit is computed', () => {
  const haven = useHaven();

  it('is the time until the oldest counted failure leaves the window', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (let i = 0; i < 10; i += 1) {
      const reply = await h.post('/api/v1/auth/login', undefined, {
        email: org.ownerEmail,
        password: `wrong-password-${i}-xyz`,
      });
      expect(reply.status).toBe(401);
    }
    // The ten failures happened 12, 11, ... 3 minutes ago: the oldest leaves in about 3 minutes.
    const rows = await h.database.db
      .selectFrom('login_attempts')
      .select('id')
      .where('email', '=', org.ownerEmail)
      .where('outcome', '=', 'failure')
      .orderBy('at')
      .execute();
    expect(rows).toHaveLength(10);
    for (const [i, row] of rows.entries())
      await h.database.db
        .updateTable('login_attempts')
        .set({ at: new Date(Date.now() - (12 - i) * 60_000).toISOString() })
        .where('id', '=', row.id)
        .execute();
    const refused = await h.post('/api/v1/auth/login', undefined, {
      email: org.ownerEmail,
      password: STRONG_PASSWORD,
    });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('too_many_attempts');
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(175);
    expect(wait).toBeLessThanOrEqual(180);
  });
});

describe('the request-rate limit on the public sign-in and set-up routes (@fastify/rate-limit)', () => {
  const haven = useHaven({ HAVEN_AUTH_RATE_LIMIT: '5' });

  const from = async (
    h: TestHaven,
    address: string,
    method: string,
    url: string,
    token?: string,
  ) => {
    const reply = await h.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: address,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
    });
    const json = /json/.test(String(reply.headers['content-type'] ?? ''));
    return { status: reply.statusCode, headers: reply.headers, body: json ? reply.json() : null };
  };

  it('a burst to /auth/login from one address answers 429 problem+json with Retry-After; others are not held back', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const burst = [];
    for (let i = 0; i < 6; i += 1)
      burst.push(
        await h.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: '203.0.113.20',
          payload: { email: `nobody-${i}@school.test`, password: 'not-the-password' },
        }),
      );
    expect(burst.slice(0, 5).map((r) => r.statusCode)).toEqual([401, 401, 401, 401, 401]);
    const limited = burst[5]!;
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    const body = limited.json();
    expect(body).toMatchObject({
      status: 429,
      code: 'rate_limited',
      type: 'urn:haven:problem:rate_limited',
    });
    const wait = Number(limited.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(body.retryAfter).toBe(wait);

    // Another address signs in; the limited one still reaches the routes that need a session.
    const other = await h.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '198.51.100.20',
      payload: { email: org.ownerEmail, password: STRONG_PASSWORD },
    });
    expect(other.statusCode).toBe(200);
    expect((await from(h, '203.0.113.20', 'GET', '/api/v1/me', org.ownerToken)).status).toBe(200);
    for (let i = 0; i < 7; i += 1)
      expect((await from(h, '203.0.113.20', 'GET', '/api/v1/health')).status).toBe(200);

    // The refusal is audited like any other anonymous one.
    await h.app.close();
    const audited = await h.database.db
      .selectFrom('audit_events')
      .select('action')
      .where('action', '=', 'request.rate_limited')
      .execute();
    expect(audited.length).toBeGreaterThan(0);
  });

  it('covers every public route under /api/v1/auth/ and /api/v1/setup, whoever added it, and no route that needs a session', async () => {
    const h = haven();
    await setupOrganisation(h);
    const openapi = (await h.get('/api/v1/openapi.json')).body;
    const routes = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/v1/auth/') || path.startsWith('/api/v1/setup'))
      .flatMap(([path, methods]) =>
        Object.keys(methods).map((m) => [m.toUpperCase(), path] as const),
      );
    const limited: string[] = [];
    const notLimited: string[] = [];
    for (const [index, [method, path]] of routes.entries()) {
      const address = `192.0.2.${index + 1}`;
      const url = path.replace(/\{[^}]+\}/g, '01JZZZZZZZZZZZZZZZZZZZZZZZ');
      const answers = [];
      for (let i = 0; i < 6; i += 1) answers.push(await from(h, address, method, url));
      const last = answers[5]!;
      const needsSession = answers[0]!.status === 401 && answers[0]!.body?.code === 'unauthorized';
      // A route a browser is sent to (single sign-on) turns the problem into a redirect naming it.
      const redirected = String(last.headers.location ?? '').includes('rate_limited');
      if (last.status === 429 || redirected) {
        if (!redirected) {
          expect(last.body.code, `${method} ${path}`).toBe('rate_limited');
          expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
        }
        expect(needsSession, `${method} ${path} needs a session`).toBe(false);
        limited.push(`${method} ${path}`);
      } else {
        expect(needsSession, `${method} ${path} is public but not limited`).toBe(true);
        notLimited.push(`${method} ${path}`);
      }
    }
    expect(limited).toEqual(
      expect.arrayContaining([
        'POST /api/v1/auth/login',
        'GET /api/v1/setup',
        'POST /api/v1/setup',
      ]),
    );
    expect(notLimited).toEqual(expect.arrayContaining(['POST /api/v1/auth/logout']));
  });
});
