import { expect, it } from 'vitest';
import type { TestHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * Retention review (issue 16, item 4): a DSL works through the records past their day. Records
 * are made old by their date: a concern of 2014 is long past the school's six years.
 */
async function oldConcern(h: TestHaven, s: School, occurredAt: string) {
  const reply = await h.post('/api/v1/incidents', s.users.dsl.token!, {
    schoolId: s.org.schoolId,
    studentIds: [s.students.a],
    categoryId: s.category('standard'),
    occurredAt,
    location: 'Playground',
    description: 'Said something unkind at break.',
  });
  if (reply.status !== 201) throw new Error(`incident failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

describeInBrowser('retention review', () => {
  const world = useBrowserHaven();

  it('a DSL keeps one record longer, holds one and destroys one after confirming', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const kept = await oldConcern(haven, s, '2014-03-03T10:00:00Z');
    const held = await oldConcern(haven, s, '2015-04-04T10:00:00Z');
    const gone = await oldConcern(haven, s, '2016-05-05T10:00:00Z');
    const dsl = s.users.dsl.token!;
    const view = async (id: string) =>
      (await haven.get(`/api/v1/retention/records/${id}`, dsl)).body;

    const page = await world().newPage(DESKTOP);
    page.setDefaultTimeout(20_000);
    await signIn(page, url, s.users.dsl.email);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Retention' })
      .click();
    await page.getByRole('heading', { name: 'Retention', level: 1 }).waitFor();
    const table = page.getByRole('table');
    const review = (date: string) =>
      page.getByRole('button', { name: new RegExp(`record of ${date}$`) });
    await review('03/03/2014').waitFor();
    expect(await table.getByRole('row').count()).toBe(4); // the header and three records
    expect(await table.getByRole('row').nth(1).textContent()).toContain('03/03/2020');
    expect(await seriousViolations(page)).toEqual([]);

    // Keep longer: an earlier day is refused with the server's words, a later one leaves the queue.
    await review('03/03/2014').click();
    let dialog = page.getByRole('dialog', { name: 'Retention of a record' });
    await dialog.getByText("The school's retention period").waitFor();
    await dialog.getByRole('button', { name: 'Keep longer' }).click();
    await dialog.getByLabel('Keep until').fill('2020-03-03');
    await dialog.getByLabel('Reason').fill('Police enquiry still open');
    await dialog.getByRole('button', { name: 'Keep it longer' }).click();
    await dialog.getByText("must be later than the record's day, 2020-03-03").first().waitFor();
    expect((await view(kept)).decisions).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByLabel('Keep until').fill('2031-09-01');
    await dialog.getByRole('button', { name: 'Keep it longer' }).click();
    await page.getByText('is kept until 01/09/2031').waitFor();
    await review('03/03/2014').waitFor({ state: 'detached' });
    expect(await view(kept)).toMatchObject({
      retainUntil: '2031-09-01',
      extendedTo: '2031-09-01',
      due: false,
      decisions: [{ action: 'extend', reason: 'Police enquiry still open' }],
    });

    // Legal hold: it stays in the queue, marked, and cannot be destroyed from here.
    await review('04/04/2015').click();
    dialog = page.getByRole('dialog', { name: 'Retention of a record' });
    await dialog.getByRole('button', { name: 'Destroy…' }).waitFor();
    await dialog.getByRole('button', { name: 'Legal hold' }).click();
    await dialog.getByLabel('Reason').fill('Claim notified by solicitors');
    await dialog.getByRole('button', { name: 'Put it on legal hold' }).click();
    await page.getByText('is on legal hold').waitFor();
    const heldRow = page.getByRole('row').filter({ hasText: '04/04/2015' });
    await heldRow.getByText('On legal hold').waitFor();
    await review('04/04/2015').click();
    dialog = page.getByRole('dialog', { name: 'Retention of a record' });
    await dialog.getByText('it cannot be destroyed until released').waitFor();
    await dialog.getByRole('button', { name: 'Release legal hold' }).waitFor();
    expect(await dialog.getByRole('button', { name: 'Destroy…' }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect((await view(held)).legalHoldSince).not.toBeNull();
    expect(
      (await haven.post(`/api/v1/retention/records/${held}/decisions`, dsl, { action: 'destroy' }))
        .body.code,
    ).toBe('legal_hold');

    // Destroy: the confirmation says what goes and that it cannot be undone; "Keep it" keeps it.
    await review('05/05/2016').click();
    dialog = page.getByRole('dialog', { name: 'Retention of a record' });
    await dialog.getByRole('button', { name: 'Destroy…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Destroy this record?' });
    await confirm.getByText('This cannot be undone.').waitFor();
    expect(await confirm.textContent()).toContain('earlier versions, documents');
    expect(await seriousViolations(page)).toEqual([]);
    await confirm.getByRole('button', { name: 'Keep it' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await view(gone)).destroyedAt).toBeNull();
    await review('05/05/2016').click();
    await dialog.getByRole('button', { name: 'Destroy…' }).click();
    await confirm.getByRole('button', { name: 'Destroy the record' }).click();
    await page.getByText(/record of 05\/05\/2016 was destroyed/).waitFor();
    await review('05/05/2016').waitFor({ state: 'detached' });
    const destroyed = await view(gone);
    expect(destroyed.destroyedAt).not.toBeNull();
    expect(destroyed.decisions.map((d: { action: string }) => d.action)).toEqual(['destroy']);
    expect((await haven.get(`/api/v1/incidents/${gone}`, dsl)).status).toBe(404);
    // The record on hold is all that is left.
    expect(await table.getByRole('row').count()).toBe(2);
    await heldRow.getByText('On legal hold').waitFor();
  });
});
