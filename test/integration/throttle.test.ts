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
