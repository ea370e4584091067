import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addSchoolDays,
  dayOf,
  TRANSFER_SCHOOL_DAYS,
} from '../../src/modules/transfers/school-days.ts';
import { createUser } from '../support/factories.ts';
import { logConcern, type School, school } from '../support/school.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/** "2026-12-01" as a UK school writes it: 01/12/2026. */
const ukDate = (day: string) => day.split('-').reverse().join('/');

function daysAfter(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * The Transfers page's controls (issue 16): a school's holidays kept on the Schools page move the
 * due day of a new transfer; a transfer still waiting is cancelled; an external school's receipt
 * is recorded by hand.
 */
describeInBrowser('transfer controls', () => {
  const world = useBrowserHaven();

  async function sendExternal(s: School, reason: string) {
    const { haven } = world();
    const sent = await haven.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      external: { schoolName: 'Elm Academy', contact: 'dsl@elm.example' },
      reason,
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    return sent.body.id as string;
  }

  async function sentList(s: School) {
    const { haven } = world();
    const out = await haven.get('/api/v1/transfers', s.users.dsl.token, { direction: 'out' });
    expect(out.status).toBe(200);
    return out.body.items as any[];
  }

  async function openTransfers(page: Page, email: string) {
    const { url } = world();
    await signIn(page, url, email);
    await page.goto(`${url}/transfers`);
    await page.getByRole('heading', { name: 'Transfers', level: 1 }).waitFor();
  }

  it("a school's holiday is added on the Schools page and moves a new transfer's due day", async () => {
    const { url, haven } = world();
    const s = await school(haven);
    await logConcern(haven, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    const page = await world().newPage(DESKTOP);
    await signIn(page, url, s.users.dsl.email);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Schools and settings' })
      .click();
    const add = page.getByRole('form', { name: /^Add a holiday at / });
    await add.waitFor();

    // The server's refusal, in the form's words rather than the API's field names.
    const today = dayOf(new Date().toISOString());
    const first = daysAfter(today, 1);
    const last = daysAfter(today, 3);
    await add.getByLabel('Holiday name').fill('Staff training');
    await add.getByLabel('First day').fill(last);
    await add.getByLabel('Last day').fill(first);
    await add.getByRole('button', { name: 'Add holiday' }).click();
    await add.getByText('Must not be before the first day.').waitFor();
    expect((await haven.get(`/api/v1/schools/${s.org.schoolId}/holidays`, s.t)).body.items).toEqual(
      [],
    );

    await add.getByLabel('First day').fill(first);
    await add.getByLabel('Last day').fill(last);
    await add.getByRole('button', { name: 'Add holiday' }).click();
    const listed = page.getByRole('table', { name: /^Holidays at / });
    const row = listed.getByRole('row').filter({ hasText: 'Staff training' });
    await row.waitFor();
    expect(await row.getByRole('cell').allTextContents()).toEqual([
      'Staff training',
      ukDate(first),
      ukDate(last),
      'Remove Staff training',
    ]);
    expect(await seriousViolations(page)).toEqual([]);
    const kept = (await haven.get(`/api/v1/schools/${s.org.schoolId}/holidays`, s.t)).body.items;
    expect(kept).toMatchObject([{ name: 'Staff training', startsOn: first, endsOn: last }]);

    // A transfer sent now is due five school days later, not counting the holiday.
    const withHoliday = addSchoolDays(today, TRANSFER_SCHOOL_DAYS, [
      { startsOn: first, endsOn: last },
    ]);
    const without = addSchoolDays(today, TRANSFER_SCHOOL_DAYS, []);
    expect(withHoliday > without).toBe(true);
    await page.goto(`${url}/students/${s.students.a}`);
    await page.getByRole('link', { name: 'Transfer the file' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send the safeguarding file' });
    await dialog.getByLabel('New school').selectOption('external');
    await dialog.getByLabel('School name').fill('Elm Academy');
    await dialog.getByLabel("Their DSL's contact").fill('dsl@elm.example');
    await dialog.getByLabel('Reason').fill('Moved away');
    await dialog.getByRole('button', { name: 'Send the file' }).click();
    await dialog.getByRole('button', { name: 'Done' }).click();
    const sent = page.getByRole('row').filter({ hasText: 'Elm Academy' });
    await sent.getByRole('cell', { name: ukDate(withHoliday), exact: true }).waitFor();
    expect((await sentList(s))[0].dueOn).toBe(withHoliday);

    // Removed on the Schools page, it is no longer listed nor kept.
    await page.goto(`${url}/admin/schools`);
    await listed.getByRole('button', { name: 'Remove Staff training' }).click();
    await page.getByText('No holidays yet: only weekends are skipped.').waitFor();
    expect((await haven.get(`/api/v1/schools/${s.org.schoolId}/holidays`, s.t)).body.items).toEqual(
      [],
    );
  });

  it('a transfer still waiting is cancelled after a confirmation, and only by those who manage transfers', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const r = await school(haven);
    const sent = await haven.post('/api/v1/transfers', s.users.dsl.token, {
      studentId: s.students.a,
      toSchoolId: r.org.schoolId,
      reason: 'Family moved north',
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const child = (await sentList(s))[0].child.name as string;

    // A Viewer does not manage transfers: no list of sent files, no control.
    const viewer = await world().newPage(DESKTOP);
    await signIn(viewer, url, s.users.viewer.email);
    await viewer.goto(`${url}/transfers`);
    await viewer.getByRole('heading', { name: 'Transfers', level: 1 }).waitFor();
    expect(await viewer.getByRole('heading', { name: 'Sent' }).count()).toBe(0);
    expect(await viewer.getByRole('button', { name: /^Cancel the transfer/ }).count()).toBe(0);

    const page = await world().newPage(DESKTOP);
    await openTransfers(page, s.users.dsl.email);
    const row = page.getByRole('row').filter({ hasText: child });
    await row.getByText('Waiting for receipt').waitFor();
    // An offer on Haven is accepted by the receiving school, not recorded here.
    expect(await row.getByRole('button', { name: /^Record receipt/ }).count()).toBe(0);

    // "Keep it" changes nothing.
    await row.getByRole('button', { name: `Cancel the transfer of ${child}'s file` }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel this transfer?' });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await sentList(s))[0].status).toBe('sent');

    await row.getByRole('button', { name: `Cancel the transfer of ${child}'s file` }).click();
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel the transfer' }).click();
    await page.getByText(`The transfer of ${child}'s file was cancelled.`).waitFor();
    await row.getByText('Cancelled').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);

    const [after] = await sentList(s);
    expect(after).toMatchObject({ id: sent.body.id, status: 'cancelled' });
    const offered = await haven.get('/api/v1/transfers', r.users.dsl.token, { direction: 'in' });
    expect(offered.body.items).toEqual([]);
  });

  it("an external school's receipt is recorded by hand and shown with who, when and how", async () => {
    const { haven } = world();
    const s = await school(haven);
    const id = await sendExternal(s, 'Moved to Elm Academy');
    const child = (await sentList(s))[0].child.name as string;
    // An Admin of the school also manages transfers.
    const admin = await createUser(haven, s.t, {
      name: 'Ada Admin',
      role: 'admin',
      scope: s.atSchool,
    });

    const page = await world().newPage(DESKTOP);
    await openTransfers(page, admin.email);
    const row = page.getByRole('row').filter({ hasText: child });
    await row.getByText('Waiting for receipt').waitFor();
    await row.getByRole('button', { name: `Record receipt of ${child}'s file` }).click();
    const dialog = page.getByRole('dialog', { name: 'Record receipt' });
    const confirmedOn = daysAfter(dayOf(new Date().toISOString()), -1);
    await dialog.getByLabel('Confirmed by').fill('Erin Elm (DSL)');
    await dialog.getByLabel('Confirmed on').fill(confirmedOn);
    await dialog.getByLabel('How it was confirmed').fill('Phone call to the school office');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Record receipt' }).click();
    await page.getByText(`The receipt of ${child}'s file was recorded.`).waitFor();
    await row
      .getByText(`Received: confirmed by Erin Elm (DSL) on ${ukDate(confirmedOn)}`)
      .waitFor();
    await row.getByText('Phone call to the school office').waitFor();
    expect(await row.getByRole('button').count()).toBe(0);

    const [after] = await sentList(s);
    expect(after).toMatchObject({
      id,
      status: 'received',
      receivedBy: 'Erin Elm (DSL)',
      receipt: {
        confirmedBy: 'Erin Elm (DSL)',
        confirmedOn,
        note: 'Phone call to the school office',
      },
    });
    // Recorded once: a second receipt is refused.
    const again = await haven.post(`/api/v1/transfers/${id}/receipt`, s.users.dsl.token, {
      receivedBy: 'Someone else',
      receivedOn: confirmedOn,
    });
    expect([again.status, again.body.code]).toEqual([409, 'transfer_closed']);
  });
});
