import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { createUser } from '../support/factories.ts';
import { school } from '../support/school.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

describeInBrowser('the Access Audit Report', () => {
  const world = useBrowserHaven();

  it('a school Admin runs the report, opens a flag and sees whom it concerns', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const admin = await createUser(haven, s.t, {
      name: 'Ada Admin',
      role: 'admin',
      scope: s.atSchool,
    });
    // Colin may edit the Year 9 team's details through a permission set (issue 15).
    const given = await haven.post(`/api/v1/user-groups/${s.team}/permission-sets`, s.t, {
      name: 'Detail editors',
      permissions: ['edit_details'],
      assignees: [{ type: 'user', id: s.users.colleague.id }],
    });
    expect(given.status).toBe(201);

    const page = await world().newPage();
    await signIn(page, url, admin.email);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Reports', exact: true })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Access Audit Report' }).waitFor();
    await page.getByText('No runs saved yet').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // An Admin of one school is offered that school alone.
    const scope = page.getByLabel('Scope');
    expect(await scope.locator('option').allTextContents()).toEqual(['School: Oak Primary']);
    await page.getByRole('button', { name: 'Run report' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Access Audit Report: Oak Primary' })
      .waitFor();

    // The SHA-256 shown is that of the saved run the API lists.
    const runs = await haven.get('/api/v1/reports/access-audit', admin.token);
    expect(runs.body.items).toHaveLength(1);
    const run = runs.body.items[0];
    await expect(page.locator('#report-sha').textContent()).resolves.toBe(run.sha256);
    const saved = await page.evaluate(async (id) => {
      const response = await fetch(`/api/v1/reports/access-audit/${id}?format=json`);
      return Array.from(new Uint8Array(await response.arrayBuffer()));
    }, run.id);
    expect(createHash('sha256').update(Buffer.from(saved)).digest('hex')).toBe(run.sha256);

    const people = page.getByRole('table');
    await people.getByRole('rowheader', { name: /Vera Viewer/ }).waitFor();
    await people.getByRole('rowheader', { name: /Olga Outsider/ }).waitFor();

    // Olga is in no user group: the flag says so, and choosing it shows her alone of the two.
    await page.getByRole('button', { name: /^No user group: \d+/ }).click();
    await page.getByText(/Belongs to no user group/).waitFor();
    await people.getByRole('rowheader', { name: /Olga Outsider/ }).waitFor();
    expect(await people.getByRole('rowheader', { name: /Vera Viewer/ }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // Back to everyone, then the Dormant-free, searchable, sortable table.
    await page.getByRole('button', { name: 'Show everyone' }).click();
    await people.getByRole('rowheader', { name: /Vera Viewer/ }).waitFor();
    await page.getByLabel('Search').fill('colin');
    await people.getByRole('rowheader', { name: /Colin Colleague/ }).waitFor();
    expect(await people.getByRole('rowheader').count()).toBe(1);
    // His delegated administration, in its own column.
    const column = (await people.getByRole('columnheader').allTextContents()).findIndex((t) =>
      t.startsWith('Group administration'),
    );
    expect(column).toBeGreaterThan(0);
    expect(await people.getByRole('row').nth(1).locator('th, td').nth(column).textContent()).toBe(
      'Year 9 team: Detail editors (View the group, edit its details; assigned directly)',
    );
    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: 'Children reachable' }).click();
    const header = page.getByRole('columnheader', { name: /Children reachable/ });
    await expect(header.getAttribute('aria-sort')).resolves.toBe('descending');

    // Downloads of the three forms are offered; the list shows the run.
    for (const name of [
      'Download printable PDF',
      'Download CSV',
      'Download JSON (the saved record)',
    ])
      expect(await page.getByRole('link', { name }).getAttribute('href')).toContain(run.id);
    await page.getByRole('link', { name: 'All saved runs' }).click();
    await page.getByRole('cell', { name: 'School: Oak Primary' }).waitFor();
  });
});
