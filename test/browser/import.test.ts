import { expect, it } from 'vitest';
import { setupOrganisation } from '../support/factories.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

function csvFile(text: string) {
  return { name: 'pupils.csv', mimeType: 'text/csv', buffer: Buffer.from(text) };
}

describeInBrowser('importing students', () => {
  const world = useBrowserHaven();

  it('lists every bad row and writes nothing, then imports a corrected file', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven, { school: 'Oak Primary' });
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await page.getByRole('link', { name: 'Import students' }).click();
    await page.getByRole('heading', { name: 'Import students' }).waitFor();

    const bad = [
      'givenName,familyName,school,yearGroup',
      'Aisha,Khan,Oak Primary,9',
      'Ben,,Oak Primary,9',
      'Cara,Lee,Nowhere School,15',
    ].join('\n');
    await page.getByLabel('CSV file').setInputFiles(csvFile(bad));
    await page.getByRole('heading', { name: 'The file needs correcting' }).waitFor();
    const problems = page.locator('tbody tr');
    expect(await problems.count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('tbody').textContent()).toMatch(/familyName/);
    expect(await page.getByRole('button', { name: /^Import/ }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    const count = async () =>
      (await haven.database.db.selectFrom('students').select('id').execute()).length;
    expect(await count()).toBe(0);

    const good = [
      'givenName,familyName,school,yearGroup',
      'Aisha,Khan,Oak Primary,9',
      'Ben,Okafor,Oak Primary,9',
      'Cara,Lee,Oak Primary,10',
    ].join('\n');
    await page.getByLabel('CSV file').setInputFiles(csvFile(good));
    await page.getByRole('heading', { name: 'Ready to import' }).waitFor();
    expect(await count()).toBe(0);
    await page.getByRole('button', { name: 'Import 3 students' }).click();
    await page.getByText('3 students added from pupils.csv.').waitFor();
    expect(await count()).toBe(3);
  });
});
