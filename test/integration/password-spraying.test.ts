import { describe, expect, it } from 'vitest';
import { createUser, setupOrganisation, uniqueEmail } from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

// Issue 13, item 6: failed sign-ins are also counted per client address across emails, so one
// address trying a password on many accounts is stopped; every 429 says when to come back.

const SPRAYER = '203.0.113.7';
const NEIGHBOUR = '198.51.100.9';

interface Answer {
  status: number;
  body: any;
  headers: Record<string, unknown>;
}

async function signInFrom(
  h: TestHaven,
  address: string,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const reply = await h.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: address,
    headers,
    payload: { email, password },
  });
  return { status: reply.statusCode, body: reply.json(), headers: reply.headers };
}

function tally(replies: Answer[]): Record<string, number> {
  const counted: Record<string, number> = {};
  for (const r of replies) {
    const key = `${r.status} ${r.body.code}`;
    counted[key] = (counted[key] ?? 0) + 1;
  }
  return counted;
}

async function outcomesFrom(h: TestHaven, address: string): Promise<Record<string, number>> {
  const rows = await h.database.db
    .selectFrom('login_attempts')
    .select('outcome')
    .where('ip', '=', address)
    .execute();
  const counted: Record<string, number> = {};
  for (const row of rows) counted[row.outcome] = (counted[row.outcome] ?? 0) + 1;
  return counted;
}

function retryAfter(answer: Answer): number {
  const header = Number(answer.headers['retry-after']);
  expect(Number.isInteger(header)).toBe(true);
  expect(answer.body.retryAfter).toBe(header);
  return header;
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe('password spraying: failures counted per client address across accounts', () => {
  const haven = useHaven({ HAVEN_LOGIN_ADDRESS_MAX_FAILURES: '5' });

  it('one address, one wrong password on each of many emails: 429 with Retry-After after five, whatever the email; another address still signs in', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const staff = [];
    for (let i = 0; i < 3; i += 1)
      staff.push(await createUser(h, org.ownerToken, { name: `Staff ${i}` }));
    // Known and unknown emails alike, one try each: no account reaches its own limit of ten.
    const emails = [...staff.map((u) => u.email), uniqueEmail(), uniqueEmail()];
    for (const email of emails) {
      const reply = await signInFrom(h, SPRAYER, email, 'Summer2026!');
      expect(reply.status, email).toBe(401);
      expect(reply.headers['retry-after']).toBeUndefined();
    }

    const refused = await signInFrom(h, SPRAYER, uniqueEmail(), 'Summer2026!');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.code).toBe('too_many_attempts_from_address');
    const wait = retryAfter(refused);
    expect(wait).toBeGreaterThan(14 * 60);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    // Even the right password of a real account, from that address, until the window passes...
    const owner = await signInFrom(h, SPRAYER, org.ownerEmail, STRONG_PASSWORD);
    expect(owner.status).toBe(429);
    expect(owner.body.code).toBe('too_many_attempts_from_address');
    // ...and without a password being verified: the refusals are recorded as such.
    expect(await outcomesFrom(h, SPRAYER)).toEqual({ failure: 5, throttled: 2 });

    // The account is not locked: from another address its owner signs in.
    const neighbour = await signInFrom(h, NEIGHBOUR, org.ownerEmail, STRONG_PASSWORD);
    expect(neighbour.status).toBe(200);

    // The refusals are in the audit log, in the owner's organisation for a known email.
    const audited = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'organisation_id'])
      .where('action', '=', 'request.too_many_attempts_from_address')
      .execute();
    expect(audited.length).toBeGreaterThan(0);
    expect(audited.some((row) => row.organisation_id === org.organisationId)).toBe(true);
  });

  it('Retry-After is the time until the oldest counted failure leaves the window, and then the address is let in', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (let i = 0; i < 5; i += 1)
      expect((await signInFrom(h, SPRAYER, uniqueEmail(), 'Winter2026!')).status).toBe(401);
    // The failures happened 14, 13, ... 10 minutes ago: the oldest leaves in about a minute.
    const rows = await h.database.db
      .selectFrom('login_attempts')
      .select('id')
      .where('ip', '=', SPRAYER)
      .orderBy('at')
      .execute();
    for (const [i, row] of rows.entries())
      await h.database.db
        .updateTable('login_attempts')
        .set({ at: minutesAgo(14 - i) })
        .where('id', '=', row.id)
        .execute();
    const refused = await signInFrom(h, SPRAYER, org.ownerEmail, STRONG_PASSWORD);
    expect(refused.status).toBe(429);
    const wait = retryAfter(refused);
    expect(wait).toBeGreaterThanOrEqual(55);
    expect(wait).toBeLessThanOrEqual(60);

    // Once the oldest has left, one more check is allowed (four failures left in the window).
    await h.database.db
      .updateTable('login_attempts')
      .set({ at: minutesAgo(16) })
      .where('id', '=', rows[0]!.id)
      .execute();
    expect((await signInFrom(h, SPRAYER, org.ownerEmail, STRONG_PASSWORD)).status).toBe(200);
  });

  it('60 concurrent attempts from one address on 60 emails: at most five passwords are checked', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        signInFrom(h, SPRAYER, i === 59 ? org.ownerEmail : uniqueEmail(), `Guess-${i}-2026!`),
      ),
    );
    const seen = tally(replies);
    expect(Object.keys(seen).sort()).toEqual([
      '401 invalid_credentials',
      '429 too_many_attempts_from_address',
    ]);
    expect(seen['401 invalid_credentials']).toBeLessThanOrEqual(5);
    expect(seen['401 invalid_credentials']! + seen['429 too_many_attempts_from_address']!).toBe(60);
    for (const r of replies.filter((x) => x.status === 429))
      expect(retryAfter(r)).toBeGreaterThan(0);
    const rows = await outcomesFrom(h, SPRAYER);
    expect(rows.failure).toBe(seen['401 invalid_credentials']);
    expect(rows.pending ?? 0).toBe(0);
  });

  it('concurrent attempts crossing addresses and emails all settle (the locks are taken in one order)', async () => {
    const h = haven();
    await setupOrganisation(h);
    const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail()];
    const addresses = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
    const replies = await Promise.all(
      Array.from({ length: 45 }, (_, i) =>
        signInFrom(h, addresses[i % 3]!, emails[(i + Math.floor(i / 3)) % 3]!, `Guess-${i}-2026!`),
      ),
    );
    // Every answer is a refusal of the password or a throttle: none timed out or failed.
    for (const r of replies) expect([401, 429], JSON.stringify(r.body)).toContain(r.status);
    for (const address of addresses) {
      const rows = await outcomesFrom(h, address);
      expect(rows.failure ?? 0).toBeLessThanOrEqual(5);
      expect(rows.pending ?? 0).toBe(0);
    }
  });

  it('behind a proxy the address is the one it reports; a client cannot pick its own with X-Forwarded-For', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    // HAVEN_TRUST_PROXY is off here: the header is the client's own words, and ignored.
    for (let i = 0; i < 5; i += 1)
      await signInFrom(h, SPRAYER, uniqueEmail(), 'Autumn2026!', {
        'x-forwarded-for': `10.9.${i}.1`,
      });
    const spoofed = await signInFrom(h, SPRAYER, org.ownerEmail, STRONG_PASSWORD, {
      'x-forwarded-for': '10.9.99.1',
    });
    expect(spoofed.status).toBe(429);
  });
  it('an IPv6 client is counted by its /64: a new address from the same network each try does not reset the count', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    // One home or cloud network holds 2^64 addresses: each guess from a fresh one of them.
    for (let i = 1; i <= 5; i += 1)
      expect((await signInFrom(h, `2001:db8:7:9::${i}`, uniqueEmail(), 'Summer2026!')).status).toBe(
        401,
      );
    const refused = await signInFrom(h, '2001:db8:7:9:abcd::77', org.ownerEmail, STRONG_PASSWORD);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('too_many_attempts_from_address');
    // Another /64 is another client; an IPv4 client mapped into IPv6 is its IPv4 address.
    expect((await signInFrom(h, '2001:db8:7:a::1', org.ownerEmail, STRONG_PASSWORD)).status).toBe(
      200,
    );
    for (let i = 0; i < 5; i += 1)
      await signInFrom(h, `::ffff:${NEIGHBOUR}`, uniqueEmail(), 'Summer2026!');
    expect((await signInFrom(h, NEIGHBOUR, org.ownerEmail, STRONG_PASSWORD)).status).toBe(429);
  });
});

const PROXY = '10.0.0.2';

describe('the address limit behind a trusted proxy (HAVEN_TRUST_PROXY=10.0.0.2)', () => {
  const haven = useHaven({ HAVEN_LOGIN_ADDRESS_MAX_FAILURES: '3', HAVEN_TRUST_PROXY: PROXY });

  it('counts the client address the proxy appended, not what the client wrote before it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    // The client writes a new address of its own each time; the proxy appends the real one.
    for (let i = 0; i < 3; i += 1) {
      const reply = await signInFrom(h, PROXY, uniqueEmail(), 'Spring2026!', {
        'x-forwarded-for': `172.16.${i}.9, ${SPRAYER}`,
      });
      expect(reply.status).toBe(401);
    }
    const refused = await signInFrom(h, PROXY, org.ownerEmail, STRONG_PASSWORD, {
      'x-forwarded-for': `172.16.77.9, ${SPRAYER}`,
    });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('too_many_attempts_from_address');
    expect(await outcomesFrom(h, SPRAYER)).toEqual({ failure: 3, throttled: 1 });
    // Another client behind the same proxy is not held back.
    const neighbour = await signInFrom(h, PROXY, org.ownerEmail, STRONG_PASSWORD, {
      'x-forwarded-for': NEIGHBOUR,
    });
    expect(neighbour.status).toBe(200);
    // A client reaching Haven directly, not through the proxy, is counted at its own address.
    await signInFrom(h, '192.0.2.50', uniqueEmail(), 'Spring2026!', {
      'x-forwarded-for': NEIGHBOUR,
    });
    expect(await outcomesFrom(h, '192.0.2.50')).toEqual({ failure: 1 });
  });
});

describe('the address limit can be turned off (HAVEN_LOGIN_ADDRESS_MAX_FAILURES=0)', () => {
  const haven = useHaven({ HAVEN_LOGIN_ADDRESS_MAX_FAILURES: '0' });

  it('then only each account’s own count applies', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (let i = 0; i < 12; i += 1)
      expect((await signInFrom(h, SPRAYER, uniqueEmail(), 'Summer2026!')).status).toBe(401);
    expect((await signInFrom(h, SPRAYER, org.ownerEmail, STRONG_PASSWORD)).status).toBe(200);
  });
});
