import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installationPrincipal } from '../../src/access/principal.ts';
import { AuthService } from '../../src/modules/auth/service.ts';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  grantRole,
  setupOrganisation,
} from '../support/factories.ts';
import { STRONG_PASSWORD, startHavenWith, type TestHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';
import { TestSmtpServer } from '../support/smtp.ts';
import { enrolTotp, TotpClock } from '../support/two-factor.ts';

// Issue 13, item 3: an Owner, or a DSL for staff of their schools, resets another person's
// two-factor sign-in (never their own); the person's sessions end, the reset is audited and
// raised as a security alert, and the person enrols again where their school asks.

let smtp: TestSmtpServer;
let h: TestHaven;
const clock = new TotpClock();

beforeEach(async () => {
  smtp = await new TestSmtpServer().start();
  clock.ms = Date.parse('2030-01-01T00:00:10Z');
  h = await startHavenWith(
    (services, config, database) => {
      services.auth = new AuthService(database, config, { clock: () => clock.ms });
    },
    {
      HAVEN_SMTP_URL: smtp.url,
      HAVEN_MAIL_FROM: 'Haven <haven@school.example>',
      HAVEN_PUBLIC_URL: 'https://haven.school.example',
    },
  );
});

afterEach(async () => {
  await h.close();
  await smtp.close();
});

const reset = (token: string | undefined, userId: string) =>
  h.delete(`/api/v1/users/${userId}/totp`, token);

function signIn(email: string, totp?: string) {
  return h.post('/api/v1/auth/login', undefined, {
    email,
    password: STRONG_PASSWORD,
    ...(totp ? { totp } : {}),
  });
}

async function totpRows(userId: string) {
  const [enrolments, codes] = await Promise.all([
    h.database.db.selectFrom('user_totp').select('user_id').where('user_id', '=', userId).execute(),
    h.database.db
      .selectFrom('totp_recovery_codes')
      .select('id')
      .where('user_id', '=', userId)
      .execute(),
  ]);
  return { enrolments: enrolments.length, codes: codes.length };
}

async function securityAlertsOf(userId: string) {
  return h.database.db
    .selectFrom('alerts')
    .select(['message', 'recipient_id'])
    .where('kind', '=', 'security')
    .where('recipient_type', '=', 'user')
    .where('recipient_id', '=', userId)
    .where('message', 'like', '%two-factor%')
    .execute();
}

/**
 * The Year 9 school with enrolled staff: Vera (Viewer), Dina (DSL) and the Owner at Oak; Ed, a
 * Viewer only at Elm; Dee, Deputy DSL at Oak; Tom, a Viewer at both Oak and Elm. Every one of them
 * has two-factor sign-in on and a session of their own.
 */
async function world() {
  const s = await school(h);
  const elm = await addSchool(h, s.t, 'Elm Academy');
  const elmDsl = await createUser(h, s.t, {
    name: 'Elsie Elm-DSL',
    role: 'dsl',
    scope: { type: 'school', id: elm },
  });
  const ed = await createUser(h, s.t, {
    name: 'Ed Elsewhere',
    role: 'viewer',
    scope: { type: 'school', id: elm },
  });
  const dee = await createUser(h, s.t, {
    name: 'Dee Deputy',
    role: 'deputy_dsl',
    scope: s.atSchool,
  });
  const tom = await createUser(h, s.t, {
    name: 'Tom Two-Schools',
    role: 'viewer',
    scope: s.atSchool,
  });
  await grantRole(h, s.t, { type: 'user', id: tom.id }, 'viewer', { type: 'school', id: elm });
  const enrolled = {
    owner: await enrolTotp(h, s.t, clock),
    vera: await enrolTotp(h, s.users.viewer.token!, clock),
    dina: await enrolTotp(h, s.users.dsl.token!, clock),
    ed: await enrolTotp(h, ed.token!, clock),
    tom: await enrolTotp(h, tom.token!, clock),
  };
  // Setting all this up raised security alerts and emails of its own.
  await h.services.worker.runOnce();
  smtp.received.length = 0;
  return { s, elm, elmDsl, ed, dee, tom, enrolled };
}

describe('resetting another person’s two-factor sign-in', () => {
  it('an Owner resets a teacher’s: codes gone, sessions ended, audited, Owners and DSLs told; the teacher signs in with a password alone', async () => {
    const { s, elmDsl } = await world();
    const vera = s.users.viewer;
    expect(await totpRows(vera.id)).toEqual({ enrolments: 1, codes: 10 });
    expect((await h.get('/api/v1/me', vera.token)).status).toBe(200);
    // Before: sign-in needs a code.
    expect((await signIn(vera.email)).body.code).toBe('totp_required');

    const standing = await h.get(`/api/v1/users/${vera.id}/totp`, s.t);
    expect(standing.body).toEqual({ status: 'active', abilities: { reset: true } });

    const done = await reset(s.t, vera.id);
    expect(done.status).toBe(204);
    expect(await totpRows(vera.id)).toEqual({ enrolments: 0, codes: 0 });
    // Whoever holds the phone is signed out too.
    const after = await h.get('/api/v1/me', vera.token);
    expect(after.status).toBe(401);
    const ended = await h.database.db
      .selectFrom('sessions')
      .select(['ended_at', 'end_reason'])
      .where('user_id', '=', vera.id)
      .execute();
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((row) => row.ended_at !== null && row.end_reason === 'totp_reset')).toBe(
      true,
    );

    const audit = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'user.totp_reset')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_user_id: s.org.ownerId,
      target_type: 'user',
      target_id: vera.id,
    });
    expect(JSON.stringify(audit[0])).toContain('sessionsEnded');

    // A security alert to the Owner and the DSL over Oak, in the app and by email; not to the
    // DSL of Elm, nor to Vera's Viewer colleague.
    expect(await securityAlertsOf(s.org.ownerId)).toHaveLength(1);
    const [alert] = await securityAlertsOf(s.users.dsl.id);
    expect(alert?.message).toContain('Vera Viewer');
    expect(alert?.message).toContain('Olive Owner');
    expect(await securityAlertsOf(elmDsl.id)).toEqual([]);
    expect(await securityAlertsOf(s.users.colleague.id)).toEqual([]);
    // Vera herself is told: a reset she did not ask for is someone taking over her account.
    expect(await securityAlertsOf(vera.id)).toHaveLength(1);
    const inApp = (await h.get('/api/v1/alerts', s.users.dsl.token)).body.items as any[];
    expect(inApp.some((a) => a.kind === 'security' && a.message.includes('Vera Viewer'))).toBe(
      true,
    );
    await h.services.worker.runOnce();
    for (const watcher of [s.org.ownerEmail, s.users.dsl.email, vera.email]) {
      const mail = smtp.to(watcher).filter((m) => m.subject === 'Haven security alert');
      expect(mail, watcher).toHaveLength(1);
      expect(mail[0]!.text).toContain('Vera Viewer');
    }
    expect(smtp.to(elmDsl.email)).toEqual([]);

    // Vera signs in with her password alone; her school does not ask a Viewer to enrol.
    const back = await signIn(vera.email);
    expect(back.status).toBe(200);
    expect(back.body.user.totpStatus).toBe('off');
    expect(back.body.mfaEnrolmentRequired).toBe(false);

    // Nothing is left to reset.
    const again = await reset(s.t, vera.id);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('totp_not_enabled');
    expect((await h.get(`/api/v1/users/${vera.id}/totp`, s.t)).body).toEqual({
      status: 'off',
      abilities: { reset: false },
    });
  });

  it('a DSL resets a teacher of their school, but not one at another school, an Owner or their own', async () => {
    const { s, ed, tom } = await world();
    const dsl = s.users.dsl;

    // Not a teacher only at Elm: 403 (staff lists are the organisation's, so Ed is no secret).
    const other = await reset(dsl.token, ed.id);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('forbidden');
    // Nor one who also works at Elm, where Dina is not DSL.
    const both = await reset(dsl.token, tom.id);
    expect(both.status).toBe(403);
    expect(both.body.code).toBe('forbidden');
    // Nor the Owner, whose role is above hers.
    const owner = await reset(dsl.token, s.org.ownerId);
    expect(owner.status).toBe(403);
    expect(owner.body.code).toBe('forbidden');
    // Nor her own: that is DELETE /me/totp, with a code.
    const own = await reset(dsl.token, dsl.id);
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('totp_reset_own');
    // The Owner may not reset their own here either.
    expect((await reset(s.t, s.org.ownerId)).body.code).toBe('totp_reset_own');

    // Every refusal left the enrolments and sessions as they were, and is in the audit log.
    for (const id of [ed.id, tom.id, s.org.ownerId, dsl.id])
      expect(await totpRows(id)).toEqual({ enrolments: 1, codes: 10 });
    expect((await h.get('/api/v1/me', ed.token)).status).toBe(200);
    const refused = await h.database.db
      .selectFrom('audit_events')
      .select('action')
      .where('actor_user_id', '=', dsl.id)
      .where('action', 'in', ['request.forbidden', 'request.totp_reset_own'])
      .execute();
    expect(refused).toHaveLength(4);

    // The abilities the web app is sent say the same.
    const ability = async (id: string) =>
      (await h.get(`/api/v1/users/${id}/totp`, dsl.token)).body.abilities.reset;
    expect(await ability(ed.id)).toBe(false);
    expect(await ability(tom.id)).toBe(false);
    expect(await ability(s.org.ownerId)).toBe(false);
    expect(await ability(dsl.id)).toBe(false);
    expect(await ability(s.users.viewer.id)).toBe(true);

    // A teacher of her own school: yes.
    expect((await reset(dsl.token, s.users.viewer.id)).status).toBe(204);
    expect(await totpRows(s.users.viewer.id)).toEqual({ enrolments: 0, codes: 0 });
    expect((await h.get('/api/v1/me', s.users.viewer.token)).status).toBe(401);
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select(['actor_user_id', 'target_id'])
      .where('action', '=', 'user.totp_reset')
      .execute();
    expect(audit).toEqual([{ actor_user_id: dsl.id, target_id: s.users.viewer.id }]);

    // The Owner resets anyone's in the organisation: Ed at Elm, and Dina.
    expect((await reset(s.t, ed.id)).status).toBe(204);
    expect((await reset(s.t, dsl.id)).status).toBe(204);
  });

  it('a member of a group homed at the school counts as its staff; a DSL of the trust resets anyone but an Owner', async () => {
    const { s, ed, tom } = await world();
    // A Member-only supply teacher in a group homed at Oak: Oak's staff, though holding no role.
    const supply = await createUser(h, s.t, { name: 'Sam Supply' });
    const cover = await createUserGroup(h, s.t, 'Cover staff', { homeScope: s.atSchool });
    await addMembers(h, s.t, cover, [supply.id]);
    await h.database.db
      .insertInto('user_totp')
      .values({
        user_id: supply.id,
        organisation_id: s.org.organisationId,
        secret: 'sealed',
        created_at: new Date().toISOString(),
        confirmed_at: new Date().toISOString(),
        last_time_step: null,
      })
      .execute();
    expect((await reset(s.users.dsl.token, supply.id)).status).toBe(204);

    const trustDsl = await createUser(h, s.t, {
      name: 'Tina Trust-DSL',
      role: 'dsl',
      organisationId: s.org.organisationId,
    });
    expect((await reset(trustDsl.token, s.org.ownerId)).status).toBe(403);
    expect((await reset(trustDsl.token, ed.id)).status).toBe(204);
    expect((await reset(trustDsl.token, tom.id)).status).toBe(204);
    // Tom works at two schools: those told are the Owners and DSLs over both, not Oak's DSL
    // alone, and Tom himself.
    const told = await h.database.db
      .selectFrom('alerts')
      .select('recipient_id')
      .where('kind', '=', 'security')
      .where('message', 'like', '%Tom Two-Schools%')
      .execute();
    expect(told.map((a) => a.recipient_id).sort()).toEqual(
      [s.org.ownerId, trustDsl.id, tom.id].sort(),
    );
  });

  it('a Deputy DSL (just below DSL) and an Admin are refused with the role it needs; a user of another organisation is not found', async () => {
    const { s, dee } = await world();
    const vera = s.users.viewer;
    const deputy = await reset(dee.token, vera.id);
    expect(deputy.status).toBe(403);
    expect(deputy.body).toMatchObject({ code: 'forbidden', requiredRole: 'dsl' });
    expect(deputy.body.detail).toContain('DSL');
    expect((await h.get(`/api/v1/users/${vera.id}/totp`, dee.token)).status).toBe(403);
    const admin = await createUser(h, s.t, { name: 'Ann Admin', role: 'admin', scope: s.atSchool });
    expect((await reset(admin.token, vera.id)).status).toBe(403);
    expect(await totpRows(vera.id)).toEqual({ enrolments: 1, codes: 10 });
    expect((await h.get('/api/v1/me', vera.token)).status).toBe(200);

    // Another organisation's Owner, with two-factor on: not found, as an id that does not exist.
    const other = await setupOrganisation(h, { organisation: 'Birch Trust', school: 'Birch' });
    await enrolTotp(h, other.ownerToken, clock);
    const elsewhere = await reset(s.t, other.ownerId);
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.code).toBe('not_found');
    expect((await reset(s.t, '01JZZZZZZZZZZZZZZZZZZZZZZZ')).status).toBe(404);
    expect((await h.get(`/api/v1/users/${other.ownerId}/totp`, s.t)).status).toBe(404);
    expect(await totpRows(other.ownerId)).toEqual({ enrolments: 1, codes: 10 });
    // Without a session: 401.
    expect((await reset(undefined, vera.id)).status).toBe(401);
  });

  it('after a reset the person is held to enrolment at their next sign-in where their school asks', async () => {
    const s: School = await school(h);
    const dina = s.users.dsl;
    const owner = await enrolTotp(h, s.t, clock);
    const enrolled = await enrolTotp(h, dina.token!, clock);
    // Oak asks its DSLs and clearance holders to enrol (turned on as the installation would).
    await h.services.organisations.updateSchoolSettings(
      installationPrincipal(s.org.organisationId),
      s.org.schoolId,
      { requireMfaEnrolment: true },
      { organisationId: s.org.organisationId, userId: null, via: 'cli' },
    );
    // Enrolled, Dina works as before; the Owner's session is untouched by the setting.
    expect((await h.get('/api/v1/students', dina.token)).status).toBe(200);
    expect(owner.recoveryCodes).toHaveLength(10);

    expect((await reset(s.t, dina.id)).status).toBe(204);
    expect((await h.get('/api/v1/students', dina.token)).status).toBe(401);
    // A password alone signs her in...
    const login = await signIn(dina.email);
    expect(login.status).toBe(200);
    // ...to enrolment only, until she sets two-factor up again with a new secret.
    expect(login.body.mfaEnrolmentRequired).toBe(true);
    const token: string = login.body.token;
    const held = await h.get('/api/v1/students', token);
    expect(held.status).toBe(403);
    expect(held.body.code).toBe('mfa_enrolment_required');
    const again = await enrolTotp(h, token, clock);
    expect(again.secret).not.toBe(enrolled.secret);
    expect((await h.get('/api/v1/students', token)).status).toBe(200);
    // And her next sign-in needs a code from the new secret.
    expect((await signIn(dina.email)).body.code).toBe('totp_required');
    expect((await signIn(dina.email, await clock.advance().code(again.secret))).status).toBe(200);
    // A code from the phone she lost opens nothing.
    const lost = await signIn(dina.email, await clock.advance().code(enrolled.secret));
    expect(lost.status).toBe(401);
    expect(lost.body.code).toBe('invalid_code');
  });
});
