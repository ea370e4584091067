import { expect, it } from 'vitest';
import { createUser, createUserGroup, setupOrganisation } from '../support/factories.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

describeInBrowser('access reviews', () => {
  const world = useBrowserHaven();

  it('an Admin starts a review, confirms a group with a note and closes it with a summary', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: atSchool,
    });
    const groupId = await createUserGroup(haven, org.ownerToken, 'Year 7 tutors', {
      homeScope: atSchool,
    });

    const page = await world().newPage();
    await signIn(page, url, admin.email);
    await page.getByRole('link', { name: 'Access reviews' }).click();
    await page.getByRole('heading', { level: 1, name: 'Access reviews' }).waitFor();
    await page.getByRole('button', { name: 'Start a review' }).click();
    // A school's Admin starts one for their school only: the one scope offered.
    const scope = page.getByLabel('Scope');
    expect(await scope.locator('option').allTextContents()).toEqual(['School: Oak Primary']);
    const due = new Date(Date.now() + 14 * 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    await page.getByLabel('Due date').fill(due);
    await page.getByLabel('Title (optional)').fill('Autumn term review');
    await page.getByRole('button', { name: 'Start the review' }).click();

    await page.getByRole('heading', { level: 1, name: 'Autumn term review' }).waitFor();
    const items = page.getByRole('table');
    await items.getByRole('link', { name: 'Year 7 tutors' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await items.getByRole('link', { name: 'Year 7 tutors' }).click();
    await page.getByRole('heading', { level: 1, name: 'Year 7 tutors' }).waitFor();
    await page.getByRole('heading', { level: 2, name: /^Changed since/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel('Confirmed: right as it is').check();
    await page.getByLabel('Note').fill('Only the Year 7 form tutors, as it should be');
    await page.getByRole('button', { name: 'Record the decision' }).click();
    await page.getByText('Only the Year 7 form tutors, as it should be').waitFor();

    await page.getByRole('link', { name: 'Back to the review' }).click();
    await page.getByRole('heading', { level: 1, name: 'Autumn term review' }).waitFor();
    const row = page.getByRole('row', { name: /Year 7 tutors/ });
    await row.getByText('Confirmed').waitFor();
    // The school's own Safeguarding Team and Allegations group are left undecided: said so on closing.
    await page.getByLabel('Summary').fill('Tutors confirmed; the safeguarding groups next term.');
    await page.getByLabel(/^Close with \d+ groups? not decided$/).check();
    await page.getByRole('button', { name: 'Close the review' }).click();
    await page.getByRole('heading', { level: 2, name: 'Closed' }).waitFor();
    await page.getByText('Tutors confirmed; the safeguarding groups next term.').waitFor();

    // The group now says when it was last reviewed.
    await page.goto(`${url}/admin/user-groups/${groupId}`);
    await page.getByRole('heading', { level: 1, name: 'Year 7 tutors' }).waitFor();
    await page.getByText(/Last reviewed:/).waitFor();
    expect(await page.getByText('Last reviewed: never').count()).toBe(0);

    const reviews = await haven.get('/api/v1/access-reviews', org.ownerToken, { status: 'closed' });
    expect(reviews.body.items).toHaveLength(1);
    expect(reviews.body.items[0]).toMatchObject({ title: 'Autumn term review', status: 'closed' });
  });
});
