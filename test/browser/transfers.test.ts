import { expect, it } from 'vitest';
import { logConcern, school } from '../support/school.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/** Transfers (issue 16, item 1): a DSL sends a child's file to another school; its DSL accepts. */
describeInBrowser('transfers', () => {
  const world = useBrowserHaven();

  it('a DSL transfers a file to another school and the receiving DSL accepts it', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const r = await school(haven);
    await logConcern(haven, s, s.users.dsl.token!, {
      sensitivity: 'child_protection',
      description: 'BROWSER-TRANSFER disclosure.',
    });

    const sender = await world().newPage(DESKTOP);
    sender.setDefaultTimeout(20_000);
    await signIn(sender, url, s.users.dsl.email);
    await sender.goto(`${url}/students/${s.students.a}`);
    await sender.getByRole('link', { name: 'Transfer the file' }).click();
    const dialog = sender.getByRole('dialog', { name: 'Send the safeguarding file' });
    await dialog.getByLabel('New school').waitFor();
    await dialog.getByLabel('New school').selectOption('other');
    await dialog.getByLabel('Their Haven school id').fill(r.org.schoolId);
    await dialog.getByLabel('Reason').fill('The family moved');
    expect(await seriousViolations(sender)).toEqual([]);
    await dialog.getByRole('button', { name: 'Send the file' }).click();
    await sender.getByText('The file was sent.').waitFor();
    const sentRow = sender.getByRole('row').filter({ hasText: 'Waiting for receipt' });
    await sentRow.waitFor();

    const receiver = await world().newPage(DESKTOP);
    receiver.setDefaultTimeout(20_000);
    await signIn(receiver, url, r.users.dsl.email);
    await receiver
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Transfers' })
      .click();
    await receiver.getByRole('heading', { name: 'Transfers', level: 1 }).waitFor();
    const offer = receiver.getByRole('row').filter({ hasText: 'The family moved' });
    await offer.waitFor();
    expect(await offer.textContent()).not.toContain('BROWSER-TRANSFER');
    expect(await seriousViolations(receiver)).toEqual([]);
    await offer.getByRole('button', { name: /^Accept/ }).click();
    await receiver.getByText(/file was received at/).waitFor();

    const received = (await haven.get('/api/v1/transfers', r.users.dsl.token, { direction: 'in' }))
      .body.items[0];
    expect(received.status).toBe('received');
    const file = await haven.get(
      `/api/v1/students/${received.child.studentId}/safeguarding-file`,
      r.users.dsl.token,
    );
    expect(JSON.stringify(file.body.entries)).toContain('BROWSER-TRANSFER');

    await sender.reload();
    await sender.getByRole('row').filter({ hasText: 'Received' }).waitFor();
  });
});
