import { expect, it } from 'vitest';
import { createUserGroup, schoolDefaults, setupOrganisation } from '../support/factories.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

describeInBrowser('oversight (issue 14, items 4-6)', () => {
  const world = useBrowserHaven();

  it('a link to All students asks for confirmation and a reason, and is seen from the student group, the audit log and the users page', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const t = org.ownerToken;
    const groupId = await createUserGroup(haven, t, 'Pastoral team', {
      homeScope: { type: 'school', id: org.schoolId },
    });
    const { allStudentsId } = await schoolDefaults(haven, t, org.schoolId);
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);

    await page.goto(`${url}/admin/user-groups/${groupId}`);
    await page.getByRole('heading', { level: 1, name: 'Pastoral team' }).waitFor();
    await page.getByLabel('Student group').selectOption({ label: 'All students (Oak Primary)' });
    const add = page.getByRole('button', { name: 'Add link' });
    expect(await add.isDisabled()).toBe(true);
    await page
      .getByLabel('I confirm that every member of this group needs to see every child there')
      .check();
    expect(await add.isDisabled()).toBe(true);
    await page
      .getByLabel('Why this group needs every child')
      .fill('Heads of year follow every child');
    await add.click();
    const pending = page.getByRole('list', { name: 'Changes not saved yet' });
    expect(await pending.getByRole('listitem').allTextContents()).toEqual([
      'Link to student group All students (Oak Primary), every child there (confirmed): “Heads of year follow every child”',
    ]);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved 1 change.').waitFor();
    const linked = await haven.get(`/api/v1/student-groups/${allStudentsId}/linked-user-groups`, t);
    expect(linked.body.items.find((g: any) => g.id === groupId)?.rationale).toBe(
      'Heads of year follow every child',
    );

    await page.goto(`${url}/admin/student-groups/${allStudentsId}`);
    const table = page.getByRole('table', { name: 'Linked user groups' });
    await table.waitFor();
    const row = table.locator('tr', { hasText: 'Pastoral team' });
    expect(await row.textContent()).toContain('Heads of year follow every child');
    expect(await table.textContent()).toContain('Safeguarding Team (Oak Primary)');
    expect(await seriousViolations(page)).toEqual([]);

    await page.goto(`${url}/access/audit-log`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page
      .locator('tbody tr', {
        hasText:
          'Pastoral team linked to student group All students (Oak Primary) (every child there, confirmed): reason “Heads of year follow every child”',
      })
      .waitFor();
    await page
      .locator('tbody tr', { hasText: 'Olive Owner received Owner at Oak Trust' })
      .waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.goto(`${url}/admin/users`);
    await page.getByLabel('Role').selectOption({ label: 'Owner' });
    await page.getByLabel('Where').selectOption({ label: 'Oak Primary' });
    const people = page.locator('tbody tr');
    await expect.poll(() => people.count()).toBe(1);
    expect(await people.first().textContent()).toContain('Owner at Oak Trust (directly)');
    await page.getByLabel('Role').selectOption({ label: 'DSL' });
    await page.getByText('No users match.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });
});
