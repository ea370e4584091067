import { expect, it } from 'vitest';
import { createStudent, setupOrganisation } from '../support/factories.ts';
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

  it("reads an MIS export: its problems row by row in a school's words, the columns left out, then an update by UPN", async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven, { school: 'Oak Primary' });
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await page.getByRole('link', { name: 'Import students' }).click();
    await page.getByRole('heading', { name: 'Import students' }).waitFor();

    const heading = 'UPN,Legal Surname,Legal Forename,Preferred Forename,Gender,DOB,Year,Reg Group';
    const bad = [
      heading,
      'A999000000601,Ashworth,Tilly,,F,14/03/2016,Y5,5A',
      'A999000000602,Brennan,Seun,,M,31/02/2016,Year 5,5A',
      'A999000000603,Castellano,Maribel,,F,30/06/2019,Year 19,RC',
    ].join('\n');
    await page.getByLabel('CSV file').setInputFiles(csvFile(bad));
    await page.getByRole('heading', { name: 'The file needs correcting' }).waitFor();
    const table = page.locator('tbody');
    expect(await table.textContent()).toContain(
      'Row 3: the date of birth 31/02/2016 is not a real date',
    );
    expect(await table.textContent()).toContain('Row 4: the year group Year 19');
    await page.getByText('Not used: Gender, Reg Group.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Tilly is already on roll with another forename: the file updates her, by UPN.
    await createStudent(haven, org.ownerToken, {
      schoolId: org.schoolId,
      upn: 'A999000000601',
      givenName: 'Matilda',
      familyName: 'Ashworth',
    });
    const good = [
      heading,
      'A999000000601,Ashworth,Tilly,,F,14/03/2016,Y5,5A',
      'A999000000602,Brennan,Seun,,M,28/02/2016,Year 5,5A',
      'A999000000603,Castellano,Maribel,,F,30/06/2019,R,RC',
    ].join('\n');
    await page.getByLabel('CSV file').setInputFiles(csvFile(good));
    await page.getByRole('heading', { name: 'Ready to import' }).waitFor();
    await page.getByText('2 new students, 1 to update, 0 unchanged').waitFor();

    // How far a large import has gone is shown from its run, polled while it works: the real
    // run's numbers are checked mid-way in test/integration/imports.test.ts.
    await page.getByRole('button', { name: 'Import 3 students' }).click();
    await page.getByText('2 students added from pupils.csv.').waitFor();
    await page.getByText('1 student updated.').waitFor();
    const tilly = await haven.database.db
      .selectFrom('students')
      .select(['given_name', 'revision'])
      .where('upn', '=', 'A999000000601')
      .executeTakeFirstOrThrow();
    expect(tilly).toEqual({ given_name: 'Tilly', revision: 2 });
    const runs = await haven.database.db
      .selectFrom('import_runs')
      .select(['status', 'dry_run', 'processed_rows', 'written_rows'])
      .orderBy('started_at')
      .execute();
    expect(runs.at(-1)).toEqual({
      status: 'imported',
      dry_run: 0,
      processed_rows: 3,
      written_rows: 3,
    });
  });
});
