/**
 * `npm run screenshots`: fills a fresh Haven with a small, made-up school through the API, signs
 * in as its Designated Safeguarding Lead and saves the main pages at desktop and phone widths
 * into docs/screenshots/; then the pages seen without signing in, and the Owner's. Nothing here is
 * real: every name is invented. `npm run screenshots -- sign-in users` retakes only those.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { AuthService } from '../../src/modules/auth/service.ts';
import { mfaEnrolmentNotRequired } from '../support/factories.ts';
import { STRONG_PASSWORD, startHavenWith, type TestHaven } from '../support/haven.ts';
import { TestSmtpServer } from '../support/smtp.ts';
import { enrolTotp, stepUp, TotpClock } from '../support/two-factor.ts';
import setup, { TEST_WEB_DIR } from './global-setup.ts';
import { DESKTOP, launchChromium, PHONE } from './support/browser.ts';

const OUT = path.resolve('docs/screenshots');

async function ok(reply: Promise<{ status: number; body: any }>, what: string) {
  const answer = await reply;
  if (answer.status >= 300)
    throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

/** A small secondary school: staff, children, year teams, a few concerns, actions and a block. */
async function fillSchool(h: TestHaven, clock: TotpClock) {
  const owner = { email: 'helen.marsh@riverside.example', name: 'Helen Marsh' };
  const setupReply = await ok(
    h.post('/api/v1/setup', undefined, {
      organisationName: 'Riverside Learning Trust',
      schoolName: 'Riverside Academy',
      owner: { ...owner, password: STRONG_PASSWORD },
    }),
    'setup',
  );
  const schoolId: string = setupReply.schoolId;
  // Helen (Owner) would be asked to enrol two-factor sign-in first, as the school asks by default.
  await mfaEnrolmentNotRequired(h, schoolId);
  const login = async (email: string) =>
    (
      await ok(
        h.post('/api/v1/auth/login', undefined, { email, password: STRONG_PASSWORD }),
        `login ${email}`,
      )
    ).token as string;
  const t = await login(owner.email);
  const atSchool = { type: 'school', id: schoolId };

  const staff = async (name: string, role?: string, scope: object = atSchool) => {
    const email = `${name.toLowerCase().replace(' ', '.')}@riverside.example`;
    const user = await ok(
      h.post('/api/v1/users', t, { email, name, password: STRONG_PASSWORD }),
      `user ${name}`,
    );
    if (role)
      await ok(
        h.post('/api/v1/role-grants', t, {
          subject: { type: 'user', id: user.id },
          role,
          scope,
        }),
        `role ${name}`,
      );
    return { id: user.id as string, email, name };
  };
  // The trust's DSL: at organisation scope, so the audit log is open to her too.
  const grace = await staff('Grace Okafor', 'dsl', {
    type: 'organisation',
    id: setupReply.organisationId,
  });
  const tom = await staff('Tom Bradley', 'deputy_dsl');
  await staff('Mark Evans', 'admin');
  const priya = await staff('Priya Shah', 'viewer');
  const daniel = await staff('Daniel Hughes', 'viewer');
  const sarah = await staff('Sarah Collins', 'viewer');

  const children: Record<string, string> = {};
  const child = async (givenName: string, familyName: string, yearGroup: number, house: string) => {
    const created = await ok(
      h.post('/api/v1/students', t, { schoolId, givenName, familyName, yearGroup, house }),
      `student ${givenName}`,
    );
    children[`${givenName} ${familyName}`] = created.id;
  };
  await child('Aisha', 'Khan', 9, 'Kestrel');
  await child('Ben', 'Carter', 9, 'Heron');
  await child('Maya', 'Patel', 9, 'Kestrel');
  await child('Oliver', 'Wright', 9, 'Osprey');
  await child('Leo', 'Thompson', 9, 'Heron');
  await child('Chloe', 'Davies', 10, 'Osprey');
  await child('Ethan', 'Roberts', 10, 'Kestrel');
  await child('Isla', 'Morgan', 10, 'Heron');
  await child('Noah', 'Lewis', 11, 'Osprey');
  await child('Freya', 'Walker', 11, 'Kestrel');

  const yearGroup = async (year: number) =>
    (
      await ok(
        h.post('/api/v1/student-groups', t, {
          name: `Year ${year} students`,
          schoolId,
          kind: 'rule',
          rule: { field: 'yearGroup', op: 'eq', value: year },
        }),
        `Year ${year}`,
      )
    ).id as string;
  const team = async (
    name: string,
    rationale: string,
    members: string[],
    studentGroupId: string,
  ) => {
    const group = await ok(h.post('/api/v1/user-groups', t, { name, rationale }), name);
    await ok(h.post(`/api/v1/user-groups/${group.id}/members`, t, { userIds: members }), name);
    await ok(
      h.post(`/api/v1/user-groups/${group.id}/student-links`, t, {
        studentGroupId,
        confirm: true,
        rationale,
      }),
      name,
    );
    return group.id as string;
  };
  const year9 = await team(
    'Year 9 team',
    'Head of Year 9 and the Year 9 tutors follow their own pupils.',
    [priya.id, daniel.id],
    await yearGroup(9),
  );
  await team('Year 10 team', 'The Year 10 tutors.', [sarah.id], await yearGroup(10));
  const groups = (await ok(h.get('/api/v1/user-groups', t, { limit: 200 }), 'groups')).items;
  const safeguarding = groups.find((g: any) => g.name.startsWith('Safeguarding Team')).id;
  await ok(
    h.post(`/api/v1/user-groups/${safeguarding}/members`, t, { userIds: [grace.id, tom.id] }),
    'safeguarding team',
  );
  await ok(
    h.post('/api/v1/blocks', t, {
      userId: daniel.id,
      studentId: children['Maya Patel'],
      reason: 'Family member: Maya is his niece',
    }),
    'block',
  );

  const graceToken = await login(grace.email);
  const { secret } = await enrolTotp(h, graceToken, clock);
  // Child-protection records need a recent two-factor check (the school's default).
  await stepUp(h, graceToken, secret, clock);
  const categories = (await ok(h.get('/api/v1/categories', t, { schoolId }), 'categories')).items;
  const category = (name: RegExp, sensitivity: string) =>
    (
      categories.find((c: any) => c.sensitivity === sensitivity && name.test(c.name)) ??
      categories.find((c: any) => c.sensitivity === sensitivity)
    ).id as string;
  const concern = async (
    token: string,
    studentNames: string[],
    categoryId: string,
    occurredAt: string,
    location: string,
    description: string,
  ) =>
    (
      await ok(
        h.post('/api/v1/incidents', token, {
          schoolId,
          studentIds: studentNames.map((n) => children[n]),
          categoryId,
          occurredAt,
          location,
          description,
        }),
        'concern',
      )
    ).id as string;
  const priyaToken = await login(priya.email);
  const cp = await concern(
    priyaToken,
    ['Aisha Khan'],
    category(/neglect|abuse|protection/i, 'child_protection'),
    days(-1),
    'Form room',
    'Aisha stayed behind after registration and said she does not want to go home this weekend because of shouting at home. She asked me not to tell anyone. I told her I would need to pass it on to keep her safe.',
  );
  await concern(
    priyaToken,
    ['Ben Carter', 'Leo Thompson'],
    category(/bully/i, 'standard'),
    days(-3),
    'Playground',
    'Ben was upset at break and said older pupils had taken his lunch money twice this week. Leo saw it happen.',
  );
  // Logged by the DSL herself, so her "My reports" has one.
  await concern(
    graceToken,
    ['Chloe Davies'],
    category(/attend|well/i, 'standard'),
    days(-2),
    'Year 10 corridor',
    'Chloe has been late three days this week and seemed very tired in lessons.',
  );
  const dslSecret = secret;
  await ok(
    h.post(`/api/v1/incidents/${cp}/assignees`, graceToken, { type: 'user', id: tom.id }),
    'assign',
  );
  for (const [title, due, who] of [
    ['Speak to Aisha with her form tutor present', days(1), grace.id],
    ["Contact children's social care (MASH) for advice", days(0), grace.id],
    ['Check attendance record for the last half term', days(3), tom.id],
  ] as const) {
    await ok(
      h.post(`/api/v1/incidents/${cp}/actions`, graceToken, {
        title,
        dueAt: due,
        assignee: { type: 'user', id: who },
      }),
      'action',
    );
  }
  // Accounts: a teacher invited and not yet in, Microsoft sign-in, and a provisioning token.
  await ok(
    h.post('/api/v1/users', t, {
      email: 'james.fletcher@riverside.example',
      name: 'James Fletcher',
      invite: true,
    }),
    'invitation',
  );
  await ok(
    h.put('/api/v1/organisation/sso', t, {
      providers: [
        {
          kind: 'microsoft',
          tenantId: '4d1c7e2a-9b3f-4c6d-8e5a-2f7b9c0d1e3f',
          clientId: '0b6f2d8e-3c1a-4f5b-9d7e-6a8c1b2d3e4f',
          clientSecret: 'made-up-secret-for-the-screenshots',
          allowedDomains: ['riverside.example'],
        },
      ],
      passwordSignIn: true,
      createAccounts: false,
      acceptProviderMfa: false,
    }),
    'single sign-on',
  );
  await ok(
    h.post('/api/v1/organisation/scim-tokens', t, { name: 'Entra ID provisioning' }),
    'scim',
  );
  return {
    owner,
    grace,
    dslSecret,
    children,
    year9,
    priya,
    daniel,
    cp,
    childProtection: category(/protection/i, 'child_protection'),
  };
}

interface Shot {
  name: string;
  path: string;
  ready: (page: Page) => Promise<unknown>;
  /** Only the first screen, for pages that run on for ever (the log). */
  firstScreen?: boolean;
}

async function settle(page: Page) {
  await page.waitForLoadState('networkidle');
  await page
    .locator('.loading')
    .first()
    .waitFor({ state: 'detached' })
    .catch(() => {});
  // The page heading takes focus on arrival; its focus ring is not part of the picture.
  await page.evaluate('document.activeElement && document.activeElement.blur()');
  await page.waitForTimeout(150);
}

async function main() {
  console.log('Building the web app…');
  await setup();
  const clock = new TotpClock();
  // Invitations need email: a local SMTP server takes it (nothing leaves the machine).
  const smtp = await new TestSmtpServer().start();
  const haven = await startHavenWith(
    (services, config, database) => {
      services.auth = new AuthService(database, config, { clock: () => clock.ms });
    },
    { HAVEN_WEB_DIR: TEST_WEB_DIR, HAVEN_SMTP_URL: smtp.url },
  );
  const browser = await launchChromium();
  const only = process.argv.slice(2);
  const wanted = (shot: { name: string }) => only.length === 0 || only.includes(shot.name);
  try {
    await haven.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = haven.app.server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}`;
    console.log('Filling a small school…');
    const s = await fillSchool(haven, clock);
    mkdirSync(OUT, { recursive: true });

    const pages: Shot[] = [
      { name: 'home', path: '/', ready: (p) => p.getByRole('heading', { level: 1 }).waitFor() },
      {
        name: 'students',
        path: '/students',
        ready: (p) => p.getByText('Aisha Khan').first().waitFor(),
      },
      {
        name: 'student',
        path: `/students/${s.children['Aisha Khan']}`,
        ready: (p) => p.getByRole('heading', { name: 'Who can see this child' }).waitFor(),
      },
      {
        name: 'log-a-concern',
        path: '/concerns/new',
        ready: (p) => p.getByRole('heading', { level: 1 }).waitFor(),
      },
      {
        name: 'my-reports',
        path: '/reports/mine',
        ready: (p) => p.getByRole('link', { name: 'Attendance' }).waitFor(),
      },
      {
        name: 'category',
        path: `/admin/categories/${s.childProtection}`,
        ready: (p) => p.getByRole('list', { name: 'Notification rules' }).waitFor(),
      },
      {
        name: 'incident',
        path: `/incidents/${s.cp}`,
        ready: (p) => p.getByRole('heading', { name: 'Assigned to' }).waitFor(),
      },
      {
        name: 'user-group',
        path: `/admin/user-groups/${s.year9}`,
        ready: (p) => p.getByRole('heading', { name: 'Year 9 team' }).waitFor(),
      },
      {
        name: 'access-inspector',
        path: `/access/inspector?userId=${s.daniel.id}&studentId=${s.children['Maya Patel']}`,
        ready: (p) => p.locator('.verdict').waitFor(),
      },
      {
        name: 'audit-log',
        path: '/access/audit-log',
        ready: (p) => p.locator('tbody tr').first().waitFor(),
        firstScreen: true,
      },
      {
        name: 'change-password',
        path: '/account/password',
        ready: (p) => p.getByRole('heading', { name: 'Change your password' }).waitFor(),
      },
    ];
    // Seen by anyone, signed out: the emailed links open these.
    const publicPages: Shot[] = [
      {
        name: 'sign-in',
        path: '/',
        ready: (p) => p.getByRole('link', { name: 'Sign in with Microsoft' }).waitFor(),
      },
      {
        name: 'accept-invitation',
        path: '/accept-invitation?token=an-example-token',
        ready: (p) => p.getByRole('heading', { name: 'Welcome to Haven' }).waitFor(),
      },
      {
        name: 'forgot-password',
        path: '/forgot-password',
        ready: (p) => p.getByRole('heading', { name: 'Reset your password' }).waitFor(),
      },
    ];
    // The Owner's: staff with their status, and how they sign in.
    const ownerPages: Shot[] = [
      {
        name: 'users',
        path: '/admin/users',
        ready: (p) => p.getByRole('cell', { name: /Invited/ }).waitFor(),
      },
      {
        name: 'sign-in-settings',
        path: '/admin/sign-in',
        ready: (p) => p.getByRole('cell', { name: 'Entra ID provisioning', exact: true }).waitFor(),
      },
    ];

    for (const [width, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      const context = await browser.newContext({
        viewport,
        locale: 'en-GB',
        timezoneId: 'Europe/London',
        deviceScaleFactor: 1,
      });
      const page = await context.newPage();
      const shoot = async (shot: Shot) => {
        if (!wanted(shot)) return;
        await page.goto(`${url}${shot.path}`);
        await shot.ready(page);
        await settle(page);
        const file = path.join(OUT, `${shot.name}-${width}.png`);
        await page.screenshot({ path: file, fullPage: !shot.firstScreen });
        console.log(`  ${path.relative(process.cwd(), file)}`);
      };
      for (const shot of publicPages) await shoot(shot);

      await page.goto(url);
      await page.getByLabel('Email').fill(s.owner.email);
      await page.getByLabel('Password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.locator('#main-nav').waitFor({ state: 'attached' });
      for (const shot of ownerPages) await shoot(shot);
      // Signed out by forgetting the cookie (its session simply expires).
      await context.clearCookies();

      await page.goto(url);
      await page.getByLabel('Email').fill(s.grace.email);
      await page.getByLabel('Password').fill(STRONG_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page
        .getByLabel('Code from your authenticator app')
        .fill(await clock.advance().code(s.dslSecret));
      await page.getByRole('button', { name: 'Verify and sign in' }).click();
      await page.locator('#main-nav').waitFor({ state: 'attached' });
      for (const shot of pages) await shoot(shot);
      await context.close();
    }
  } finally {
    await browser.close();
    await haven.close();
    await smtp.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
