import { expect, it } from 'vitest';
import { createUser, mfaEnrolmentNotRequired, setupOrganisation } from '../support/factories.ts';
import { STRONG_PASSWORD } from '../support/haven.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

describeInBrowser('first run and sign-in', () => {
  const world = useBrowserHaven();

  it('sets up the organisation, signs the Owner in and out', async () => {
    const { url, haven } = world();
    const page = await world().newPage();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Set up Haven' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByLabel('Organisation (trust or school) name').fill('Riverside Learning Trust');
    await page.getByLabel('First school').fill('Riverside Academy');
    await page.getByLabel('Your name').fill('Rachel Reid');
    await page.getByLabel('Email').fill('rachel@riverside.test');
    // A weak password is refused with the reason next to the field, and nothing is created.
    await page.getByLabel('Password').fill('password');
    await page.getByRole('button', { name: 'Set up Haven' }).click();
    await page.locator('.field-message').first().waitFor();
    expect(await haven.database.db.selectFrom('organisations').select('id').execute()).toEqual([]);

    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Set up Haven' }).click();
    await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
    expect(await haven.database.db.selectFrom('organisations').select('name').execute()).toEqual([
      { name: 'Riverside Learning Trust' },
    ]);
    // The school asks the Owner to enrol two-factor sign-in first (on by default); this test is
    // about the rest of the first run.
    const riverside = await haven.database.db
      .selectFrom('schools')
      .select('id')
      .executeTakeFirstOrThrow();
    await mfaEnrolmentNotRequired(haven, riverside.id);

    await signIn(page, url, 'rachel@riverside.test');
    await page.getByRole('heading', { name: 'Hello, Rachel' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    // The Owner sees administration; the page came from the same server and port as the API.
    await page.getByRole('link', { name: 'User groups' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByText('You have signed out.').waitFor();
    // The session is over on the server too: reloading does not sign back in.
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Haven' }).waitFor();
  });

  it('answers a wrong password without saying which part was wrong', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const page = await world().newPage();
    await page.goto(url);
    await page.getByLabel('Email').fill(org.ownerEmail);
    await page.getByLabel('Password').fill('not-the-password-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/email or password/i);
  });

  it('shows a Member-only account a clear page instead of an empty app', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const member = await createUser(haven, org.ownerToken, { name: 'Morgan Member' });
    const page = await world().newPage(PHONE);
    await page.goto(url);
    await page.getByLabel('Email').fill(member.email);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No access yet' }).waitFor();
    expect(await page.getByText(member.email).count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('enrols two-factor sign-in with a QR code, then asks for a code at sign-in', async () => {
    const { url, haven, clock } = world();
    const org = await setupOrganisation(haven);
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await page.getByRole('link', { name: 'Two-factor sign-in' }).first().click();
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    const secret = (await page.locator('code.secret').textContent())!.trim();
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);

    await page.getByLabel('The 6-digit code the app now shows').fill('000000');
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.locator('.field-message').waitFor();

    await page.getByLabel('The 6-digit code the app now shows').fill(await clock.code(secret));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    expect(await page.locator('.codes code').count()).toBe(10);

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByLabel('Email').fill(org.ownerEmail);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByLabel('Code from your authenticator app')
      .fill(await clock.advance().code(secret));
    await page.getByRole('button', { name: 'Verify and sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  });

  it('asks which organisation when the password opens an account in two, then signs in there', async () => {
    const { url, haven } = world();
    const oak = await setupOrganisation(haven);
    const elm = await haven.services.organisations.createOrganisation(
      {
        organisationName: 'Elm Trust',
        schoolName: 'Elm Primary',
        owner: { email: oak.ownerEmail, name: 'Eliza Elm', password: STRONG_PASSWORD },
      },
      { organisationId: null, userId: null, via: 'cli' },
    );
    await mfaEnrolmentNotRequired(haven, elm.schoolId);
    const page = await world().newPage();
    await page.goto(url);
    await page.getByLabel('Email').fill(oak.ownerEmail);
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const choice = page.getByRole('group', { name: 'Which organisation are you signing in to?' });
    await choice.waitFor();
    expect(
      await choice
        .getByRole('radio')
        .evaluateAll((radios) => radios.map((r) => r.parentElement?.textContent?.trim())),
    ).toEqual(['Elm Trust', 'Oak Trust']);
    expect(await seriousViolations(page)).toEqual([]);
    // Continuing without a choice says so, and sends nothing.
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Choose an organisation.').waitFor();

    await choice.getByRole('radio', { name: 'Elm Trust' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Hello, Eliza' }).waitFor();
    await page.locator('.org').getByText('Elm Trust').waitFor();
  });
});
