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
  setupOrganisation,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

const LONG_AGO = '2026-09-01T07:00:00.000Z';
const ukDate = (date: Date) =>
  new Intl.DateTimeFormat('en-GB', {
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
    timeZone: 'Europe/London',
  }).format(date);
/** A calendar day as a date input takes it (YYYY-MM-DD), in UK time. */
const inputDate = (date: Date) => date.toLocaleDateString('en-CA', { timeZone: 'Europe/London' });

/**
 * A school where everything began on 01/09/2026 except Vera's place in the Year 9 team, which
 * began today: the Year 9 team is linked to the Year 9 students, Vera (Viewer) is in it and is
 * blocked from Ben; Chloe is in Year 10.
 */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h, { school: 'Oak Academy' });
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  await h.patch(`/api/v1/schools/${org.schoolId}/settings`, t, { requireMfaForSensitive: false });
  const child = (givenName: string, familyName: string, yearGroup: number) =>
    createStudent(h, t, { schoolId: org.schoolId, givenName, familyName, yearGroup });
  const aisha = await child('Aisha', 'Khan', 9);
  const ben = await child('Ben', 'Carter', 9);
  const chloe = await child('Chloe', 'Davies', 10);
  const year9 = await createStudentGroup(h, t, {
    name: 'Year 9 students',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 9 },
  });
  const team = await createUserGroup(h, t, 'Year 9 team');
  await linkGroup(h, t, team, { studentGroupId: year9 });
  const vera = await createUser(h, t, { name: 'Vera Viewer', role: 'viewer', scope: atSchool });
  await blockStudent(h, t, vera.id, ben, 'Family member');
  // Backdate everything, then add Vera to the team today.
  const db = h.database.db;
  for (const table of [
    'user_group_members',
    'student_links',
    'student_group_members',
    'role_grants',
    'blocks',
    'user_group_clearances',
  ] as const) {
    await db
      .updateTable(table as 'role_grants')
      .set({ valid_from: LONG_AGO })
      .execute();
  }
  await db.updateTable('users').set({ created_at: LONG_AGO }).execute();
  await db.updateTable('students').set({ created_at: LONG_AGO }).execute();
  await addMembers(h, t, team, [vera.id]);
  return { org, t, team, vera, students: { aisha, ben, chloe } };
}

async function openInspectorFor(page: Page, url: string, name: string) {
  await page.goto(`${url}/access/inspector`);
  await page.getByRole('heading', { name: 'Access inspector' }).waitFor();
  await page.getByLabel('Find a member of staff', { exact: true }).fill(name.split(' ')[0]!);
  await page.getByRole('button', { name: `Choose ${name}` }).click();
  await page.getByRole('heading', { name }).waitFor();
}

async function explain(page: Page, childName: string) {
  await page.getByLabel('Find a child', { exact: true }).fill(childName.split(' ')[0]!);
  await page.getByRole('button', { name: `Choose ${childName}` }).click();
  await page.locator('.verdict', { hasText: childName }).waitFor();
  return (await page.locator('.verdict').textContent()) ?? '';
}

describeInBrowser('seeing access', () => {
  const world = useBrowserHaven();

  it('the inspector shows what the Viewer holds and explains an allowed child and a blocked one', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await world().newPage();
    await signIn(page, url, s.org.ownerEmail);
    await openInspectorFor(page, url, 'Vera Viewer');
    expect(await seriousViolations(page)).toEqual([]);

    const paths = page.locator('section', { has: page.locator('#inspector-paths') });
    await paths.getByRole('cell', { name: 'Year 9 team' }).waitFor();
    expect(await paths.textContent()).toContain('Year 9 students');
    expect(await paths.textContent()).toContain('2 children');
    expect(await page.locator('#inspector-roles').locator('..').textContent()).toContain(
      'Viewer at Oak Academy',
    );
    // The block, by child, in the blocks section.
    const blocks = page.locator('section', { has: page.locator('#inspector-blocks') });
    expect(await blocks.textContent()).toContain('Ben Carter');
    // The Year 9 team's Members set, held as a member (issue 15).
    const sets = page.locator('section', { has: page.locator('#inspector-group-administration') });
    expect(await sets.getByRole('row').nth(1).getByRole('cell').allTextContents()).toEqual([
      'Year 9 team',
      'Members',
      'View the group',
      'as a member',
    ]);

    const allowed = await explain(page, 'Aisha Khan');
    expect(allowed).toContain('Allowed: Vera Viewer can see Aisha Khan');
    const today = ukDate(new Date());
    const way = await page.locator('.paths').first().textContent();
    expect(way).toBe(
      `Member of Year 9 team since ${today} → linked to Year 9 students since 01/09/2026 → Aisha Khan is in Year 9 students since 01/09/2026`,
    );
    expect(await page.getByText('Nothing.').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);

    const denied = await explain(page, 'Ben Carter');
    expect(denied).toContain('Not allowed: Vera Viewer cannot see Ben Carter');
    await page
      .getByText('Blocked from this child by Olive Owner on 01/09/2026: Family member')
      .waitFor();
    // The way in is still listed: the block is what stops it.
    expect(await page.locator('.paths').first().textContent()).toContain('Ben Carter is in');

    // As of yesterday, before Vera joined the team: no way in at all.
    await page.getByLabel('As of').fill(inputDate(new Date(Date.now() - 86_400_000)));
    await page.getByText('Not allowed: Vera Viewer cannot see Ben Carter (as of').waitFor();
    await page.getByText('No user group or link reaches this child.').waitFor();
    // Nor did Vera hold the Year 9 team's Members set then.
    await sets.getByText('No permission set on any user group you can see.').waitFor();
    expect(await sets.getByRole('cell', { name: 'Year 9 team' }).count()).toBe(0);
  });

  it('who can see a child lists the Viewer for a Year 9 child, not for Year 10, and not before they joined', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await world().newPage();
    await signIn(page, url, s.org.ownerEmail);
    await page.goto(`${url}/students/${s.students.aisha}`);
    const who = page.locator('section', {
      has: page.getByRole('heading', { name: 'Who can see this child' }),
    });
    const people = who.getByRole('list', { name: 'People who can see this child' });
    await people.getByRole('link', { name: 'Vera Viewer' }).waitFor();
    expect(await people.textContent()).toContain('Olive Owner');
    expect(await people.textContent()).toContain('Member of Year 9 team since');

    await who.getByLabel('As of').fill(inputDate(new Date(Date.now() - 86_400_000)));
    await who
      .getByText(/ on \d\d\/\d\d\/\d{4}/)
      .first()
      .waitFor();
    await people.getByRole('link', { name: 'Olive Owner' }).waitFor();
    expect(await people.getByRole('link', { name: 'Vera Viewer' }).count()).toBe(0);
    await who.getByRole('button', { name: 'Back to now' }).click();
    await people.getByRole('link', { name: 'Vera Viewer' }).waitFor();

    await page.goto(`${url}/students/${s.students.chloe}`);
    await page.getByRole('heading', { name: 'Chloe Davies' }).waitFor();
    await people.getByRole('link', { name: 'Olive Owner' }).waitFor();
    expect(await people.getByRole('link', { name: 'Vera Viewer' }).count()).toBe(0);
  });

  it('the audit log filters by what happened and who did it; the access log lists reads', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await world().newPage();
    await signIn(page, url, s.org.ownerEmail);
    await page.goto(`${url}/access/audit-log`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const rows = page.locator('tbody tr');
    await rows.first().waitFor();
    expect(await page.locator('tbody').textContent()).toContain('Added a child');
    expect(await seriousViolations(page)).toEqual([]);

    await page
      .getByLabel('What happened')
      .selectOption({ label: 'Blocked a member of staff from a child' });
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Blocked a member of staff from a child');
    expect(await rows.first().textContent()).toContain('Olive Owner');
    expect(await page.locator('tbody').textContent()).not.toContain('Added a child');

    // Vera has only signed in (the factory signs her in); nothing the Owner did is listed.
    await page.getByLabel('What happened').selectOption({ label: 'Anything' });
    await page.getByLabel('Done by').fill('Vera');
    await page.getByRole('button', { name: 'Choose Vera Viewer' }).click();
    await page.getByText('Done by: Vera Viewer').waitFor();
    await expect
      .poll(async () => (await page.locator('tbody').textContent()) ?? '')
      .not.toContain('Olive Owner');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const row of await rows.all()) expect(await row.textContent()).toContain('Signed in');

    // Opening a child's record is a read in the access log, with the way in.
    await page.goto(`${url}/students/${s.students.aisha}`);
    await page.getByRole('heading', { name: 'Aisha Khan' }).waitFor();
    await page.goto(`${url}/access/access-log`);
    await page.getByRole('heading', { name: 'Access log' }).waitFor();
    await page.locator('tbody tr', { hasText: 'Opened a child’s record' }).first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('asks before assigning a child-protection concern to a group whose members cannot see it yet', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const categories = (await haven.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId }))
      .body.items;
    const concern = await haven.post('/api/v1/incidents', s.t, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.aisha],
      categoryId: categories.find((c: any) => c.sensitivity === 'child_protection').id,
      occurredAt: '2026-11-20T10:15:00Z',
      description: 'Aisha disclosed something at break that worried her form tutor.',
    });
    expect(concern.status).toBe(201);
    const page = await world().newPage();
    await signIn(page, url, s.org.ownerEmail);
    await page.goto(`${url}/incidents/${concern.body.id}`);
    const assigned = page.locator('section', {
      has: page.getByRole('heading', { name: 'Assigned to' }),
    });
    const assignTo = async (search: string, option: string) => {
      await assigned.getByLabel('Search staff and groups').fill(search);
      await assigned.getByRole('option', { name: option }).waitFor({ state: 'attached' });
      await assigned.getByLabel('Choose', { exact: true }).selectOption({ label: option });
      await assigned.getByRole('button', { name: 'Assign' }).click();
    };

    await assignTo('Year 9', 'Year 9 team');
    const dialog = page.getByRole('dialog', {
      name: '1 more person will be able to read this record',
    });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Vera Viewer');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await assigned.getByText('Not assigned to anyone yet.').waitFor();
    const assignees = () =>
      haven.database.db.selectFrom('incident_assignees').select('assignee_id').execute();
    expect(await assignees()).toEqual([]);

    await assigned.getByRole('button', { name: 'Assign' }).click();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await assigned.getByText('Year 9 team (group)').waitFor();
    expect(await assignees()).toEqual([{ assignee_id: s.team }]);
  });
});
