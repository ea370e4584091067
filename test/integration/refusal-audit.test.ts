import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { unauthorized } from '../../src/lib/errors.ts';
import { RefusalAudit } from '../../src/server/refusals.ts';
import { setupOrganisation } from '../support/factories.ts';
import { startHaven, type TestHaven, useHaven } from '../support/haven.ts';

async function deniedRows(h: TestHaven, action: string) {
  const rows = await h.database.db
    .selectFrom('audit_events')
    .select(['organisation_id', 'actor_user_id', 'meta_json', 'at'])
    .where('category', '=', 'denied')
    .where('action', '=', action)
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, meta: JSON.parse(r.meta_json ?? '{}') }));
}

async function inBatches(count: number, send: (i: number) => Promise<{ status: number }>) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) => send(i + j)),
    );
    statuses.push(...batch.map((r) => r.status));
  }
  return statuses;
}

/**
 * A Haven whose refusal windows outlast the test: what was counted is written when the app
 * closes, which `check` then reads.
 */
async function withHaven(
  env: Record<string, string>,
  work: (h: TestHaven) => Promise<void>,
  check: (h: TestHaven) => Promise<void>,
) {
  const h = await startHaven({ HAVEN_AUDIT_REFUSAL_WINDOW_SECONDS: '3600', ...env });
  try {
    await work(h);
    await h.app.close();
    await check(h);
  } finally {
    await h.db.dispose();
  }
}

describe('unauthenticated refusals are counted in the audit log, not written one row each', () => {
  it('500 requests without a session write one row, then one summary row carrying the count', async () => {
    await withHaven(
      {},
      async (h) => {
        await setupOrganisation(h);
        const statuses = await inBatches(500, () => h.get('/api/v1/users'));
        expect(new Set(statuses)).toEqual(new Set([401]));
        const first = await deniedRows(h, 'request.unauthorized');
        expect(first).toHaveLength(1);
        expect(first[0]!.meta).toMatchObject({ path: '/api/v1/users', status: 401 });
      },
      async (h) => {
        const rows = await deniedRows(h, 'request.unauthorized');
        expect(rows).toHaveLength(2);
        expect(rows[1]!.meta).toMatchObject({ repeated: 499, status: 401, code: 'unauthorized' });
        expect(rows[1]!.meta.firstAt <= rows[1]!.meta.lastAt).toBe(true);
        expect(rows[1]!.organisation_id).toBeNull();
      },
    );
  });

  it('failed sign-ins to an existing account are written each time until the throttle; repeated 429s are counted', async () => {
    let organisationId = '';
    await withHaven(
      {},
      async (h) => {
        const org = await setupOrganisation(h);
        organisationId = org.organisationId;
        const statuses = await inBatches(15, (i) =>
          h.post('/api/v1/auth/login', undefined, {
            email: org.ownerEmail,
            password: `wrong-password-${i}-xyz`,
          }),
        );
        expect(statuses.filter((s) => s === 401)).toHaveLength(10);
        expect(await deniedRows(h, 'request.invalid_credentials')).toHaveLength(10);
        const throttled = await deniedRows(h, 'request.too_many_attempts');
        expect(throttled).toHaveLength(1);
        expect(throttled[0]!.meta.email).toBe(org.ownerEmail);
      },
      async (h) => {
        const rows = await deniedRows(h, 'request.too_many_attempts');
        expect(rows.map((r) => r.meta.repeated)).toEqual([undefined, 4]);
        expect(rows.every((r) => r.organisation_id === organisationId)).toBe(true);
      },
    );
  });

  it('wrong passwords for unknown emails from one address are counted too', async () => {
    await withHaven(
      {},
      async (h) => {
        await setupOrganisation(h);
        await inBatches(40, (i) =>
          h.post('/api/v1/auth/login', undefined, {
            email: `nobody.${i}@school.test`,
            password: 'wrong-password-xyz',
          }),
        );
        expect(await deniedRows(h, 'request.invalid_credentials')).toHaveLength(1);
      },
      async (h) => {
        const rows = await deniedRows(h, 'request.invalid_credentials');
        expect(rows.map((r) => r.meta.repeated)).toEqual([undefined, 39]);
      },
    );
  });

  it('past the cap on distinct clients, further ones are counted under one overflow key', async () => {
    await withHaven(
      { HAVEN_AUDIT_REFUSAL_MAX_CLIENTS: '5', HAVEN_TRUST_PROXY: 'true' },
      async (h) => {
        await inBatches(30, (i) =>
          h.request('GET', '/api/v1/users', { headers: { 'x-forwarded-for': `10.0.0.${i}` } }),
        );
        // Five clients written once each, and one row for the overflow.
        expect(await deniedRows(h, 'request.unauthorized')).toHaveLength(5);
        const overflow = await deniedRows(h, 'request.refused');
        expect(overflow).toHaveLength(1);
        expect(overflow[0]!.meta).toMatchObject({ overflow: true });
      },
      async (h) => {
        const rows = await deniedRows(h, 'request.refused');
        expect(rows.map((r) => r.meta.repeated)).toEqual([undefined, 24]);
      },
    );
  });
});

describe('a refusal window ends', () => {
  const haven = useHaven();

  function refused(ip: string) {
    return {
      id: 'request',
      ip,
      method: 'GET',
      url: '/api/v1/users',
      routeOptions: { url: '/api/v1/users' },
      auth: null,
    } as unknown as FastifyRequest;
  }

  function audit(h: TestHaven, clock: { ms: number }, windowMs: number) {
    const errors: unknown[] = [];
    const refusals = new RefusalAudit(h.database, {
      windowMs,
      maxKeys: 100,
      onError: (error) => errors.push(error),
      clock: () => clock.ms,
    });
    return { refusals, errors };
  }

  it("at the key's next refusal: the count is written first, then the new window's first row", async () => {
    const h = haven();
    const clock = { ms: Date.now() };
    const { refusals, errors } = audit(h, clock, 60_000);
    for (let i = 0; i < 4; i++) await refusals.record(refused('192.0.2.1'), unauthorized());
    await refusals.record(refused('192.0.2.2'), unauthorized());
    clock.ms += 60_001;
    await refusals.record(refused('192.0.2.1'), unauthorized());
    const rows = await deniedRows(h, 'request.unauthorized');
    expect(rows.map((r) => r.meta.repeated)).toEqual([undefined, undefined, 3, undefined]);
    await refusals.close();
    expect(errors).toEqual([]);
  });

  it('by the timer, when no refusal follows', async () => {
    const h = haven();
    const clock = { ms: Date.now() };
    const { refusals, errors } = audit(h, clock, 50);
    for (let i = 0; i < 3; i++) await refusals.record(refused('192.0.2.1'), unauthorized());
    clock.ms += 51;
    let rows = await deniedRows(h, 'request.unauthorized');
    for (let waited = 0; rows.length < 2 && waited < 5000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rows = await deniedRows(h, 'request.unauthorized');
    }
    expect(rows.map((r) => r.meta.repeated)).toEqual([undefined, 2]);
    await refusals.close();
    expect(errors).toEqual([]);
  });
});
