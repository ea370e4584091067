import { generate, stringToBytes } from 'otplib';
import { describe, expect, it } from 'vitest';
import { sessionPassedMfa } from '../../src/modules/auth/mfa.ts';
import { matchTotp } from '../../src/modules/auth/totp.ts';
import { countRows, login, setupOrganisation } from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven } from '../support/haven.ts';
import { enrolTotp, stepUp, useHavenWithTotpClock } from '../support/two-factor.ts';

function loginReply(h: TestHaven, email: string, totp?: string) {
  return h.post('/api/v1/auth/login', undefined, {
    email,
    password: STRONG_PASSWORD,
    ...(totp !== undefined ? { totp } : {}),
  });
}

async function writes(h: TestHaven) {
  const attempts = await h.database.db
    .selectFrom('login_attempts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return {
    audit: await countRows(h, 'audit_events'),
    attempts: Number(attempts.n),
    totp: await h.database.db.selectFrom('user_totp').selectAll().execute(),
    sessions: await h.database.db.selectFrom('sessions').select(['id', 'mfa_at']).execute(),
  };
}

// RFC 6238 Appendix B: the SHA-1 rows, 8 digits, with the 20-byte ASCII secret "12345678901234567890".
const RFC_6238_SHA1 = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
] as const;
const RFC_SECRET = '12345678901234567890';
const RFC_SECRET_BASE32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('TOTP codes (RFC 6238)', () => {
  it.each(RFC_6238_SHA1)('at %i s the 8-digit SHA-1 code is %s', async (time, expected) => {
    const code = await generate({
      secret: stringToBytes(RFC_SECRET),
      epoch: time,
      algorithm: 'sha1',
      digits: 8,
      period: 30,
    });
    expect(code).toBe(expected);
    // Haven's 6-digit codes are the same truncation taken modulo 10^6: the last six digits.
    expect(await matchTotp(RFC_SECRET_BASE32, expected.slice(2), time * 1000, null)).toBe(
      Math.floor(time / 30),
    );
  });

  it('accepts one step either side of now, and nothing at or before the last accepted step', async () => {
    const at = (s: number) =>
      generate({ secret: RFC_SECRET_BASE32, epoch: s, algorithm: 'sha1', digits: 6, period: 30 });
    const now = 1111111111_000;
    const step = Math.floor(now / 30_000);
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000 - 30), now, null)).toBe(step - 1);
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000 + 30), now, null)).toBe(step + 1);
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000 - 90), now, null)).toBeNull();
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000), now, step)).toBeNull();
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000), now, step + 5)).toBeNull();
    expect(await matchTotp(RFC_SECRET_BASE32, await at(now / 1000), now, step - 1)).toBe(step);
  });

  it('counts a session as stepped up only within the window, failing closed', () => {
    const now = '2030-01-01T12:00:00.000Z';
    expect(sessionPassedMfa({ mfaAt: '2030-01-01T11:50:00.000Z' }, 15, now)).toBe(true);
    expect(sessionPassedMfa({ mfaAt: '2030-01-01T11:44:59.000Z' }, 15, now)).toBe(false);
    expect(sessionPassedMfa({ mfaAt: null }, 15, now)).toBe(false);
    expect(sessionPassedMfa({ mfaAt: 'not a time' }, 15, now)).toBe(false);
    expect(sessionPassedMfa({ mfaAt: '2030-01-01T12:05:00.000Z' }, 15, now)).toBe(false);
    expect(sessionPassedMfa({ mfaAt: '2030-01-01T11:59:00.000Z' }, 0, now)).toBe(false);
  });
});

describe('two-factor sign-in', () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('enrols, confirms, then needs a code at sign-in that works once', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const before = await h.get('/api/v1/me', org.ownerToken);
    expect(before.body).toMatchObject({ totpStatus: 'off', mfaAt: null });

    const first = await h.post('/api/v1/me/totp', org.ownerToken);
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(first.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Haven:/);
    expect(first.body.otpauthUri).toContain(`secret=${first.body.secret}`);
    expect(first.body.otpauthUri).toContain('issuer=Haven');
    // Left out because they are the Key URI format's defaults: SHA-1, 6 digits, 30 s.
    expect(first.body.otpauthUri).not.toMatch(/algorithm=|digits=|period=/);
    expect(first.body.qrCode).toMatch(/^data:image\/png;base64,/);
    // Starting again before confirming replaces the pending secret.
    const restarted = await h.post('/api/v1/me/totp', org.ownerToken);
    expect(restarted.status).toBe(200);
    expect(restarted.body.secret).not.toBe(first.body.secret);
    const secret: string = restarted.body.secret;
    expect((await h.get('/api/v1/me', org.ownerToken)).body.totpStatus).toBe('pending');
    // At rest the secret is sealed under the installation key: the row does not hold it.
    const sealedRow = await h.database.db
      .selectFrom('user_totp')
      .select('secret')
      .where('user_id', '=', org.ownerId)
      .executeTakeFirstOrThrow();
    expect(sealedRow.secret).toMatch(/^v1\./);
    expect(sealedRow.secret).not.toContain(secret);
    // Still pending, sign-in needs no code.
    expect((await loginReply(h, org.ownerEmail)).status).toBe(200);

    const stale = await h.post('/api/v1/me/totp/confirm', org.ownerToken, {
      code: await clock.code(first.body.secret),
    });
    expect(stale.status).toBe(400);
    expect(stale.headers['content-type']).toContain('application/problem+json');
    expect(stale.body.code).toBe('invalid_code');
    expect((await h.get('/api/v1/me', org.ownerToken)).body.totpStatus).toBe('pending');

    const enrolmentCode = await clock.code(secret);
    const confirmed = await h.post('/api/v1/me/totp/confirm', org.ownerToken, {
      code: enrolmentCode,
    });
    expect(confirmed.status).toBe(200);
    const recoveryCodes: string[] = confirmed.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/);
    const me = await h.get('/api/v1/me', org.ownerToken);
    expect(me.body.totpStatus).toBe('active');
    expect(me.body.mfaAt).not.toBeNull(); // the confirming code counts as this session's step-up

    // Only hashes of recovery codes are kept; the secret column holds the base32 secret.
    const stored = await h.database.db.selectFrom('totp_recovery_codes').selectAll().execute();
    expect(stored).toHaveLength(10);
    const storedText = JSON.stringify(stored);
    for (const code of recoveryCodes) {
      expect(storedText).not.toContain(code);
      expect(storedText).not.toContain(code.replaceAll('-', ''));
    }
    const row = await h.database.db.selectFrom('user_totp').selectAll().executeTakeFirstOrThrow();
    expect(row.secret).toMatch(/^v1\./);
    expect(row.secret).not.toContain(secret);
    expect(row.confirmed_at).not.toBeNull();

    expect((await h.post('/api/v1/me/totp', org.ownerToken)).body.code).toBe('conflict');
    expect((await h.post('/api/v1/me/totp', org.ownerToken)).status).toBe(409);
    const again = await h.post('/api/v1/me/totp/confirm', org.ownerToken, {
      code: await clock.code(secret),
    });
    expect(again.status).toBe(409);

    const missing = await loginReply(h, org.ownerEmail);
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('totp_required');
    const empty = await loginReply(h, org.ownerEmail, '');
    expect(empty.body.code).toBe('totp_required');
    const wrongPassword = await h.post('/api/v1/auth/login', undefined, {
      email: org.ownerEmail,
      password: 'not-the-right-password-1',
    });
    expect(wrongPassword.body.code).toBe('invalid_credentials');
    const wrong = await loginReply(
      h,
      org.ownerEmail,
      enrolmentCode === '000000' ? '111111' : '000000',
    );
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_code');
    // The code that confirmed the enrolment has been used.
    const replayedEnrolmentCode = await loginReply(h, org.ownerEmail, enrolmentCode);
    expect(replayedEnrolmentCode.status).toBe(401);
    expect(replayedEnrolmentCode.body.code).toBe('invalid_code');

    const code = await clock.advance().code(secret);
    const signedIn = await loginReply(h, org.ownerEmail, code);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.totpStatus).toBe('active');
    expect(signedIn.body.user.mfaAt).toEqual(expect.any(String));
    const mine = await h.get('/api/v1/me', signedIn.body.token);
    expect(mine.body.mfaAt).toBe(signedIn.body.user.mfaAt);

    const replayed = await loginReply(h, org.ownerEmail, code);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('invalid_code');
    // A code of an earlier step, still inside the tolerance, is refused too once a later one was used.
    const earlier = await clock.advance(-30).code(secret);
    clock.advance(30);
    expect((await loginReply(h, org.ownerEmail, earlier)).body.code).toBe('invalid_code');

    const sessionAttempts = await h.database.db
      .selectFrom('login_attempts')
      .select('outcome')
      .orderBy('at')
      .execute();
    expect(sessionAttempts.map((a) => a.outcome)).toEqual(
      expect.arrayContaining(['totp_required', 'invalid_code', 'success']),
    );
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'meta_json', 'before_json', 'after_json'])
      // In the order written: the last sign-in is the one with the code.
      .orderBy('at')
      .orderBy('seq')
      .execute();
    const actions = audit.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'auth.totp.enrolment_started',
        'auth.totp.enabled',
        'request.totp_required',
        'request.invalid_code',
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain(secret);
    const login = audit.filter((e) => e.action === 'auth.login').at(-1);
    expect(JSON.parse(login!.meta_json!).secondFactor).toBe('totp');
  });

  it('lets a recovery code sign in once, and not twice', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const { recoveryCodes } = await enrolTotp(h, org.ownerToken, clock);
    const [first, second] = recoveryCodes;

    const signedIn = await loginReply(h, org.ownerEmail, first);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.mfaAt).toEqual(expect.any(String));
    const reused = await loginReply(h, org.ownerEmail, first);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('invalid_code');
    // Typed without dashes and in capitals, a recovery code still works (once).
    const typed = second!.replaceAll('-', '').toUpperCase();
    expect((await loginReply(h, org.ownerEmail, typed)).status).toBe(200);
    expect((await loginReply(h, org.ownerEmail, second)).status).toBe(401);
    expect((await loginReply(h, org.ownerEmail, 'zzzz-zzzz-zzzz-zzzz')).status).toBe(401);

    const used = await h.database.db
      .selectFrom('totp_recovery_codes')
      .select('used_at')
      .where('used_at', 'is not', null)
      .execute();
    expect(used).toHaveLength(2);
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select('meta_json')
      .where('action', '=', 'auth.login')
      .execute();
    expect(audit.map((e) => JSON.parse(e.meta_json!).secondFactor)).toContain('recovery_code');
  });

  it('signs in only once when two sign-ins race with the same code', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const { secret } = await enrolTotp(h, org.ownerToken, clock);
    const code = await clock.advance().code(secret);
    const replies = await Promise.all([
      loginReply(h, org.ownerEmail, code),
      loginReply(h, org.ownerEmail, code),
      loginReply(h, org.ownerEmail, code),
    ]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 401, 401]);
  });

  it('steps up a session, which then counts as having passed TOTP', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const plain = await login(h, org.ownerEmail); // signed in before TOTP was turned on
    const bystander = await login(h, org.ownerEmail);
    const { secret } = await enrolTotp(h, org.ownerToken, clock);
    expect((await h.get('/api/v1/me', plain)).body.mfaAt).toBeNull();

    const reused = await h.post('/api/v1/auth/step-up', plain, { code: await clock.code(secret) });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('invalid_code');
    expect((await h.get('/api/v1/me', plain)).body.mfaAt).toBeNull();

    const mfaAt = await stepUp(h, plain, secret, clock);
    const me = await h.get('/api/v1/me', plain);
    expect(me.body.mfaAt).toBe(mfaAt);
    expect(sessionPassedMfa(me.body, 15)).toBe(true);
    expect(sessionPassedMfa(me.body, 15, new Date(Date.now() + 16 * 60_000).toISOString())).toBe(
      false,
    );
    // Other sessions are not stepped up by it.
    expect((await h.get('/api/v1/me', bystander)).body.mfaAt).toBeNull();

    const replayed = await h.post('/api/v1/auth/step-up', plain, {
      code: await clock.code(secret),
    });
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('invalid_code');
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'target_id'])
      .where('action', 'in', ['auth.step_up', 'request.invalid_code'])
      .execute();
    expect(audit.filter((e) => e.action === 'auth.step_up')).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'request.invalid_code')).toHaveLength(2);

    expect((await h.post('/api/v1/auth/step-up', undefined, { code: '123456' })).status).toBe(401);
  });

  it('counts wrong codes towards the sign-in throttle', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const { secret } = await enrolTotp(h, org.ownerToken, clock);
    for (let i = 0; i < 5; i++) {
      expect((await loginReply(h, org.ownerEmail, '000000')).status).toBe(401);
    }
    for (let i = 0; i < 5; i++) {
      const reply = await h.post('/api/v1/auth/step-up', org.ownerToken, { code: '000000' });
      expect(reply.status).toBe(401);
    }
    const throttled = await loginReply(h, org.ownerEmail, await clock.advance().code(secret));
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('too_many_attempts');
    const stepUpThrottled = await h.post('/api/v1/auth/step-up', org.ownerToken, {
      code: await clock.advance().code(secret),
    });
    expect(stepUpThrottled.status).toBe(429);
    // A missing code is the first half of a normal sign-in, not a failure.
    await h.database.db.deleteFrom('login_attempts').execute();
    for (let i = 0; i < 12; i++) {
      expect((await loginReply(h, org.ownerEmail)).body.code).toBe('totp_required');
    }
  });

  it('turns two-factor sign-in off with a code', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const { secret, recoveryCodes } = await enrolTotp(h, org.ownerToken, clock);
    const wrong = await h.request('DELETE', '/api/v1/me/totp', {
      token: org.ownerToken,
      body: { code: '000000' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('invalid_code');
    const off = await h.request('DELETE', '/api/v1/me/totp', {
      token: org.ownerToken,
      body: { code: recoveryCodes[0] },
    });
    expect(off.status).toBe(204);
    expect((await h.get('/api/v1/me', org.ownerToken)).body.totpStatus).toBe('off');
    expect(await h.database.db.selectFrom('totp_recovery_codes').selectAll().execute()).toEqual([]);
    expect((await loginReply(h, org.ownerEmail)).status).toBe(200);
    const stepUpOff = await h.post('/api/v1/auth/step-up', org.ownerToken, {
      code: await clock.advance().code(secret),
    });
    expect(stepUpOff.status).toBe(409);
    expect(stepUpOff.body.code).toBe('totp_not_enabled');
  });

  it('refuses bad input with problem+json naming the field, and writes nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    expect((await h.post('/api/v1/me/totp', org.ownerToken)).status).toBe(200);
    const before = await writes(h);
    const cases: [string, unknown][] = [
      ['/api/v1/me/totp/confirm', {}],
      ['/api/v1/me/totp/confirm', { code: '12ab56' }],
      ['/api/v1/me/totp/confirm', { code: '1234567' }],
      ['/api/v1/me/totp/confirm', { code: 123456 }],
      ['/api/v1/auth/step-up', {}],
      ['/api/v1/auth/step-up', { code: 'abcdef' }],
    ];
    for (const [url, body] of cases) {
      const reply = await h.post(url, org.ownerToken, body);
      expect(reply.status, `${url} ${JSON.stringify(body)}`).toBe(400);
      expect(reply.headers['content-type']).toContain('application/problem+json');
      expect(reply.body.code).toBe('validation_failed');
      expect(reply.body.errors.map((e: { field: string }) => e.field)).toEqual(['code']);
    }
    const badLogin = await h.post('/api/v1/auth/login', undefined, {
      email: org.ownerEmail,
      password: STRONG_PASSWORD,
      totp: '12;34',
    });
    expect(badLogin.status).toBe(400);
    expect(badLogin.body.errors.map((e: { field: string }) => e.field)).toEqual(['totp']);
    expect(await writes(h)).toEqual(before);
  });
});
