import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
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
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * Sensitivity is a safeguarding decision (spec section 4): who may lower, close, take a child
 * off or move a concern, the widening confirmation before it, and what earlier versions show.
 *
 * Oak Academy: a Year 9 team (linked to the Year 9 children, no clearance) holding
 * Vera, a Viewer; the Safeguarding Team (every child, child_protection clearance) holding Dev, a
 * Deputy DSL, and Sky, a Viewer who supports the team. The step-up is off for sensitive records,
 * so the pages are about the decisions, not the two-factor prompt.
 */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h, { school: 'Oak Academy' });
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  await h.patch(`/api/v1/schools/${org.schoolId}/settings`, t, { requireMfaForSensitive: false });
  const child = (givenName: string, familyName: string, yearGroup: number) =>
    createStudent(h, t, { schoolId: org.schoolId, givenName, familyName, yearGroup });
  const ava = await child('Ava', 'Adams', 9);
  const ben = await child('Ben', 'Brook', 9);
  const year9 = await createStudentGroup(h, t, {
    name: 'Year 9',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 9 },
  });
  const team = await createUserGroup(h, t, 'Year 9 team', { homeScope: atSchool });
  await linkGroup(h, t, team, { studentGroupId: year9 });
  const vera = await createUser(h, t, { name: 'Vera Viewer', role: 'viewer', scope: atSchool });
  await addMembers(h, t, team, [vera.id]);
  const dev = await createUser(h, t, { name: 'Dev Deputy', role: 'deputy_dsl', scope: atSchool });
  const sky = await createUser(h, t, { name: 'Sky Support', role: 'viewer', scope: atSchool });
  const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
  await addMembers(h, t, safeguardingTeamId, [dev.id, sky.id]);
  const categories = (await h.get('/api/v1/categories', t, { schoolId: org.schoolId })).body.items;
  const categoryId = (name: string) => categories.find((c: any) => c.name === name).id as string;
  return { org, t, atSchool, vera, dev, sky, students: { ava, ben }, categoryId };
}

type School = Awaited<ReturnType<typeof school>>;

async function logConcern(
  h: TestHaven,
  s: School,
  token: string,
  options: { studentIds: string[]; category: string; description: string },
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    studentIds: options.studentIds,
    categoryId: s.categoryId(options.category),
    occurredAt: '2026-11-18T13:40:00Z',
    location: 'Library',
    description: options.description,
  });
  if (reply.status !== 201) throw new Error(`incident failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

async function record(h: TestHaven, id: string) {
  const row = await h.database.db
    .selectFrom('incidents')
    .select(['sensitivity', 'status', 'school_id', 'revision'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  const children = await h.database.db
    .selectFrom('incident_students')
    .select('student_id')
    .where('incident_id', '=', id)
    .execute();
  return { ...row, children: children.map((c) => c.student_id).sort() };
}

async function optionLabels(page: Page, label: string) {
  return page.getByLabel(label, { exact: true }).locator('option').allTextContents();
}

describeInBrowser('safeguarding decisions on a concern', () => {
  const world = useBrowserHaven();
  const open = async () => {
    const page = await world().newPage(DESKTOP);
    page.setDefaultTimeout(20_000);
    return page;
  };

  it('a Deputy DSL lowers a child-protection concern only after seeing who would read it', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const id = await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: 'Ava mentioned bruises she would not explain during the library lesson.',
    });
    const page = await open();
    await signIn(page, url, s.dev.email);
    await page.goto(`${url}/incidents/${id}`);
    await page.getByRole('heading', { name: 'Child protection' }).waitFor();
    await page.getByRole('button', { name: 'Edit the account' }).click();
    const form = page.getByRole('form', { name: 'Edit the concern' });
    // A Deputy DSL is offered every category, and may take a child off.
    expect(await optionLabels(page, 'Category')).toContain('Bullying');
    await form.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    await page.getByLabel('Category', { exact: true }).selectOption({ label: 'Bullying' });
    await form.getByRole('button', { name: 'Save changes' }).click();

    // The server tried the change: Vera sees Ava through the Year 9 team, without the clearance.
    const dialog = page.getByRole('dialog', {
      name: '1 more person will be able to read this record',
    });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Vera Viewer');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await record(haven, id)).toMatchObject({ sensitivity: 'child_protection', revision: 1 });
    // Cancelled: the form is still open with the choice, to change or to confirm.
    expect(await page.getByLabel('Category', { exact: true }).inputValue()).toBe(
      s.categoryId('Bullying'),
    );

    await form.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Bullying' }).waitFor();
    await page.getByText(/^Revision 1, replaced .* by Dev Deputy/).waitFor();
    expect(await record(haven, id)).toMatchObject({ sensitivity: 'standard', revision: 2 });
  });

  it("a Viewer's edit form offers no lowering, closing or taking a child off, only adding one", async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const id = await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: 'Ava asked whether what she says to staff stays secret.',
    });
    const page = await open();
    await signIn(page, url, s.sky.email);
    await page.goto(`${url}/incidents/${id}`);
    await page.getByRole('heading', { name: 'Child protection' }).waitFor();
    // No closing a child-protection record.
    expect(await optionLabels(page, 'Change status')).toEqual(['Open', 'In progress']);
    await page
      .getByText('Only a Deputy DSL or above at this school can close this record.')
      .waitFor();

    await page.getByRole('button', { name: 'Edit the account' }).click();
    const form = page.getByRole('form', { name: 'Edit the concern' });
    // Only categories as sensitive as this one; no school to move it to; no child taken off.
    const categories = await optionLabels(page, 'Category');
    expect(categories).toEqual(['Child protection (child protection)']);
    expect(await form.getByLabel('School').count()).toBe(0);
    await form.getByRole('list', { name: 'Children picked' }).getByText('Ava Adams').waitFor();
    expect(await form.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // Adding a child she can see, and correcting where, are hers to do.
    const children = form.getByRole('combobox', { name: 'Children involved' });
    await children.fill('Ben');
    await page.getByRole('option', { name: /Ben Brook/ }).click();
    await form.getByRole('button', { name: 'Remove Ben Brook' }).waitFor();
    await form.getByLabel('Where (optional)').fill('Library, by the windows');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Library, by the windows').waitFor();
    await page.getByRole('link', { name: 'Ben Brook' }).waitFor();
    expect(await record(haven, id)).toMatchObject({
      sensitivity: 'child_protection',
      status: 'open',
      revision: 2,
      children: [s.students.ava, s.students.ben].sort(),
    });
  });

  it('earlier versions show a colleague without the clearance only that a version existed', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const disclosure = 'Ava described being left alone at home for several nights.';
    const id = await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: disclosure,
    });
    const lowered = await haven.patch(`/api/v1/incidents/${id}`, s.dev.token, {
      revision: 1,
      categoryId: s.categoryId('Pastoral'),
      description: 'Ava has been tired in lessons this week.',
    });
    expect(lowered.status).toBe(200);

    const page = await open();
    await signIn(page, url, s.vera.email);
    await page.goto(`${url}/incidents/${id}`);
    await page.getByRole('heading', { name: 'Pastoral' }).waitFor();
    const versions = page.getByRole('region', { name: 'Earlier versions' });
    await versions.getByText('An earlier version you cannot see.').waitFor();
    await versions.getByText(/^Revision 1, replaced \d\d\/\d\d\/\d{4} \d\d:\d\d$/).waitFor();
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toContain(disclosure);
    expect(text).not.toContain('Child protection');
    expect(await versions.locator('details').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // The Deputy DSL, cleared for it, reads that version in full.
    const dev = await open();
    await signIn(dev, url, s.dev.email);
    await dev.goto(`${url}/incidents/${id}`);
    const theirs = dev.getByRole('region', { name: 'Earlier versions' });
    await theirs.getByText(/^Revision 1, replaced/).click();
    await theirs.getByText(disclosure).waitFor();
    await theirs.getByText('Child protection (child protection)').waitFor();
    await theirs.getByText('Ava Adams').waitFor();
  });

  it('lifting a block asks first when it would open child-protection records', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const blockId = await blockStudent(haven, s.dev.token!, s.sky.id, s.students.ava, 'Her aunt');
    await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: 'Ava said an adult at home frightens her.',
    });
    const live = async () =>
      (
        await haven.database.db
          .selectFrom('blocks')
          .select('id')
          .where('id', '=', blockId)
          .where('valid_to', 'is', null)
          .execute()
      ).length;

    const page = await open();
    await signIn(page, url, s.dev.email);
    await page.goto(`${url}/admin/blocks`);
    await page.getByRole('heading', { name: 'Blocks', exact: true }).waitFor();
    await page
      .getByRole('button', { name: 'Lift the block on Sky Support seeing Ava Adams' })
      .click();
    const lift = page.getByRole('dialog', { name: 'Lift the block?' });
    await lift.getByLabel('Reason for lifting').fill('The family situation has changed.');
    await lift.getByRole('button', { name: 'Lift block' }).click();

    const widening = page.getByRole('dialog', {
      name: '1 more person will be able to see child-protection or allegation records',
    });
    await widening.waitFor();
    expect(await widening.textContent()).toContain('Sky Support');
    expect(await seriousViolations(page)).toEqual([]);
    await widening.getByRole('button', { name: 'Cancel' }).click();
    await widening.waitFor({ state: 'hidden' });
    expect(await live()).toBe(1);

    await lift.getByRole('button', { name: 'Lift block' }).click();
    await widening.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('No current blocks.').waitFor();
    expect(await live()).toBe(0);
  });

  it('granting a role that opens child-protection records to a team member asks first', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: 'Ava said an adult at home frightens her.',
    });
    // A new colleague already added to the Safeguarding Team, who holds no role yet.
    const nia = await createUser(haven, s.t, { name: 'Nia Newcomer' });
    const { safeguardingTeamId } = await schoolDefaults(haven, s.t, s.org.schoolId);
    await addMembers(haven, s.t, safeguardingTeamId, [nia.id]);
    const grants = async () =>
      (await haven.get('/api/v1/role-grants', s.t, { userId: nia.id })).body.items.length;

    const page = await open();
    await signIn(page, url, s.org.ownerEmail);
    await page.goto(`${url}/admin/users/${nia.id}`);
    await page.getByRole('heading', { level: 1, name: 'Nia Newcomer' }).waitFor();
    const grant = async () => {
      await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer' });
      await page.getByLabel('Where', { exact: true }).selectOption({ label: 'Oak Academy' });
      await page.getByRole('button', { name: 'Grant role' }).click();
    };
    await grant();
    const widening = page.getByRole('dialog', {
      name: '1 more person will be able to see child-protection or allegation records',
    });
    await widening.waitFor();
    expect(await widening.textContent()).toContain('Nia Newcomer');
    await widening.getByRole('button', { name: 'Cancel' }).click();
    await widening.waitFor({ state: 'hidden' });
    expect(await grants()).toBe(0);

    await grant();
    await widening.getByRole('button', { name: 'Confirm' }).click();
    await widening.waitFor({ state: 'hidden' });
    await expect.poll(grants).toBe(1);
  });

  it('a Deputy DSL of two schools takes a child off a concern, adds one and moves it', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const elm = await addSchool(haven, s.t, 'Elm Academy');
    const cal = await createStudent(haven, s.t, {
      schoolId: elm,
      givenName: 'Cal',
      familyName: 'Cross',
      yearGroup: 9,
    });
    const both = await createUser(haven, s.t, {
      name: 'Bea Both',
      role: 'deputy_dsl',
      scope: { type: 'organisation', id: s.org.organisationId },
    });
    // She sees the children of both schools through their Safeguarding Teams.
    for (const schoolId of [s.org.schoolId, elm]) {
      const { safeguardingTeamId } = await schoolDefaults(haven, s.t, schoolId);
      await addMembers(haven, s.t, safeguardingTeamId, [both.id]);
    }
    const id = await logConcern(haven, s, s.dev.token!, {
      studentIds: [s.students.ava, s.students.ben],
      category: 'Bullying',
      description: 'Names called across the lunch queue.',
    });
    const elmBullying = (
      await haven.get('/api/v1/categories', s.t, { schoolId: elm })
    ).body.items.find((c: any) => c.name === 'Bullying' && c.schoolId === elm).id as string;

    const page = await open();
    await signIn(page, url, both.email);
    await page.goto(`${url}/incidents/${id}`);
    await page.getByRole('heading', { name: 'Bullying' }).waitFor();
    await page.getByRole('button', { name: 'Edit the account' }).click();
    const form = page.getByRole('form', { name: 'Edit the concern' });
    await form.getByRole('button', { name: 'Remove Ben Brook' }).click();
    await form.getByRole('combobox', { name: 'Children involved' }).fill('Cal');
    await page.getByRole('option', { name: /Cal Cross/ }).click();
    await form.getByLabel('School').selectOption({ label: 'Elm Academy' });
    // Oak's categories do not travel: Elm's must be chosen.
    await form.getByRole('button', { name: 'Save changes' }).click();
    await form.getByText('Choose a category of the new school.').waitFor();
    await form.getByLabel('Category', { exact: true }).selectOption({ label: 'Bullying' });
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('button', { name: 'Edit the account' }).waitFor();
    await page.getByRole('link', { name: 'Cal Cross' }).waitFor();
    expect(await record(haven, id)).toMatchObject({
      school_id: elm,
      revision: 2,
      children: [s.students.ava, cal].sort(),
    });
    const row = await haven.database.db
      .selectFrom('incidents')
      .select('category_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.category_id).toBe(elmBullying);
  });
});
