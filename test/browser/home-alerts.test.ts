import { expect, it } from 'vitest';
import { raiseOverdueTransfers } from '../../src/modules/transfers/overdue.ts';
import { logConcern, school } from '../support/school.ts';
import { DESKTOP, describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * The home page's alerts of the kinds that carry their own text (issue 17, item 3: the web app
 * reads the alert kinds the OpenAPI document lists, `transfer_overdue` among them).
 */
describeInBrowser('home page alerts', () => {
  const world = useBrowserHaven();

  it("an overdue transfer's alert reads its own words and leads to Transfers", async () => {
    const { url, haven } = world();
    const s = await school(haven);
    await logConcern(haven, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const sent = await haven.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      external: { schoolName: 'Elm Academy', contact: 'dsl@elm.example' },
      reason: 'Moved away',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    // A month on, the receipt is still missing: the DSLs are alerted.
    const later = new Date(Date.now() + 31 * 24 * 60 * 60_000);
    expect(await raiseOverdueTransfers(haven.database.db, later)).toBeGreaterThan(0);

    const page = await world().newPage(DESKTOP);
    await signIn(page, url, s.users.dsl.email);
    const alerts = page.getByRole('region', { name: 'My alerts' });
    const overdue = alerts.getByRole('link', { name: /sent to Elm Academy .* has no receipt yet/ });
    await overdue.waitFor();
    expect(await alerts.getByText(/undefined/).count()).toBe(0);
    await overdue.click();
    await page.getByRole('heading', { name: 'Transfers', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/transfers');
  });
});
