import { describe, expect, it } from 'vitest';
import { RESETS_PER_HOUR } from '../../src/modules/accounts/service.ts';
import { linkToken, tableText, useHavenWithMail } from '../support/account-links.ts';
import {
  createUser,
  login,
  setupOrganisation,
  type TestOrg,
  uniqueEmail,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

const NEW_PASSWORD = 'thistle-Copper-62-meadow';
const HOUR = 3_600_000;

const ask = (h: TestHaven, email: string) =>
  h.post('/api/v1/auth/password-reset', undefined, { email });
const confirm = (h: TestHaven, token: string, password = NEW_PASSWORD) =>
  h.post('/api/v1/auth/password-reset/confirm', undefined, { token, password });

async function teacherOf(h: TestHaven, org: TestOrg, name = 'Tom Teacher') {
  return createUser(h, org.ownerToken, {
    name,
    role: 'viewer',
    scope: { type: 'school', id: org.schoolId },
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('password reset by email', () => {
  const mailed = useHavenWithMail();

  it('the emailed link sets a new password once and ends every session of the account', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await teacherOf(h, org);
    const otherSession = await login(h, teacher.email);

    const asked = await ask(h, teacher.email.toUpperCase());
    expect(asked.status).toBe(202);
    await work();
    const [email] = smtp.to(teacher.email);
    expect(email!.subject).toBe('Reset your Haven password (Oak Trust)');
    const token = linkToken(email, '/reset-password');
    for (const table of ['outbox', 'audit_events', 'account_tokens'] as const)
      expect(await tableText(h, table)).not.toContain(token);
    const made = await h.database.db
      .selectFrom('account_tokens')
      .select(['created_at', 'expires_at', 'purpose'])
      .where('user_id', '=', teacher.id)
      .executeTakeFirstOrThrow();
    expect(made.purpose).toBe('password_reset');
    expect(Date.parse(made.expires_at) - Date.parse(made.created_at)).toBe(HOUR);

    // A weak password is refused, and nothing ends.
    const weak = await confirm(h, token, 'Tom Teacher 1');
    expect(weak.status).toBe(400);
    expect(weak.body.errors[0].field).toBe('password');
    expect((await h.get('/api/v1/me', teacher.token)).status).toBe(200);

    const done = await confirm(h, token);
    expect(done.status).toBe(204);
    // Every session ended: the bearer tokens used before the reset are refused.
    expect((await h.get('/api/v1/me', teacher.token)).status).toBe(401);
    expect((await h.get('/api/v1/me', otherSession)).status).toBe(401);
    const oldPassword = await h.post('/api/v1/auth/login', undefined, {
      email: teacher.email,
      password: STRONG_PASSWORD,
    });
    expect(oldPassword.status).toBe(401);
    expect(await login(h, teacher.email, NEW_PASSWORD)).toBeTruthy();

    const twice = await confirm(h, token, 'another-Harbour-77-lantern');
    expect(twice.status).toBe(400);
    expect(twice.body.code).toBe('invalid_token');
    expect(await login(h, teacher.email, NEW_PASSWORD)).toBeTruthy();

    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_user_id', 'organisation_id', 'meta_json'])
      .where('target_id', '=', teacher.id)
      .where('action', 'like', 'user.password_reset%')
      .orderBy('seq')
      .execute();
    expect(audit.map((a) => [a.action, a.actor_user_id, a.organisation_id])).toEqual([
      ['user.password_reset_request', null, org.organisationId],
      ['user.password_reset', teacher.id, org.organisationId],
    ]);
    expect(JSON.parse(audit[1]!.meta_json!).sessionsEnded).toBe(2);
  });

  it('a newer request replaces the older link; an expired link fails; a changed password kills the link', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await teacherOf(h, org);

    await ask(h, teacher.email);
    await work();
    const first = linkToken(smtp.to(teacher.email)[0], '/reset-password');
    await ask(h, teacher.email);
    await work();
    const second = linkToken(smtp.to(teacher.email)[1], '/reset-password');
    const replaced = await confirm(h, first);
    expect(replaced.status).toBe(400);
    expect(replaced.body.code).toBe('invalid_token');

    // An hour and more later the second one has run out, and changes nothing.
    await h.database.db
      .updateTable('account_tokens')
      .set({
        created_at: new Date(Date.now() - 2 * HOUR).toISOString(),
        expires_at: new Date(Date.now() - HOUR).toISOString(),
      })
      .where('user_id', '=', teacher.id)
      .execute();
    const expired = await confirm(h, second);
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual(replaced.body);
    expect((await h.get('/api/v1/me', teacher.token)).status).toBe(200);
    expect(await login(h, teacher.email)).toBeTruthy();

    // An email whose link was replaced, or ran out, before the worker passed is not sent.
    await ask(h, teacher.email);
    await ask(h, teacher.email);
    expect(await work()).toMatchObject({ sent: 1, withdrawn: 1 });
    const third = linkToken(smtp.to(teacher.email)[2], '/reset-password');
    // A request the worker reaches more than an hour late is dropped, not sent.
    const tokens = await tableText(h, 'account_tokens');
    await ask(h, teacher.email);
    expect(await work(new Date(Date.now() + 2 * HOUR))).toMatchObject({
      accountRequests: 1,
      sent: 0,
    });
    expect(await tableText(h, 'account_tokens')).toBe(tokens);
    expect(smtp.to(teacher.email)).toHaveLength(3);

    // Changing the password in the app (another session) kills an outstanding link.
    const changed = await h.post('/api/v1/me/password', teacher.token, {
      currentPassword: STRONG_PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.status).toBe(204);
    expect((await confirm(h, third, 'another-Harbour-77-lantern')).body.code).toBe('invalid_token');
  });

  it('nobody is flooded: at most a few emails per account and hour, the rest answered alike and dropped', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await teacherOf(h, org);
    const answers = [];
    for (let i = 0; i < RESETS_PER_HOUR + 3; i++) {
      answers.push(await ask(h, teacher.email));
      await work();
    }
    expect(new Set(answers.map((a) => `${a.status} ${JSON.stringify(a.body)}`)).size).toBe(1);
    expect(smtp.to(teacher.email)).toHaveLength(RESETS_PER_HOUR);
    // An hour on, the person may ask again.
    await h.database.db
      .updateTable('account_tokens')
      .set({
        created_at: new Date(Date.now() - 2 * HOUR).toISOString(),
        expires_at: new Date(Date.now() - HOUR).toISOString(),
      })
      .where('user_id', '=', teacher.id)
      .execute();
    await ask(h, teacher.email);
    await work();
    expect(smtp.to(teacher.email)).toHaveLength(RESETS_PER_HOUR + 1);
  });

  it('answers alike for unknown, disabled and shared emails; each organisation of a shared one gets its own email', async () => {
    const { h, smtp, work } = mailed();
    const oak = await setupOrganisation(h);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const shared = uniqueEmail('shared');
    for (const org of [oak, elm])
      expect(
        (await h.post('/api/v1/users', org.ownerToken, { email: shared, name: 'Sam Shared' }))
          .status,
      ).toBe(201);
    const disabled = await teacherOf(h, oak, 'Dee Disabled');
    await h.patch(`/api/v1/users/${disabled.id}`, oak.ownerToken, { disabled: true });
    await work();
    smtp.received.length = 0;
    const auditBefore = new Set(
      (await h.database.db.selectFrom('audit_events').select('id').execute()).map((a) => a.id),
    );

    const unknown = await ask(h, 'nobody.here@school.test');
    const disabledAnswer = await ask(h, disabled.email);
    const sharedAnswer = await ask(h, shared);
    for (const answer of [disabledAnswer, sharedAnswer]) {
      expect(answer.status).toBe(unknown.status);
      expect(answer.body).toEqual(unknown.body);
    }
    expect(unknown.status).toBe(202);
    await work();
    // The unknown and the disabled address get nothing, and leave no trace; the shared one an
    // email per organisation, each naming its own, each audited there.
    expect(smtp.to('nobody.here@school.test')).toHaveLength(0);
    expect(smtp.to(disabled.email)).toHaveLength(0);
    expect(
      smtp
        .to(shared)
        .map((m) => m.subject)
        .sort(),
    ).toEqual(['Reset your Haven password (Elm Trust)', 'Reset your Haven password (Oak Trust)']);
    const added = (
      await h.database.db
        .selectFrom('audit_events')
        .select(['id', 'action', 'organisation_id'])
        .execute()
    ).filter((a) => !auditBefore.has(a.id));
    expect(added.map((a) => a.action)).toEqual([
      'user.password_reset_request',
      'user.password_reset_request',
    ]);
    expect(added.map((a) => a.organisation_id).sort()).toEqual(
      [oak.organisationId, elm.organisationId].sort(),
    );
    // Each link opens only its own account.
    const oakMail = smtp.to(shared).find((m) => m.subject.includes('Oak'));
    expect((await confirm(h, linkToken(oakMail, '/reset-password'))).status).toBe(204);
    const hashes = await h.database.db
      .selectFrom('users')
      .select(['organisation_id', 'password_hash'])
      .where('email', '=', shared)
      .execute();
    expect(
      hashes.find((u) => u.organisation_id === oak.organisationId)!.password_hash,
    ).not.toBeNull();
    expect(hashes.find((u) => u.organisation_id === elm.organisationId)!.password_hash).toBeNull();
  });

  it('a disabled account cannot use a link it was sent before', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await teacherOf(h, org);
    await ask(h, teacher.email);
    await work();
    const token = linkToken(smtp.to(teacher.email)[0], '/reset-password');
    await h.patch(`/api/v1/users/${teacher.id}`, org.ownerToken, { disabled: true });
    const refused = await confirm(h, token);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('account_disabled');
    await h.patch(`/api/v1/users/${teacher.id}`, org.ownerToken, { disabled: false });
    expect(await login(h, teacher.email)).toBeTruthy();
  });

  it('takes about as long for a known email as for an unknown one', async () => {
    const { h, work } = mailed();
    const org = await setupOrganisation(h);
    // A fresh account per request, so every known request does the whole work (no throttle).
    const known: string[] = [];
    for (let i = 0; i < 25; i++) {
      const email = uniqueEmail('timing');
      await h.post('/api/v1/users', org.ownerToken, { email, name: `Timing ${i}` });
      known.push(email);
    }
    const time = async (email: string) => {
      const started = process.hrtime.bigint();
      const reply = await ask(h, email);
      expect(reply.status).toBe(202);
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    for (let i = 0; i < 3; i++) await time(`warm.${i}@school.test`);
    const knownMs: number[] = [];
    const unknownMs: number[] = [];
    for (let i = 0; i < known.length; i++) {
      knownMs.push(await time(known[i]!));
      unknownMs.push(await time(`unknown.${i}@school.test`));
    }
    const ratio = median(knownMs) / median(unknownMs);
    // Both are the same one insert: the accounts are looked up by the worker, later.
    const measured = `known ${median(knownMs)} ms, unknown ${median(unknownMs)} ms`;
    expect(ratio, measured).toBeLessThan(2);
    expect(ratio, measured).toBeGreaterThan(0.5);
    expect(await h.database.db.selectFrom('account_tokens').selectAll().execute()).toEqual([]);
    const waiting = await h.database.db.selectFrom('password_reset_requests').selectAll().execute();
    expect(waiting).toHaveLength(3 + 2 * known.length);
    expect((await work()).accountRequests).toBe(3 + 2 * known.length);
    expect(await h.database.db.selectFrom('account_tokens').selectAll().execute()).toHaveLength(
      known.length,
    );
  });
});

describe('password reset without email', () => {
  const haven = useHaven();

  it('still answers 202, the same for any address, says email is off, and queues nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const asked = await ask(h, org.ownerEmail);
    expect(asked.status).toBe(202);
    expect(asked.body.emailOn).toBe(false);
    expect(asked.body.message).toContain('HAVEN_SMTP_URL');
    const unknown = await ask(h, 'nobody-at-all@elsewhere.test');
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(asked.body);
    expect(await h.database.db.selectFrom('account_tokens').selectAll().execute()).toEqual([]);
    expect(await h.database.db.selectFrom('password_reset_requests').selectAll().execute()).toEqual(
      [],
    );
    expect(
      await h.database.db
        .selectFrom('outbox')
        .selectAll()
        .where('kind', '=', 'password_reset')
        .execute(),
    ).toEqual([]);
  });
});
