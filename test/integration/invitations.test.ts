import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkToken, tableText, useHavenWithMail } from '../support/account-links.ts';
import { runHaven } from '../support/cli.ts';
import {
  createUser,
  grantRole,
  login,
  setupOrganisation,
  type TestOrg,
  uniqueEmail,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

const CHOSEN = 'marble-Orchard-58-sparrow';
const DAY = 24 * 3_600_000;

const accept = (h: TestHaven, token: string, password = CHOSEN) =>
  h.post('/api/v1/auth/accept-invitation', undefined, { token, password });

/** Adds a person by invitation as `asToken`, holding Viewer at the school if `role` (default). */
async function invite(
  h: TestHaven,
  org: TestOrg,
  asToken: string,
  options: { role?: boolean } = {},
) {
  const email = uniqueEmail('invited');
  const reply = await h.post('/api/v1/users', asToken, {
    email,
    name: 'Ivy Invited',
    invite: true,
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  if (options.role !== false)
    await grantRole(h, org.ownerToken, { type: 'user', id: reply.body.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
  return { id: reply.body.id as string, email, reply };
}

async function auditOf(h: TestHaven, userId: string) {
  return h.database.db
    .selectFrom('audit_events')
    .select(['action', 'actor_user_id', 'organisation_id', 'meta_json'])
    .where('target_id', '=', userId)
    .orderBy('seq')
    .execute();
}

describe('invitations', () => {
  const mailed = useHavenWithMail();

  it('an invited teacher sets a password from the emailed link, is signed in, and the link works once', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      name: 'Ada Admin',
      role: 'admin',
      organisationId: org.organisationId,
    });
    const teacher = await invite(h, org, admin.token!);
    const created = teacher.reply.body;
    expect(created.status).toBe('invited');
    expect(created.lastSignInAt).toBeNull();
    expect(Date.parse(created.invitation.expiresAt) - Date.parse(created.invitation.sentAt)).toBe(
      7 * DAY,
    );

    // Queued in the same change, the token sealed: not readable in the outbox.
    const queued = await h.database.db
      .selectFrom('outbox')
      .select(['kind', 'payload', 'status'])
      .where('to_user_id', '=', teacher.id)
      .execute();
    expect(queued).toHaveLength(1);
    expect(queued[0]!.kind).toBe('invitation');
    expect(JSON.parse(queued[0]!.payload).sealedToken).toMatch(/^v1\./);

    await work();
    const [email] = smtp.to(teacher.email);
    expect(email!.subject).toBe('You are invited to Haven at Oak Trust');
    expect(email!.text).toContain('Ada Admin has added you');
    const token = linkToken(email, '/accept-invitation');
    // The raw token is in no table: the outbox payload was wiped once sent, and only its hash is kept.
    for (const table of ['outbox', 'audit_events', 'account_tokens'] as const)
      expect(await tableText(h, table)).not.toContain(token);
    const sent = await h.database.db
      .selectFrom('outbox')
      .select(['payload', 'status'])
      .where('to_user_id', '=', teacher.id)
      .executeTakeFirstOrThrow();
    expect(sent.status).toBe('sent');
    expect(JSON.parse(sent.payload)).toEqual({ kind: 'invitation', tokenId: expect.any(String) });

    // A weak password is refused and the link still works.
    const weak = await accept(h, token, 'password1234');
    expect(weak.status).toBe(400);
    expect(weak.body.code).toBe('validation_failed');
    expect(weak.body.errors[0].field).toBe('password');

    const accepted = await accept(h, token);
    expect(accepted.status).toBe(200);
    expect(Object.keys(accepted.body).sort()).toEqual(
      ['csrfToken', 'expiresAt', 'mfaEnrolmentRequired', 'token', 'user'].sort(),
    );
    expect(accepted.body.user).toMatchObject({ id: teacher.id, status: 'active' });
    expect(String(accepted.headers['set-cookie'])).toContain('HttpOnly');
    expect(String(accepted.headers['set-cookie'])).toContain(
      `haven_session=${accepted.body.token}`,
    );
    expect((await h.get('/api/v1/me', accepted.body.token)).body.id).toBe(teacher.id);

    // Once only.
    const again = await accept(h, token, 'another-Harbour-77-lantern');
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalid_token');
    expect(await login(h, teacher.email, CHOSEN)).toBeTruthy();

    const listed = await h.get('/api/v1/users', admin.token, { q: teacher.email });
    expect(listed.body.items[0]).toMatchObject({ status: 'active', invitation: null });
    expect(listed.body.items[0].lastSignInAt).not.toBeNull();

    const audit = await auditOf(h, teacher.id);
    expect(audit.map((a) => a.action)).toEqual([
      'user.create',
      'user.invite',
      'user.invitation_accept',
    ]);
    expect(audit[1]!.actor_user_id).toBe(admin.id);
    expect(audit[2]!.actor_user_id).toBe(teacher.id);
    const signIns = await h.database.db
      .selectFrom('audit_events')
      .select('meta_json')
      .where('action', '=', 'auth.login')
      .where('actor_user_id', '=', teacher.id)
      .execute();
    expect(signIns.map((s) => JSON.parse(s.meta_json!).method)).toContain('invitation');
  });

  it('a resend makes the old link fail, and an email whose link was replaced before sending is withdrawn', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await invite(h, org, org.ownerToken);
    await work();
    const first = linkToken(smtp.to(teacher.email)[0], '/accept-invitation');

    const resent = await h.post(`/api/v1/users/${teacher.id}/invitation`, org.ownerToken);
    expect(resent.status).toBe(202);
    expect(resent.body.delivery).toBe('email');
    // Resent twice before the worker passes: only the newest is sent.
    expect((await h.post(`/api/v1/users/${teacher.id}/invitation`, org.ownerToken)).status).toBe(
      202,
    );
    const pass = await work();
    expect(pass).toMatchObject({ sent: 1, withdrawn: 1 });
    const emails = smtp.to(teacher.email);
    expect(emails).toHaveLength(2);
    const second = linkToken(emails[1], '/accept-invitation');
    const outbox = await h.database.db
      .selectFrom('outbox')
      .select(['status', 'payload'])
      .where('to_user_id', '=', teacher.id)
      .execute();
    expect(outbox.map((o) => o.status).sort()).toEqual(['sent', 'sent', 'withdrawn']);
    // Every payload wiped, the withdrawn one too.
    expect(outbox.every((o) => JSON.parse(o.payload).sealedToken === undefined)).toBe(true);

    const old = await accept(h, first);
    expect(old.status).toBe(400);
    expect(old.body.code).toBe('invalid_token');
    expect((await accept(h, second)).status).toBe(200);

    const resends = (await auditOf(h, teacher.id)).filter((a) => a.action === 'user.invite');
    expect(resends.map((a) => JSON.parse(a.meta_json!).resend)).toEqual([false, true, true]);
  });

  it('an expired link fails and changes nothing; an email due after its link expired is withdrawn', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const late = await invite(h, org, org.ownerToken);
    // The worker was down for eight days: the invitation is not sent.
    const pass = await work(new Date(Date.now() + 8 * DAY));
    expect(pass.withdrawn).toBe(1);
    expect(smtp.to(late.email)).toHaveLength(0);

    const teacher = await invite(h, org, org.ownerToken);
    await work();
    const token = linkToken(smtp.to(teacher.email)[0], '/accept-invitation');
    // Eight days on: the token was made 8 days ago and ran out a day ago.
    await h.database.db
      .updateTable('account_tokens')
      .set({
        created_at: new Date(Date.now() - 8 * DAY).toISOString(),
        expires_at: new Date(Date.now() - DAY).toISOString(),
      })
      .where('user_id', '=', teacher.id)
      .execute();
    const expired = await accept(h, token);
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('invalid_token');
    const user = await h.database.db
      .selectFrom('users')
      .select(['password_hash', 'activated_at'])
      .where('id', '=', teacher.id)
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ password_hash: null, activated_at: null });
    // An unknown token answers the same.
    const unknown = await accept(h, 'x'.repeat(43));
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual(expired.body);
    // The list shows the invitation, expired, for the Admin to send again.
    const listed = await h.get(`/api/v1/users/${teacher.id}`, org.ownerToken);
    expect(listed.body.status).toBe('invited');
    expect(Date.parse(listed.body.invitation.expiresAt)).toBeLessThan(Date.now());
    expect((await h.post(`/api/v1/users/${teacher.id}/invitation`, org.ownerToken)).status).toBe(
      202,
    );
  });

  it('a disabled user cannot accept; someone with no role yet sets the password and is told no_role', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const disabled = await invite(h, org, org.ownerToken);
    const member = await invite(h, org, org.ownerToken, { role: false });
    await work();
    const disabledToken = linkToken(smtp.to(disabled.email)[0], '/accept-invitation');
    const memberToken = linkToken(smtp.to(member.email)[0], '/accept-invitation');

    expect(
      (await h.patch(`/api/v1/users/${disabled.id}`, org.ownerToken, { disabled: true })).status,
    ).toBe(200);
    const refused = await accept(h, disabledToken);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('account_disabled');
    const row = await h.database.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', disabled.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
    // Nor can the Admin invite them again while they are disabled.
    const resend = await h.post(`/api/v1/users/${disabled.id}/invitation`, org.ownerToken);
    expect(resend.status).toBe(409);
    expect(resend.body.code).toBe('account_disabled');

    const noRole = await accept(h, memberToken);
    expect(noRole.status).toBe(403);
    expect(noRole.body.code).toBe('no_role');
    expect(noRole.headers['set-cookie']).toBeUndefined();
    // The password is set and the link spent: given a role, they sign in with it.
    expect((await accept(h, memberToken)).body.code).toBe('invalid_token');
    await grantRole(h, org.ownerToken, { type: 'user', id: member.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    expect(await login(h, member.email, CHOSEN)).toBeTruthy();
  });

  it('an invited person who resets their password instead is active, and the invitation link is dead', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await invite(h, org, org.ownerToken);
    await work();
    const invitation = linkToken(smtp.to(teacher.email)[0], '/accept-invitation');
    await h.post('/api/v1/auth/password-reset', undefined, { email: teacher.email });
    await work();
    const reset = linkToken(smtp.to(teacher.email)[1], '/reset-password');
    const done = await h.post('/api/v1/auth/password-reset/confirm', undefined, {
      token: reset,
      password: CHOSEN,
    });
    expect(done.status).toBe(204);
    expect((await accept(h, invitation)).body.code).toBe('invalid_token');
    const user = await h.get(`/api/v1/users/${teacher.id}`, org.ownerToken);
    expect(user.body).toMatchObject({ status: 'active', invitation: null });
    expect(await login(h, teacher.email, CHOSEN)).toBeTruthy();
  });

  it('users.manage: Deputy DSL and Admin invite and resend, a Viewer may not; nobody resends to an active user', async () => {
    const { h } = mailed();
    const org = await setupOrganisation(h);
    const at = { type: 'school' as const, id: org.schoolId };
    const deputy = await createUser(h, org.ownerToken, { role: 'deputy_dsl', scope: at });
    const admin = await createUser(h, org.ownerToken, { role: 'admin', scope: at });
    const viewer = await createUser(h, org.ownerToken, { role: 'viewer', scope: at });

    for (const caller of [deputy, admin]) {
      const invited = await invite(h, org, caller.token!, { role: false });
      const again = await h.post(`/api/v1/users/${invited.id}/invitation`, caller.token);
      expect(again.status).toBe(202);
    }
    const target = await invite(h, org, org.ownerToken, { role: false });
    const refused = await h.post('/api/v1/users', viewer.token, {
      email: uniqueEmail(),
      name: 'Not Added',
      invite: true,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
    const resend = await h.post(`/api/v1/users/${target.id}/invitation`, viewer.token);
    expect(resend.status).toBe(403);
    expect(resend.body.code).toBe('forbidden');

    // An Admin at the school cannot resend to someone holding a role they could not grant.
    const invitedOwner = await invite(h, org, org.ownerToken, { role: false });
    await grantRole(h, org.ownerToken, { type: 'user', id: invitedOwner.id }, 'owner', {
      type: 'organisation',
      id: org.organisationId,
    });
    expect((await h.post(`/api/v1/users/${invitedOwner.id}/invitation`, admin.token)).status).toBe(
      403,
    );

    const active = await h.post(`/api/v1/users/${viewer.id}/invitation`, admin.token);
    expect(active.status).toBe(409);
    expect(active.body.code).toBe('already_active');
    const missing = await h.post(
      '/api/v1/users/01JZZZZZZZZZZZZZZZZZZZZZZZ/invitation',
      admin.token,
    );
    expect(missing.status).toBe(404);
    const both = await h.post('/api/v1/users', admin.token, {
      email: uniqueEmail(),
      name: 'Both',
      password: STRONG_PASSWORD,
      invite: true,
    });
    expect(both.status).toBe(400);
    expect(both.body.errors[0].field).toBe('invite');
  });

  it('the users list shows invited, active and disabled, and filters by each', async () => {
    const { h } = mailed();
    const org = await setupOrganisation(h);
    const invited = await invite(h, org, org.ownerToken, { role: false });
    const noPassword = await h.post('/api/v1/users', org.ownerToken, {
      email: uniqueEmail(),
      name: 'Nell No-password',
    });
    const withPassword = await createUser(h, org.ownerToken, { name: 'Pat Password' });
    const disabled = await createUser(h, org.ownerToken, { name: 'Dee Disabled' });
    await h.patch(`/api/v1/users/${disabled.id}`, org.ownerToken, { disabled: true });

    const all = await h.get('/api/v1/users', org.ownerToken, { limit: 200 });
    const byId = new Map<string, any>(all.body.items.map((u: any) => [u.id, u]));
    expect(byId.get(invited.id)).toMatchObject({
      status: 'invited',
      invitation: { sentAt: expect.any(String), expiresAt: expect.any(String) },
    });
    // Added without a password nor an invitation: not active, nothing outstanding.
    expect(byId.get(noPassword.body.id)).toMatchObject({ status: 'invited', invitation: null });
    expect(byId.get(withPassword.id)).toMatchObject({ status: 'active', invitation: null });
    expect(byId.get(disabled.id)).toMatchObject({ status: 'disabled' });
    expect(byId.get(org.ownerId)).toMatchObject({ status: 'active' });

    const ids = async (status: string) =>
      (await h.get('/api/v1/users', org.ownerToken, { status, limit: 200 })).body.items
        .map((u: any) => u.id)
        .sort();
    expect(await ids('invited')).toEqual([invited.id, noPassword.body.id].sort());
    expect(await ids('disabled')).toEqual([disabled.id]);
    expect(await ids('active')).toEqual([org.ownerId, withPassword.id].sort());
    expect(await ids('enabled')).toEqual(
      [org.ownerId, withPassword.id, invited.id, noPassword.body.id].sort(),
    );
  });

  it('`haven users import --invite` invites everyone in the file', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const dir = mkdtempSync(path.join(tmpdir(), 'haven-invite-'));
    try {
      const csv = path.join(dir, 'staff.csv');
      const emails = [uniqueEmail('import'), uniqueEmail('import'), uniqueEmail('import')];
      writeFileSync(csv, `email,name\n${emails.map((e, i) => `${e},Staff ${i}`).join('\n')}\n`);
      const imported = await runHaven(h, ['users', 'import', '--file', csv, '--invite'], {
        HAVEN_SMTP_URL: smtp.url,
      });
      expect(imported.err).toBe('');
      expect(imported).toMatchObject({ code: 0 });
      expect(imported.out).toContain('Added 3 users, each sent an invitation');

      const invited = await h.get('/api/v1/users', org.ownerToken, { status: 'invited' });
      expect(invited.body.items).toHaveLength(3);
      expect(invited.body.items.every((u: any) => u.invitation !== null)).toBe(true);
      expect((await work()).sent).toBeGreaterThanOrEqual(3);
      const user = invited.body.items.find((u: any) => u.email === emails[1]);
      await grantRole(h, org.ownerToken, { type: 'user', id: user.id }, 'viewer', {
        type: 'school',
        id: org.schoolId,
      });
      const accepted = await accept(h, linkToken(smtp.to(emails[1]!)[0], '/accept-invitation'));
      expect(accepted.status).toBe(200);
      expect(await tableText(h, 'audit_events')).toContain('"user.invite"');

      // Without email, `--invite` refuses before adding anyone: the other two are still invited.
      const csv2 = path.join(dir, 'more.csv');
      writeFileSync(csv2, `email,name\n${uniqueEmail('import')},Late\n`);
      const off = await runHaven(h, ['users', 'import', '--file', csv2, '--invite']);
      expect(off.code).toBe(1);
      expect(off.err).toContain('email_off');
      expect(
        (await h.get('/api/v1/users', org.ownerToken, { status: 'invited' })).body.items,
      ).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an organisation that signs in only through its identity provider', () => {
  const mailed = useHavenWithMail();

  it('sets no password from an invitation and sends no reset link', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const teacher = await invite(h, org, org.ownerToken);
    await work();
    const token = linkToken(smtp.to(teacher.email)[0], '/accept-invitation');
    // Turned off as `PUT /organisation/sso` does once single sign-on is proven (test/integration/sso.test.ts).
    await h.database.db
      .insertInto('sso_settings')
      .values({
        organisation_id: org.organisationId,
        password_sign_in: 0,
        create_accounts: 0,
        accept_provider_mfa: 0,
        updated_at: new Date().toISOString(),
      })
      .execute();

    const refused = await accept(h, token);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('password_sign_in_off');
    const user = await h.database.db
      .selectFrom('users')
      .select(['password_hash', 'activated_at'])
      .where('id', '=', teacher.id)
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ password_hash: null, activated_at: null });

    const asked = await h.post('/api/v1/auth/password-reset', undefined, { email: org.ownerEmail });
    expect(asked.status).toBe(202);
    await work();
    expect(smtp.to(org.ownerEmail)).toEqual([]);
  });
});

describe('invitations without email', () => {
  const haven = useHaven();

  it('say that email is off instead of pretending, and add nobody', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const email = uniqueEmail();
    const refused = await h.post('/api/v1/users', org.ownerToken, {
      email,
      name: 'Nobody Told',
      invite: true,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('email_off');
    expect(refused.body.detail).toContain('HAVEN_SMTP_URL');
    expect((await h.get('/api/v1/users', org.ownerToken, { q: email })).body.items).toEqual([]);
    const added = await h.post('/api/v1/users', org.ownerToken, { email, name: 'Later' });
    const resend = await h.post(`/api/v1/users/${added.body.id}/invitation`, org.ownerToken);
    expect(resend.status).toBe(409);
    expect(resend.body.code).toBe('email_off');
  });
});
