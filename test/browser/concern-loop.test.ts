import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addMembers,
  createStudent,
  createUser,
  createUserGroup,
  schoolDefaults,
  setupOrganisation,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { enrolTotp } from '../support/two-factor.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * Issue 12's loop: a school with a Year 10 child, a lunchtime supervisor (a Viewer in no user
 * group, who sees no child at all), a teacher, and a DSL in the Safeguarding Team.
 */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h, { school: 'Oak Academy' });
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  const cara = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Cara',
    familyName: 'Clark',
    yearGroup: 10,
  });
  await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Ava',
    familyName: 'Adams',
    yearGroup: 9,
  });
  const supervisor = await createUser(h, t, {
    name: 'Lena Lunch',
    role: 'viewer',
    scope: atSchool,
  });
  const teacher = await createUser(h, t, { name: 'Tom Tutor', role: 'viewer', scope: atSchool });
  const dsl = await createUser(h, t, { name: 'Dina Lewis', role: 'dsl', scope: atSchool });
  const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
  await addMembers(h, t, safeguardingTeamId, [dsl.id]);
  return { org, t, atSchool, cara, supervisor, teacher, dsl, safeguardingTeamId };
}

/** "10:42": an instant as the browser (set to UK time) shows it on a receipt. */
function clockTime(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'Europe/London',
  }).format(new Date(iso));
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

describeInBrowser('from concern to the safeguarding team', () => {
  const world = useBrowserHaven();

  it('a lunchtime supervisor reports about a Year 10 child they cannot see; the DSL is alerted and opens it', async () => {
    const { url, haven, clock } = world();
    const s = await school(haven);
    const { secret } = await enrolTotp(haven, s.dsl.token!, clock);

    // The supervisor, on a phone, sees no child at all, yet finds Cara by name to report.
    const lena = await world().newPage(PHONE);
    await signIn(lena, url, s.supervisor.email);
    await navigate(lena, 'Log a concern');
    await lena.getByRole('heading', { name: 'Log a concern' }).waitFor();
    const children = lena.getByRole('combobox', { name: 'Children involved' });
    await children.fill('clark');
    await lena.getByRole('option', { name: /Cara Clark · Year 10/ }).click();
    await lena.getByRole('button', { name: 'Remove Cara Clark' }).waitFor();
    await lena
      .getByLabel('Category')
      .selectOption({ label: 'Child protection (child protection)' });
    await lena
      .getByLabel('What happened')
      .fill('Cara had a bruise on her wrist and said not to tell anyone.');
    await lena.getByLabel('Where (optional)').fill('Dinner hall');
    expect(await seriousViolations(lena)).toEqual([]);
    await lena.getByRole('button', { name: 'Save concern' }).click();

    // The receipt: sent to the safeguarding team at once (its rules alert them), at this time.
    await lena.getByRole('heading', { name: 'Concern saved' }).waitFor();
    const incident = await haven.database.db
      .selectFrom('incidents')
      .select(['id', 'created_at', 'reporter_id', 'sensitivity'])
      .executeTakeFirstOrThrow();
    expect(incident).toMatchObject({
      reporter_id: s.supervisor.id,
      sensitivity: 'child_protection',
    });
    await lena
      .getByText(`Saved and sent to the safeguarding team at ${clockTime(incident.created_at)}.`)
      .waitFor();
    expect(await seriousViolations(lena)).toEqual([]);

    // My reports lists it without a two-factor check: category, sensitivity, status and child.
    await lena.getByRole('main').getByRole('link', { name: 'My reports' }).click();
    await lena.getByRole('heading', { name: 'My reports' }).waitFor();
    const row = lena.getByRole('row', { name: /Child protection/ });
    await row.getByRole('cell', { name: 'Cara Clark' }).waitFor();
    await row.getByRole('cell', { name: 'Open' }).waitFor();
    expect(await row.getByRole('link', { name: 'Child protection' }).getAttribute('href')).toBe(
      `/incidents/${incident.id}`,
    );
    expect(await seriousViolations(lena)).toEqual([]);
    // Reporting about Cara did not open her records to the supervisor.
    await lena.goto(`${url}/students/${s.cara}`);
    await lena.getByText('Not found, or you do not have access to it.').waitFor();
    await lena.goto(`${url}/students`);
    await lena.getByRole('heading', { name: 'Students' }).waitFor();
    expect(await bodyText(lena)).not.toContain('Cara Clark');

    // The DSL signs in with a code, and the alert is on the home page; she opens the concern.
    const dina = await world().newPage(DESKTOP);
    await signIn(dina, url, s.dsl.email, { totp: await clock.advance().code(secret) });
    const alerts = dina.getByRole('region', { name: 'My alerts' });
    await alerts.getByRole('link', { name: 'A concern was logged' }).waitFor();
    expect(await dina.getByText(/held back until you pass a two-factor check/).count()).toBe(0);
    // Her own DSL grant raised a security alert, which says what happened in its own words.
    const security = alerts.getByRole('listitem').filter({ hasText: /granted DSL/ });
    await security.getByText('New').waitFor();
    await security.getByRole('button', { name: /^Mark read/ }).click();
    await security.getByText('New').waitFor({ state: 'detached' });

    // Later, her two-factor check is no longer recent: the home page says what is held back.
    await haven.database.db
      .updateTable('sessions')
      .set({ mfa_at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .where('user_id', '=', s.dsl.id)
      .execute();
    await dina.reload();
    await dina.getByText('1 record is held back until you pass a two-factor check.').waitFor();
    await alerts.getByText('Needs a two-factor check').waitFor();
    expect(await seriousViolations(dina)).toEqual([]);
    await dina.getByRole('button', { name: 'Pass the two-factor check' }).click();
    const check = dina.getByRole('dialog', { name: 'Two-factor check' });
    await check
      .getByLabel('Code from your authenticator app')
      .fill(await clock.advance().code(secret));
    await check.getByRole('button', { name: 'Continue' }).click();
    await dina
      .getByText(/held back until you pass a two-factor check/)
      .waitFor({ state: 'detached' });
    await alerts.getByText('Needs a two-factor check').waitFor({ state: 'detached' });

    await alerts.getByRole('link', { name: 'A concern was logged' }).click();
    await dina.getByRole('heading', { name: 'Child protection' }).waitFor();
    await dina.getByText('Cara had a bruise on her wrist and said not to tell anyone.').waitFor();
    await dina.getByRole('link', { name: 'Cara Clark' }).waitFor();
    await dina.getByText('Logged by Lena Lunch', { exact: false }).waitFor();
  });

  it('a teacher reports an allegation about a colleague and a child not on the list', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await world().newPage(DESKTOP);
    await signIn(page, url, s.teacher.email);
    await navigate(page, 'Log a concern');
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();

    // No child on the list: the report names one by what the teacher knows.
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByText('Pick at least one child, or tick "Child not listed".').waitFor();
    await page.getByLabel('Child not listed').check();
    await page.getByLabel('Their name').fill('Jay, new this week');
    await page.getByLabel('Anything that helps find them (optional)').fill('Year 8, red coat');

    await page
      .getByLabel('Category')
      .selectOption({ label: 'Allegation against staff (allegation against staff)' });
    const subject = page.getByRole('group', { name: 'Who the allegation is about' });
    await page.getByLabel('What happened').fill('Jay said the supervisor grabbed his arm.');
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByText('Choose who the allegation is about.').waitFor();
    // Staff at the school, by name; the teacher is not offered themself.
    await subject.getByRole('option', { name: 'Dina Lewis' }).waitFor({ state: 'attached' });
    expect(await subject.getByRole('option', { name: 'Tom Tutor' }).count()).toBe(0);
    await subject.getByLabel('Search staff').fill('Lena');
    await subject.getByRole('option', { name: 'Dina Lewis' }).waitFor({ state: 'detached' });
    await subject.getByLabel('Member of staff').selectOption({ label: 'Lena Lunch' });
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByRole('heading', { name: 'Concern saved' }).waitFor();
    // The allegations manager is alerted at once.
    await page.getByText(/^Saved and sent to the safeguarding team at \d\d:\d\d\.$/).waitFor();

    const saved = await haven.database.db
      .selectFrom('incidents')
      .select(['subject_user_id', 'unlisted_child', 'sensitivity'])
      .executeTakeFirstOrThrow();
    expect(saved.sensitivity).toBe('allegation');
    expect(saved.subject_user_id).toBe(s.supervisor.id);
    expect(JSON.parse(saved.unlisted_child!)).toEqual({
      name: 'Jay, new this week',
      note: 'Year 8, red coat',
    });
    await page.getByRole('main').getByRole('link', { name: 'My reports' }).click();
    await page
      .getByRole('row', { name: /Allegation against staff/ })
      .getByRole('cell', { name: 'Jay, new this week' })
      .waitFor();

    // A standard concern goes to the safeguarding team in the daily digest.
    await navigate(page, 'Log a concern');
    await page.getByRole('combobox', { name: 'Children involved' }).fill('ava');
    await page.getByRole('option', { name: /Ava Adams/ }).click();
    await page.getByLabel('Category').selectOption({ label: 'Bullying' });
    await page.getByLabel('What happened').fill('Ava was left out of the game again.');
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByRole('heading', { name: 'Concern saved' }).waitFor();
    const [bullying] = await haven.database.db
      .selectFrom('incidents')
      .select('created_at')
      .where('sensitivity', '=', 'standard')
      .execute();
    const at = clockTime(bullying!.created_at);
    // Today's digest, unless today's (at 16:00, the default) has gone already.
    const day = at >= '16:00' ? 'tomorrow' : 'today';
    await page
      .getByText(`Saved at ${at}; the safeguarding team will see it in ${day}'s digest.`)
      .waitFor();
  });

  it("an Admin changes who is told of a category's concerns, renames and retires it, and sets the digest time", async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const admin = await createUser(haven, s.t, {
      name: 'Adam Admin',
      role: 'admin',
      scope: s.atSchool,
    });
    await createUserGroup(haven, s.t, 'Pastoral team', { homeScope: s.atSchool });
    const page = await world().newPage(PHONE);
    await signIn(page, url, admin.email);
    await navigate(page, 'Categories');
    await page.getByRole('link', { name: 'Bullying' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bullying' }).waitFor();

    const rules = page.getByRole('list', { name: 'Notification rules' });
    const team = 'Safeguarding Team (Oak Academy)';
    const ways = async (who: string) => {
      const group = rules.getByRole('group', { name: who });
      const checked: string[] = [];
      for (const way of ['Alert in Haven', 'Email at once', 'Daily digest email'])
        if (await group.getByLabel(way).isChecked()) checked.push(way);
      return checked;
    };
    // The school's default for a standard category: the team hears in the daily digest.
    expect(await ways(team)).toEqual(['Daily digest email']);
    await rules.getByRole('group', { name: team }).getByLabel('Daily digest email').uncheck();
    await rules.getByRole('group', { name: team }).getByLabel('Email at once').check();
    await page.getByLabel('How', { exact: true }).selectOption({ label: 'Alert in Haven' });
    await page.getByLabel('Find a user group').fill('Pastoral');
    await page.getByRole('button', { name: 'Add: Pastoral team' }).click();
    await rules.getByRole('group', { name: 'Pastoral team' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByText('The notification rules are saved.').waitFor();

    await page.reload();
    await rules.getByRole('group', { name: 'Pastoral team' }).waitFor();
    expect(await ways(team)).toEqual(['Email at once']);
    expect(await ways('Pastoral team')).toEqual(['Alert in Haven']);
    const bullying = (
      await haven.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId })
    ).body.items.find((c: { name: string }) => c.name === 'Bullying').id as string;
    const stored = await haven.get(`/api/v1/categories/${bullying}/notifications`, s.t);
    expect(stored.body.rules.map((r: any) => [r.recipient.name, r.channel]).sort()).toEqual([
      ['Pastoral team', 'alert'],
      [team, 'immediate_email'],
    ]);

    // Renamed, then retired: kept in the list, no longer offered for new concerns.
    await page.getByLabel('Category name').fill('Bullying and unkindness');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { level: 1, name: 'Bullying and unkindness' }).waitFor();
    await page.getByRole('button', { name: 'Retire this category' }).click();
    await page.getByText(/is retired: it is no longer offered for new concerns/).waitFor();
    const offered = await haven.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId });
    expect(offered.body.items.map((c: { name: string }) => c.name)).not.toContain(
      'Bullying and unkindness',
    );
    await page.getByRole('link', { name: 'All categories' }).click();
    await page
      .getByRole('row', { name: /Bullying and unkindness/ })
      .getByText('Retired')
      .waitFor();

    // The school's digest goes out earlier; its two-factor enrolment rule is turned on.
    await navigate(page, 'Schools and settings');
    await page.getByLabel('Daily digest email at').fill('07:30');
    await page.getByRole('button', { name: 'Save time' }).click();
    await page.getByText('The daily digest email goes out at 07:30.').waitFor();
    await page
      .getByLabel('Make staff who can read sensitive records set up two-factor sign-in')
      .check();
    await page.getByText('Staff who can read them must use two-factor sign-in.').waitFor();
    expect(
      (await haven.get(`/api/v1/schools/${s.org.schoolId}/settings`, admin.token)).body,
    ).toEqual({
      requireMfaForSensitive: true,
      requireMfaEnrolment: true,
      digestTime: '07:30',
      retentionYears: 6,
    });
  });

  it('where the school asks for it, a DSL enrols two-factor sign-in before anything else', async () => {
    const { url, haven, clock } = world();
    const s = await school(haven);
    // The Owner's last request: the rule holds their session too from now on.
    const on = await haven.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, {
      requireMfaEnrolment: true,
    });
    expect(on.status).toBe(200);

    const page = await world().newPage(DESKTOP);
    await signIn(page, url, s.dsl.email);
    await page.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
    await page.getByText(/Set it up now to carry on/).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link', { name: 'Concerns' }).count()).toBe(0);
    await page.goto(`${url}/incidents`);
    await page.getByRole('heading', { name: 'Two-factor sign-in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/account/two-factor');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const secret = (await page.locator('code.secret').textContent())!.trim();
    await page
      .getByLabel('The 6-digit code the app now shows')
      .fill(await clock.advance().code(secret));
    await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await page.getByRole('button', { name: /continue to Haven/ }).click();
    await nav.getByRole('link', { name: 'Concerns' }).waitFor();
    await nav.getByRole('link', { name: 'Concerns' }).click();
    await page.getByRole('heading', { level: 1, name: 'Concerns' }).waitFor();
  });
});

describeInBrowser('emails that could not be sent', () => {
  // A mail server that refuses every connection, and no second try: a send fails at once.
  const world = useBrowserHaven({
    HAVEN_SMTP_URL: 'smtp://127.0.0.1:1',
    HAVEN_MAIL_MAX_ATTEMPTS: '1',
  });

  it('an Admin finds a failed email, with its error, and sends it again', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const admin = await createUser(haven, s.t, {
      name: 'Adam Admin',
      role: 'admin',
      scope: s.atSchool,
    });
    const categories = (await haven.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId }))
      .body.items;
    const logged = await haven.post('/api/v1/incidents', s.supervisor.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.cara],
      categoryId: categories.find((c: { name: string }) => c.name === 'Child protection').id,
      occurredAt: '2026-11-20T12:15:00Z',
      description: 'Said she is frightened of going home.',
    });
    expect(logged.status).toBe(201);
    // Every email fails: the concern's to the Safeguarding Team, and the security alerts of the
    // DSL's grant before it.
    const emailsFailed = async () =>
      (
        await haven.database.db
          .selectFrom('outbox')
          .select(['id', 'kind', 'to_user_id', 'status'])
          .where('status', '=', 'failed')
          .execute()
      ).filter((e) => e.kind === 'incident_logged');
    for (let pass = 0; pass < 3 && (await emailsFailed()).length === 0; pass += 1)
      await haven.services.worker.runOnce();
    const toDina = (await emailsFailed()).find((e) => e.to_user_id === s.dsl.id);
    expect(toDina).toBeDefined();

    const page = await world().newPage(DESKTOP);
    await signIn(page, url, admin.email);
    await navigate(page, 'Emails');
    await page.getByRole('heading', { level: 1, name: 'Emails' }).waitFor();
    const emailTo = (list: string) =>
      page
        .getByRole('list', { name: `Emails: ${list}` })
        .getByRole('listitem')
        .filter({ hasText: 'Dina Lewis' })
        .filter({ hasText: 'A concern was logged' });
    const row = emailTo('Could not be sent');
    await row.getByText(/^Error: .*(ECONNREFUSED|refused|connect)/i).waitFor();
    await row.getByText(/· 1 try$/).waitFor();
    // No email names a child or says what happened.
    expect(await bodyText(page)).not.toContain('Cara');
    expect(await seriousViolations(page)).toEqual([]);
    await row.getByRole('button', { name: /^Send again/ }).click();
    await page.getByText('The email to Dina Lewis will be sent again shortly.').waitFor();
    await row.waitFor({ state: 'detached' });
    const retried = await haven.database.db
      .selectFrom('outbox')
      .select(['status', 'attempts'])
      .where('id', '=', toDina!.id)
      .executeTakeFirstOrThrow();
    expect(retried).toEqual({ status: 'pending', attempts: 0 });
    await page.getByLabel('Show').selectOption({ label: 'Waiting to be sent' });
    await emailTo('Waiting to be sent').waitFor();
  });
});
