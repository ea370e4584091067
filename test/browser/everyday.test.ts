import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addMembers,
  blockStudent,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  linkGroup,
  schoolDefaults,
  setupOrganisation,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { enrolTotp } from '../support/two-factor.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * A school with a Year 9 team (a user group linked to the Year 9 students by a rule) holding a
 * Viewer, and a DSL in the Safeguarding Team (which holds the child_protection clearance).
 */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h, { school: 'Oak Academy' });
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  const ava = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Ava',
    familyName: 'Adams',
    yearGroup: 9,
  });
  const xander = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Xander',
    familyName: 'Quintrell',
    yearGroup: 9,
  });
  const cara = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Cara',
    familyName: 'Clark',
    yearGroup: 10,
  });
  const year9 = await createStudentGroup(h, t, {
    name: 'Year 9',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 9 },
  });
  const team = await createUserGroup(h, t, 'Year 9 team');
  await linkGroup(h, t, team, { studentGroupId: year9 });
  const viewer = await createUser(h, t, { name: 'Vera Viewer', role: 'viewer', scope: atSchool });
  await addMembers(h, t, team, [viewer.id]);
  const dsl = await createUser(h, t, { name: 'Dina Lewis', role: 'dsl', scope: atSchool });
  const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
  await addMembers(h, t, safeguardingTeamId, [dsl.id]);
  const categories = (await h.get('/api/v1/categories', t, { schoolId: org.schoolId })).body.items;
  const categoryId = (name: string) => categories.find((c: any) => c.name === name).id as string;
  return { org, t, atSchool, team, viewer, dsl, students: { ava, xander, cara }, categoryId };
}

type School = Awaited<ReturnType<typeof school>>;

async function logConcern(
  h: TestHaven,
  s: School,
  token: string,
  options: { studentIds: string[]; category?: string; description?: string },
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    studentIds: options.studentIds,
    categoryId: s.categoryId(options.category ?? 'Bullying'),
    occurredAt: '2026-11-20T10:15:00Z',
    location: 'Playground',
    description: options.description ?? 'Upset at break; said an older pupil took lunch money.',
  });
  if (reply.status !== 201) throw new Error(`incident failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

async function mainText(page: Page) {
  return (await page.locator('body').textContent()) ?? '';
}

describeInBrowser('everyday work', () => {
  const world = useBrowserHaven();

  it('a Viewer logs a concern about a Year 9 child, the DSL sets an action, the Viewer does it', async () => {
    const { url, haven } = world();
    const s = await school(haven);

    // The Viewer finds the child through the student search, then logs a concern about them.
    const vera = await world().newPage(DESKTOP);
    await signIn(vera, url, s.viewer.email);
    await vera.getByRole('link', { name: 'Students' }).click();
    await vera.getByRole('heading', { name: 'Students' }).waitFor();
    await vera.getByRole('link', { name: 'Xander Quintrell' }).waitFor();
    // The Year 10 child is outside the team's link and never listed.
    expect(await mainText(vera)).not.toContain('Cara Clark');
    await vera.getByLabel('Search by name or UPN').fill('adams');
    await vera.getByRole('link', { name: 'Xander Quintrell' }).waitFor({ state: 'detached' });
    await vera.getByRole('link', { name: 'Ava Adams' }).click();
    await vera.getByRole('heading', { name: 'Ava Adams' }).waitFor();
    await vera.getByRole('link', { name: 'Log a concern about this child' }).click();
    await vera.getByRole('heading', { name: 'Log a concern' }).waitFor();
    await vera.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    await vera.getByLabel('Category').selectOption({ label: 'Bullying' });
    await vera.getByLabel('What happened').fill('Ava said older pupils took her lunch money.');
    await vera.getByLabel('Where (optional)').fill('Canteen');
    await vera.getByRole('button', { name: 'Save concern' }).click();
    await vera.getByRole('heading', { name: 'Bullying' }).waitFor();
    await vera.getByText('Ava said older pupils took her lunch money.').waitFor();
    // A Viewer gets no control to assign, add actions, or delete.
    expect(await vera.getByRole('button', { name: 'Assign' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Add action' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Delete' }).count()).toBe(0);

    // The DSL finds it in the concerns list and sets an action for the Viewer.
    const dina = await world().newPage(DESKTOP);
    await signIn(dina, url, s.dsl.email);
    await dina.getByRole('link', { name: 'Concerns' }).click();
    await dina.getByRole('link', { name: 'Bullying' }).click();
    await dina.getByText('Ava said older pupils took her lunch money.').waitFor();
    const addAction = dina.getByRole('form', { name: 'Add an action' });
    await addAction.getByLabel('What needs doing').fill('Check in with Ava at lunch');
    await addAction.getByLabel('Due (optional)').fill('2026-11-27');
    await addAction.getByLabel('Search staff and groups').fill('Vera');
    await addAction.getByRole('option', { name: 'Vera Viewer' }).waitFor({ state: 'attached' });
    await addAction.getByLabel('Choose').selectOption({ label: 'Vera Viewer' });
    await addAction.getByRole('button', { name: 'Add action' }).click();
    await dina.getByText('Check in with Ava at lunch').waitFor();

    // The Viewer sees it on the home page, opens the concern and marks it done.
    await vera.goto(url);
    await vera.getByRole('link', { name: 'Check in with Ava at lunch', exact: true }).click();
    await vera.getByRole('heading', { name: 'Bullying' }).waitFor();
    await vera.getByRole('button', { name: 'Mark "Check in with Ava at lunch" done' }).click();
    await vera.locator('.done').waitFor();
    expect(await vera.getByRole('button', { name: /Mark .* done/ }).count()).toBe(0);
    await vera.goto(url);
    await vera.getByText('No open actions.').waitFor();

    const db = haven.database.db;
    const incidents = await db.selectFrom('incidents').select(['id', 'reporter_id']).execute();
    expect(incidents).toEqual([{ id: expect.any(String), reporter_id: s.viewer.id }]);
    const actions = await db
      .selectFrom('actions')
      .select(['incident_id', 'assignee_id', 'completed_by'])
      .execute();
    expect(actions).toEqual([
      { incident_id: incidents[0]!.id, assignee_id: s.viewer.id, completed_by: s.viewer.id },
    ]);
  });

  it('Log a concern keeps a draft on the device, on a phone, picking children by keyboard', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await world().newPage(PHONE);
    await signIn(page, url, s.viewer.email);
    await page.goto(`${url}/concerns/new`);
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    const children = page.getByRole('combobox', { name: 'Children involved' });
    await children.fill('ava');
    await page.getByRole('option', { name: /Ava Adams/ }).waitFor();
    await children.press('ArrowDown');
    await children.press('Enter');
    await page.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    await page.getByLabel('What happened').fill('Crying in the corridor after PE.');
    await page.getByLabel('Where (optional)').fill('Sports hall');

    await page.reload();
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    await page.getByText(/Your draft from .* has been restored/).waitFor();
    expect(await page.getByLabel('What happened').inputValue()).toBe(
      'Crying in the corridor after PE.',
    );
    expect(await page.getByLabel('Where (optional)').inputValue()).toBe('Sports hall');
    await page.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Without a connection the draft stays, and the page says so.
    await page.getByLabel('Category').selectOption({ label: 'Bullying' });
    const dropped = '**/api/v1/incidents';
    await page.route(dropped, (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByText(/No connection: your concern has not been sent yet/).waitFor();
    await page.reload();
    expect(await page.getByLabel('What happened').inputValue()).toBe(
      'Crying in the corridor after PE.',
    );
    await page.unroute(dropped);
    expect(await haven.database.db.selectFrom('incidents').select('id').execute()).toEqual([]);

    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByRole('heading', { name: 'Bullying' }).waitFor();
    expect(await haven.database.db.selectFrom('incidents').select('id').execute()).toHaveLength(1);
    // Saved: the draft is gone.
    await page.goto(`${url}/concerns/new`);
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    expect(await page.getByLabel('What happened').inputValue()).toBe('');
    expect(await page.getByText(/has been restored/).count()).toBe(0);
  });
});

export { blockStudent, enrolTotp, logConcern };
