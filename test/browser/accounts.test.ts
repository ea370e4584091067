import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  createStudent,
  createUser,
  grantRole,
  login,
  setupOrganisation,
  uniqueEmail,
} from '../support/factories.ts';
import { STRONG_PASSWORD, type TestHaven } from '../support/haven.ts';
import { TestOidcProvider } from '../support/oidc.ts';
import { TestSmtpServer } from '../support/smtp.ts';
import { enrolTotp } from '../support/two-factor.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * Issue 13's accounts in the browser, against real parts: the emails come from a real SMTP server
 * (the notification worker sends them), and "Sign in with Microsoft" goes to a real OpenID
 * provider (`oidc-provider`) on a loopback port and back.
 */

const NEW_PASSWORD = 'lantern-Orchard-73-pebble';

let smtp: TestSmtpServer;
beforeAll(async () => {
  smtp = await new TestSmtpServer().start();
});
afterAll(async () => {
  await smtp?.close();
});
afterEach(() => {
  smtp.received.length = 0;
});

/** The one link to `page` in the next email to `to`, sent by a pass of the worker. */
async function emailedLink(
  haven: TestHaven,
  to: string,
  page: '/accept-invitation' | '/reset-password',
): Promise<string> {
  const before = smtp.to(to).length;
  await haven.services.worker.runOnce();
  // The server has accepted it; its parsing may take a moment longer.
  await expect.poll(() => smtp.to(to).length, { timeout: 10_000 }).toBeGreaterThan(before);
  const mails = smtp.to(to);
  const text = mails[mails.length - 1]!.text;
  const links = [...text.matchAll(new RegExp(`https?://\\S+${page}\\?token=[A-Za-z0-9_-]+`, 'g'))];
  expect(links, text).toHaveLength(1);
  return links[0]![0];
}

async function bodyText(page: Page) {
  return (await page.locator('body').textContent()) ?? '';
}

/** Follows a link of the main navigation, opening the menu first where it is folded away. */
async function navigate(page: Page, name: string) {
  const menu = page.getByRole('button', { name: 'Menu' });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();
}

describeInBrowser('invitations and passwords', () => {
  const world = useBrowserHaven(
    () => ({ HAVEN_SMTP_URL: smtp.url, HAVEN_MAIL_FROM: 'Haven <haven@school.example>' }),
    { publicUrl: true },
  );

  it('an Admin invites a teacher from the Users page; the teacher sets a password from the email and logs a concern', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven, { school: 'Oak Academy' });
    const atSchool = { type: 'school' as const, id: org.schoolId };
    await createStudent(haven, org.ownerToken, {
      schoolId: org.schoolId,
      givenName: 'Cara',
      familyName: 'Clark',
      yearGroup: 10,
    });
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: atSchool,
    });
    const teacherEmail = uniqueEmail('tom');

    // The Admin adds Tom with "Send an invitation email" (ticked by default): no password.
    const adminPage = await world().newPage();
    await signIn(adminPage, url, admin.email);
    await navigate(adminPage, 'Users');
    await adminPage.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await adminPage.getByRole('button', { name: 'Add a user' }).click();
    await adminPage.getByLabel('Name', { exact: true }).fill('Tom Tutor');
    await adminPage.getByLabel('Email', { exact: true }).fill(teacherEmail);
    expect(await adminPage.getByLabel('Send an invitation email').isChecked()).toBe(true);
    expect(await adminPage.getByLabel('Password (optional)').count()).toBe(0);
    expect(await seriousViolations(adminPage)).toEqual([]);
    await adminPage.getByRole('button', { name: 'Add user' }).click();
    await adminPage
      .getByText(`sent an invitation to ${teacherEmail}: its link works for 7 days.`)
      .waitFor();
    const row = adminPage.getByRole('row', { name: /Tom Tutor/ });
    await row.getByText('Invited', { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Resend invitation to Tom Tutor' }).waitFor();
    const tom = await haven.database.db
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where('email', '=', teacherEmail)
      .executeTakeFirstOrThrow();
    expect(tom.password_hash).toBeNull();
    // A teacher who reports: Viewer at the school.
    await grantRole(haven, org.ownerToken, { type: 'user', id: tom.id }, 'viewer', atSchool);

    // The invitation arrives by email, with a link to this Haven's accept-invitation page.
    const link = await emailedLink(haven, teacherEmail, '/accept-invitation');
    expect(link.startsWith(`${url}/accept-invitation?token=`)).toBe(true);

    // Tom, on his phone, opens it: no session, a password to choose, the rules said up front.
    const page = await world().newPage(PHONE);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Welcome to Haven' }).waitFor();
    await page.getByText('At least 12 characters, and not easy to guess').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    const choose = page.getByLabel('Choose a password', { exact: true });
    const again = page.getByLabel('Type the password again');
    const submit = page.getByRole('button', { name: 'Set password and sign in' });
    // Two different passwords are caught before anything is sent.
    await choose.fill(NEW_PASSWORD);
    await again.fill(`${NEW_PASSWORD}x`);
    await submit.click();
    await page.getByText('The two passwords are not the same.').waitFor();
    // A guessable one is refused by the server, next to the field; the link still works.
    await choose.fill('password1234');
    await again.fill('password1234');
    await submit.click();
    await page.getByText(/^The password is too easy to guess/).waitFor();
    expect(
      (
        await haven.database.db
          .selectFrom('users')
          .select('password_hash')
          .where('id', '=', tom.id)
          .executeTakeFirstOrThrow()
      ).password_hash,
    ).toBeNull();

    await choose.fill(NEW_PASSWORD);
    await again.fill(NEW_PASSWORD);
    await submit.click();
    // Signed in at once, at home.
    await page.getByRole('heading', { name: 'Hello, Tom' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');

    // He logs a concern about Cara.
    await navigate(page, 'Log a concern');
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    await page.getByRole('combobox', { name: 'Children involved' }).fill('clark');
    await page.getByRole('option', { name: /Cara Clark · Year 10/ }).click();
    await page.getByLabel('Category').selectOption({ label: 'Bullying' });
    await page.getByLabel('What happened').fill('Cara was pushed over at the lockers.');
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByRole('heading', { name: 'Concern saved' }).waitFor();
    const incident = await haven.database.db
      .selectFrom('incidents')
      .select(['reporter_id', 'description'])
      .executeTakeFirstOrThrow();
    expect(incident).toEqual({
      reporter_id: tom.id,
      description: 'Cara was pushed over at the lockers.',
    });

    // The link works once: opened again, it says so and changes nothing.
    const reuse = await world().newPage();
    await reuse.goto(link);
    await reuse.getByLabel('Choose a password', { exact: true }).fill(STRONG_PASSWORD);
    await reuse.getByLabel('Type the password again').fill(STRONG_PASSWORD);
    await reuse.getByRole('button', { name: 'Set password and sign in' }).click();
    await reuse.getByText('This invitation link no longer works').waitFor();
    await reuse.getByRole('link', { name: 'sign in', exact: true }).waitFor();
    expect(await seriousViolations(reuse)).toEqual([]);
    expect((await login(haven, teacherEmail, NEW_PASSWORD)).length).toBeGreaterThan(0);

    // The Users page now shows him active, with nothing to resend.
    await adminPage.reload();
    const active = adminPage.getByRole('row', { name: /Tom Tutor/ });
    await active.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    expect(await active.getByRole('button', { name: /Resend invitation/ }).count()).toBe(0);
  });

  it('a resent invitation replaces the first link', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const email = uniqueEmail('nina');
    const added = await haven.post('/api/v1/users', org.ownerToken, {
      email,
      name: 'Nina New',
      invite: true,
    });
    expect(added.status).toBe(201);
    await grantRole(haven, org.ownerToken, { type: 'user', id: added.body.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    const first = await emailedLink(haven, email, '/accept-invitation');

    const owner = await world().newPage();
    await signIn(owner, url, org.ownerEmail);
    await owner.goto(`${url}/admin/users/${added.body.id}`);
    await owner.getByRole('heading', { level: 1, name: 'Nina New' }).waitFor();
    await owner.getByText('Status: Invited').waitFor();
    await owner.getByRole('button', { name: 'Resend invitation' }).click();
    await owner.getByText(`A new invitation is on its way to ${email}.`).waitFor();
    const second = await emailedLink(haven, email, '/accept-invitation');
    expect(second).not.toBe(first);

    const page = await world().newPage();
    await page.goto(first);
    await page.getByLabel('Choose a password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Type the password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByText('This invitation link no longer works').waitFor();

    await page.goto(second);
    await page.getByLabel('Choose a password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Type the password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set password and sign in' }).click();
    await page.getByRole('heading', { name: 'Hello, Nina' }).waitFor();
  });

  it('a forgotten password: the same answer for any email, a link that works once, and every session ended', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const teacher = await createUser(haven, org.ownerToken, {
      name: 'Tess Teacher',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    // Tess is signed in on another device.
    const elsewhere = await world().newPage();
    await signIn(elsewhere, url, teacher.email);

    const page = await world().newPage(PHONE);
    await page.goto(url);
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // An address with no account is answered exactly as one with an account.
    const answerFor = async (email: string) => {
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Send me a link' }).click();
      const notice = page.getByText('If an account exists for');
      await notice.waitFor();
      const text = (await notice.textContent()) ?? '';
      await page.getByRole('button', { name: 'Use a different email address' }).click();
      return text.replace(email, '<email>');
    };
    const unknown = await answerFor('nobody-here@school.test');
    const known = await answerFor(teacher.email);
    expect(known).toBe(unknown);
    expect(known).toBe(
      'If an account exists for <email>, we have sent a link to reset its password.',
    );

    const link = await emailedLink(haven, teacher.email, '/reset-password');
    expect(link.startsWith(`${url}/reset-password?token=`)).toBe(true);
    expect(smtp.to('nobody-here@school.test')).toEqual([]);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Type the new password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    // On to the sign-in page, which says what happened.
    await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
    await page
      .getByText('Your password has been changed and you have been signed out everywhere.')
      .waitFor();
    await page.getByLabel('Email').fill(teacher.email);
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Hello, Tess' }).waitFor();

    // The other device's session ended with the reset.
    await elsewhere.reload();
    await elsewhere.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();

    // The link was for one use.
    const again = await world().newPage();
    await again.goto(link);
    await again.getByLabel('New password', { exact: true }).fill(STRONG_PASSWORD);
    await again.getByLabel('Type the new password again').fill(STRONG_PASSWORD);
    await again.getByRole('button', { name: 'Change password' }).click();
    await again.getByText('This password reset link no longer works').waitFor();
    await again.getByRole('link', { name: 'Ask for a new link' }).waitFor();
  });

  it('changes a password from the account menu; a wrong current password keeps the session', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const teacher = await createUser(haven, org.ownerToken, {
      name: 'Tess Teacher',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    const elsewhere = await world().newPage();
    await signIn(elsewhere, url, teacher.email);
    const page = await world().newPage();
    await signIn(page, url, teacher.email);
    await navigate(page, 'Change password');
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('Current password').fill('not-my-password-at-all');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Type the new password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('That is not your current password.').waitFor();
    // Still signed in: the refusal was about the password, not the session.
    expect(await page.getByRole('heading', { name: 'Sign in to Haven' }).count()).toBe(0);

    await page.getByLabel('Current password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page
      .getByText('Your password has been changed. You have been signed out everywhere else.')
      .waitFor();
    // This session carries on; the other one has ended.
    await navigate(page, 'Home');
    await page.getByRole('heading', { name: 'Hello, Tess' }).waitFor();
    await elsewhere.reload();
    await elsewhere.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
    expect((await login(haven, teacher.email, NEW_PASSWORD)).length).toBeGreaterThan(0);
  });
});

describeInBrowser('single sign-on', () => {
  let idp: TestOidcProvider | undefined;
  const world = useBrowserHaven({ HAVEN_OIDC_ALLOW_HTTP: 'true' });
  afterEach(async () => {
    await idp?.stop();
    idp = undefined;
  });

  it('"Sign in with Microsoft" goes to the provider and back, signed in', async () => {
    const { url, haven } = world();
    idp = await TestOidcProvider.start({
      redirectUris: [`${url}/api/v1/auth/oidc/*`],
    });
    const org = await setupOrganisation(haven, { school: 'Oak Academy' });
    // Tess was added without a password: single sign-on is her only way in.
    const email = uniqueEmail('tess');
    const added = await haven.post('/api/v1/users', org.ownerToken, {
      email,
      name: 'Tess Teacher',
    });
    expect(added.status).toBe(201);
    await grantRole(haven, org.ownerToken, { type: 'user', id: added.body.id }, 'viewer', {
      type: 'school',
      id: org.schoolId,
    });
    // Microsoft Entra ID, with the test provider standing in as the tenant's issuer.
    const configured = await haven.put('/api/v1/organisation/sso', org.ownerToken, {
      providers: [
        {
          kind: 'microsoft',
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          allowedDomains: [email.slice(email.indexOf('@') + 1)],
        },
      ],
      passwordSignIn: true,
      createAccounts: false,
      acceptProviderMfa: false,
    });
    expect(configured.status, JSON.stringify(configured.body)).toBe(200);
    // Entra sends the user principal name; Haven matches it to Tess's account.
    idp.setAccount({ sub: 'entra-object-id-tess', preferred_username: email, name: 'Tess' });

    const page = await world().newPage();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
    const button = page.getByRole('link', { name: 'Sign in with Microsoft' });
    await button.waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await button.click();
    // Through the provider's sign-in and back to Haven, signed in as Tess.
    await page.getByRole('heading', { name: 'Hello, Tess' }).waitFor();
    expect(idp.signIns).toBe(1);
    expect(new URL(page.url()).origin).toBe(url);
    const user = await haven.database.db
      .selectFrom('users')
      .select(['last_sign_in_at', 'password_hash'])
      .where('id', '=', added.body.id)
      .executeTakeFirstOrThrow();
    expect(user.password_hash).toBeNull();
    expect(user.last_sign_in_at).not.toBeNull();

    // Someone from a domain the school does not accept is sent back with a reason.
    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByText('You have signed out.').waitFor();
    idp.setAccount({ sub: 'entra-object-id-other', preferred_username: 'mallory@elsewhere.test' });
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page
      .getByText('You signed in with an account from a domain this organisation does not accept.')
      .waitFor();
    expect(new URL(page.url()).searchParams.get('sso_error')).toBe('sso_domain');
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it("the Owner's sign-in and provisioning page: a provider from its form, the password switch refused until proven, SCIM tokens", async () => {
    const { url, haven } = world();
    idp = await TestOidcProvider.start({
      redirectUris: [`${url}/api/v1/auth/oidc/*`],
    });
    const org = await setupOrganisation(haven);
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: { type: 'organisation', id: org.organisationId },
    });
    // An Admin is not offered the page.
    const adminPage = await world().newPage();
    await signIn(adminPage, url, admin.email);
    expect(
      await adminPage
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Sign-in and provisioning' })
        .count(),
    ).toBe(0);

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await navigate(page, 'Sign-in and provisioning');
    await page.getByRole('heading', { level: 1, name: 'Sign-in and provisioning' }).waitFor();
    await page.getByText('No provider yet').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Another OpenID Connect provider, through the form.
    await page.getByRole('button', { name: 'Add an identity provider' }).click();
    const form = page.getByRole('form', { name: 'Add an identity provider' });
    await form.getByLabel('Another OpenID Connect provider').check();
    await form.getByLabel('Name on the sign-in button').fill('Oak Login');
    await form.getByLabel('Issuer URL').fill(idp.issuer);
    await form.getByLabel('Client ID').fill(idp.clientId);
    await form.getByRole('button', { name: 'Save provider' }).click();
    // What is missing is said before anything is sent.
    await form.getByText('Enter the client secret.').waitFor();
    await form.getByText('Enter at least one domain.').waitFor();
    await form.getByLabel('Client secret').fill(idp.clientSecret);
    await form.getByLabel('Allowed email domains').fill('school.test, @Oak.test');
    await form.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Oak Login is saved.').waitFor();
    const providers = page.getByRole('list', { name: 'Identity providers' });
    await providers.getByText('school.test, oak.test').waitFor();
    await providers.getByText('Set (never shown)').waitFor();
    const stored = await haven.get('/api/v1/organisation/sso', org.ownerToken);
    expect(stored.body.providers).toEqual([
      expect.objectContaining({
        kind: 'oidc',
        label: 'Oak Login',
        issuer: idp.issuer,
        allowedDomains: ['school.test', 'oak.test'],
      }),
    ]);
    expect(JSON.stringify(stored.body)).not.toContain(idp.clientSecret);
    // Its own redirect address, to register at the provider.
    expect(
      await providers.getByLabel('Redirect address for Oak Login', { exact: true }).inputValue(),
    ).toBe(`${url}/api/v1/auth/oidc/${stored.body.providers[0].id}/callback`);

    // Editing keeps the secret when its field is left blank.
    await providers.getByRole('button', { name: 'Edit Oak Login' }).click();
    const edit = page.getByRole('form', { name: 'Edit Oak Login' });
    await edit.getByText('Leave blank to keep the current secret.').waitFor();
    await edit.getByLabel('Allowed email domains').fill('school.test');
    await edit.getByRole('button', { name: 'Save provider' }).click();
    await page.getByText('Oak Login is saved.').waitFor();
    await providers.getByText('school.test', { exact: true }).waitFor();

    // Password sign-in cannot go off before the Owner has signed in through the provider.
    const passwords = page.getByLabel('Staff may sign in with a password');
    expect(await passwords.isChecked()).toBe(true);
    await passwords.click();
    await page.getByText('Password sign-in stays on for now.').waitFor();
    await page.getByText('sign in with one of the providers above').waitFor();
    await expect.poll(() => passwords.isChecked()).toBe(true);
    expect((await haven.get('/api/v1/organisation/sso', org.ownerToken)).body.passwordSignIn).toBe(
      true,
    );
    // The other switches save at once.
    await page
      .getByLabel("Accept the provider's multi-factor sign-in for sensitive records")
      .check();
    await expect
      .poll(async () => (await haven.get('/api/v1/organisation/sso', org.ownerToken)).body)
      .toMatchObject({ acceptProviderMfa: true, passwordSignIn: true });

    // SCIM: the base address, and a token shown once with a copy button.
    expect(await page.getByLabel('SCIM base address (tenant URL)').inputValue()).toBe(
      `${url}/scim/v2`,
    );
    await page.getByLabel('Token name').fill('Entra ID provisioning');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = await page.getByLabel('New token').inputValue();
    expect(token.length).toBeGreaterThan(20);
    await page.getByText('It is shown only this once').waitFor();
    await page.getByRole('button', { name: 'Copy the token' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // The token works against /scim/v2.
    const scim = await haven.request('GET', '/scim/v2/Users', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(scim.status).toBe(200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    expect(await page.getByLabel('New token').count()).toBe(0);
    expect(await bodyText(page)).not.toContain(token);
    const row = page.getByRole('row', { name: /Entra ID provisioning/ });

    // Revoked after confirming: the directory's next request is refused.
    await row.getByRole('button', { name: 'Revoke Entra ID provisioning' }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke "Entra ID provisioning"?' });
    await dialog.getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('"Entra ID provisioning" is revoked').waitFor();
    await row.getByText(/^Revoked /).waitFor();
    const refused = await haven.request('GET', '/scim/v2/Users', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(401);

    // The sign-in page now offers the provider's button by its name.
    const signedOut = await world().newPage();
    await signedOut.goto(url);
    await signedOut.getByRole('link', { name: 'Sign in with Oak Login' }).waitFor();
  });
});

describeInBrowser('two-factor reset and sign-in throttling', () => {
  const world = useBrowserHaven({ HAVEN_LOGIN_MAX_FAILURES: '3' });

  it('an Owner resets a teacher’s two-factor after confirming; an Admin is not offered it', async () => {
    const { url, haven, clock } = world();
    const org = await setupOrganisation(haven);
    const teacher = await createUser(haven, org.ownerToken, {
      name: 'Tess Teacher',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await enrolTotp(haven, teacher.token!, clock);
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: { type: 'organisation', id: org.organisationId },
    });

    const adminPage = await world().newPage();
    await signIn(adminPage, url, admin.email);
    await adminPage.goto(`${url}/admin/users/${teacher.id}`);
    await adminPage.getByRole('heading', { name: 'Roles' }).waitFor();
    expect(await adminPage.getByRole('heading', { name: 'Two-factor sign-in' }).count()).toBe(0);

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    // Not on the Owner's own page: one turns off one's own with a code.
    await page.goto(`${url}/admin/users/${org.ownerId}`);
    await page.getByRole('heading', { name: 'Roles' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Two-factor sign-in' }).count()).toBe(0);

    await page.goto(`${url}/admin/users/${teacher.id}`);
    const section = page.getByRole('region', { name: 'Two-factor sign-in' });
    await section.getByText('On. If they have lost their phone').waitFor();
    await section.getByRole('button', { name: 'Reset two-factor' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reset two-factor sign-in for Tess Teacher?' });
    await dialog.getByText('will be asked to set up two-factor sign-in again').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // Nothing happens until confirmed.
    const standing = async () =>
      (await haven.get(`/api/v1/users/${teacher.id}/totp`, org.ownerToken)).body.status;
    expect(await standing()).toBe('active');
    await dialog.getByRole('button', { name: 'Yes, reset two-factor' }).click();
    await section.getByText('Two-factor sign-in is reset for Tess Teacher.').waitFor();
    await section.getByText('Off: Tess Teacher signs in with their password alone.').waitFor();
    expect(await standing()).toBe('off');

    // Tess signs in with her password alone.
    const tess = await world().newPage();
    await signIn(tess, url, teacher.email);
    await tess.getByRole('heading', { name: 'Hello, Tess' }).waitFor();
  });

  it('without email set up, adding a user asks for a password instead of inviting', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await page.goto(`${url}/admin/users`);
    await page.getByRole('button', { name: 'Add a user' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Pat Parttime');
    const email = uniqueEmail('pat');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Haven has no email set up, so it cannot send invitations').waitFor();
    expect(await page.getByLabel('Send an invitation email').isChecked()).toBe(false);
    expect((await haven.get('/api/v1/users', org.ownerToken, { q: 'Pat' })).body.items).toEqual([]);
    await page.getByLabel('Password (optional)').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText('Added Pat Parttime', { exact: false }).waitFor();
    await page
      .getByRole('row', { name: /Pat Parttime/ })
      .getByRole('cell', { name: 'Active' })
      .waitFor();
    // The password is theirs: it is right, and they wait for a role.
    const attempt = await haven.post('/api/v1/auth/login', undefined, {
      email,
      password: STRONG_PASSWORD,
    });
    expect([attempt.status, attempt.body.code]).toEqual([403, 'no_role']);
  });

  it('after too many wrong passwords, the sign-in page says when to try again', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const page = await world().newPage();
    await page.goto(url);
    await page.getByLabel('Email').fill(org.ownerEmail);
    const alert = page.getByRole('alert');
    for (let attempt = 1; attempt <= 3; attempt++) {
      await page.getByLabel('Password').fill(`not-the-password-${attempt}`);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect
        .poll(async () => (await alert.textContent()) ?? '')
        .toMatch(/email or password/i);
    }
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect
      .poll(async () => (await alert.textContent()) ?? '')
      .toMatch(/Too many .*\. You can try again in \d+ minutes?, at \d\d:\d\d\.$/);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
