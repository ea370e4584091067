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
  schoolDefaults,
  setupOrganisation,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { enrolTotp } from '../support/two-factor.ts';
import { seriousViolations } from './support/axe.ts';
import { DESKTOP, describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * A school with a Year 9 team (a user group linked to the Year 9 students by a rule) holding a
 * Viewer, and a DSL in the Safeguarding Team (which holds the child_protection clearance).
 */
async function school(h: TestHaven) {
  const org = await setupOrganisation(h, { school: 'Oak Academy' });
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  const ava = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Ava',
    familyName: 'Adams',
    yearGroup: 9,
  });
  const xander = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Xander',
    familyName: 'Quintrell',
    yearGroup: 9,
  });
  const cara = await createStudent(h, t, {
    schoolId: org.schoolId,
    givenName: 'Cara',
    familyName: 'Clark',
    yearGroup: 10,
  });
  const year9 = await createStudentGroup(h, t, {
    name: 'Year 9',
    schoolId: org.schoolId,
    kind: 'rule',
    rule: { field: 'yearGroup', op: 'eq', value: 9 },
  });
  // Homed at the school, so the school's DSL finds it to assign work to.
  const team = await createUserGroup(h, t, 'Year 9 team', { homeScope: atSchool });
  await linkGroup(h, t, team, { studentGroupId: year9 });
  const viewer = await createUser(h, t, { name: 'Vera Viewer', role: 'viewer', scope: atSchool });
  await addMembers(h, t, team, [viewer.id]);
  const dsl = await createUser(h, t, { name: 'Dina Lewis', role: 'dsl', scope: atSchool });
  const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
  await addMembers(h, t, safeguardingTeamId, [dsl.id]);
  const categories = (await h.get('/api/v1/categories', t, { schoolId: org.schoolId })).body.items;
  const categoryId = (name: string) => categories.find((c: any) => c.name === name).id as string;
  return { org, t, atSchool, team, viewer, dsl, students: { ava, xander, cara }, categoryId };
}

type School = Awaited<ReturnType<typeof school>>;

async function logConcern(
  h: TestHaven,
  s: School,
  token: string,
  options: { studentIds: string[]; category?: string; description?: string },
) {
  const reply = await h.post('/api/v1/incidents', token, {
    schoolId: s.org.schoolId,
    studentIds: options.studentIds,
    categoryId: s.categoryId(options.category ?? 'Bullying'),
    occurredAt: '2026-11-20T10:15:00Z',
    location: 'Playground',
    description: options.description ?? 'Upset at break; said an older pupil took lunch money.',
  });
  if (reply.status !== 201) throw new Error(`incident failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id as string;
}

async function mainText(page: Page) {
  return (await page.locator('body').textContent()) ?? '';
}

describeInBrowser('everyday work', () => {
  const world = useBrowserHaven();
  /** A fresh browser profile; patient, as the machine running the tests may be busy. */
  const open = async (viewport = DESKTOP) => {
    const page = await world().newPage(viewport);
    page.setDefaultTimeout(20_000);
    return page;
  };

  it('a Viewer logs a concern about a Year 9 child, the DSL sets an action, the Viewer does it', async () => {
    const { url, haven } = world();
    const s = await school(haven);

    // The Viewer finds the child through the student search, then logs a concern about them.
    const vera = await open(DESKTOP);
    await signIn(vera, url, s.viewer.email);
    await vera.getByRole('link', { name: 'Students' }).click();
    await vera.getByRole('heading', { name: 'Students' }).waitFor();
    await vera.getByRole('link', { name: 'Xander Quintrell' }).waitFor();
    // The Year 10 child is outside the team's link and never listed.
    expect(await mainText(vera)).not.toContain('Cara Clark');
    await vera.getByLabel('Search by name or UPN').fill('adams');
    await vera.getByRole('link', { name: 'Xander Quintrell' }).waitFor({ state: 'detached' });
    await vera.getByRole('link', { name: 'Ava Adams' }).click();
    await vera.getByRole('heading', { name: 'Ava Adams' }).waitFor();
    await vera.getByRole('link', { name: 'Log a concern about this child' }).click();
    await vera.getByRole('heading', { name: 'Log a concern' }).waitFor();
    await vera.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    await vera.getByLabel('Category').selectOption({ label: 'Bullying' });
    await vera.getByLabel('What happened').fill('Ava said older pupils took her lunch money.');
    await vera.getByLabel('Where (optional)').fill('Canteen');
    await vera.getByRole('button', { name: 'Save concern' }).click();
    // The receipt, then the report itself.
    await vera.getByRole('heading', { name: 'Concern saved' }).waitFor();
    await vera.getByRole('link', { name: 'Open the report' }).click();
    await vera.getByRole('heading', { name: 'Bullying' }).waitFor();
    await vera.getByText('Ava said older pupils took her lunch money.').waitFor();
    // A Viewer gets no control to assign, add actions, or delete.
    expect(await vera.getByRole('button', { name: 'Assign' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Add action' }).count()).toBe(0);
    expect(await vera.getByRole('button', { name: 'Delete' }).count()).toBe(0);

    // The DSL finds it in the concerns list and sets an action for the Viewer.
    const dina = await open(DESKTOP);
    await signIn(dina, url, s.dsl.email);
    await dina.getByRole('link', { name: 'Concerns' }).click();
    await dina.getByRole('link', { name: 'Bullying' }).click();
    await dina.getByText('Ava said older pupils took her lunch money.').waitFor();
    const addAction = dina.getByRole('form', { name: 'Add an action' });
    await addAction.getByLabel('What needs doing').fill('Check in with Ava at lunch');
    await addAction.getByLabel('Due (optional)').fill('2026-11-27');
    await addAction.getByLabel('Search staff and groups').fill('Vera');
    await addAction.getByRole('option', { name: 'Vera Viewer' }).waitFor({ state: 'attached' });
    await addAction.getByLabel('Choose').selectOption({ label: 'Vera Viewer' });
    await addAction.getByRole('button', { name: 'Add action' }).click();
    await dina.getByText('Check in with Ava at lunch').waitFor();

    // The Viewer sees it on the home page, opens the concern and marks it done.
    await vera.goto(url);
    await vera.getByRole('link', { name: 'Check in with Ava at lunch', exact: true }).click();
    await vera.getByRole('heading', { name: 'Bullying' }).waitFor();
    // Hers to do, not to change or delete.
    expect(await vera.getByRole('button', { name: /^(Edit|Delete) "Check in/ }).count()).toBe(0);
    await vera.getByRole('button', { name: 'Mark "Check in with Ava at lunch" done' }).click();
    await vera.locator('.done').waitFor();
    expect(await vera.getByRole('button', { name: /Mark .* done/ }).count()).toBe(0);
    await vera.goto(url);
    await vera.getByText('No open actions.').waitFor();

    const db = haven.database.db;
    const incidents = await db.selectFrom('incidents').select(['id', 'reporter_id']).execute();
    expect(incidents).toEqual([{ id: expect.any(String), reporter_id: s.viewer.id }]);
    const actions = await db
      .selectFrom('actions')
      .select(['incident_id', 'assignee_id', 'completed_by'])
      .execute();
    expect(actions).toEqual([
      { incident_id: incidents[0]!.id, assignee_id: s.viewer.id, completed_by: s.viewer.id },
    ]);
  });

  it('Log a concern keeps a draft on the device, on a phone, picking children by keyboard', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await open(PHONE);
    await signIn(page, url, s.viewer.email);
    await page.goto(`${url}/concerns/new`);
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    const children = page.getByRole('combobox', { name: 'Children involved' });
    await children.fill('ava');
    await page.getByRole('option', { name: /Ava Adams/ }).waitFor();
    await children.press('ArrowDown');
    await children.press('Enter');
    await page.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    await page.getByLabel('What happened').fill('Crying in the corridor after PE.');
    await page.getByLabel('Where (optional)').fill('Sports hall');

    await page.reload();
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    await page.getByText(/Your draft from .* has been restored/).waitFor();
    expect(await page.getByLabel('What happened').inputValue()).toBe(
      'Crying in the corridor after PE.',
    );
    expect(await page.getByLabel('Where (optional)').inputValue()).toBe('Sports hall');
    await page.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // Without a connection the draft stays, and the page says so.
    await page.getByLabel('Category').selectOption({ label: 'Bullying' });
    const dropped = '**/api/v1/incidents';
    await page.route(dropped, (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByText(/No connection: your concern has not been sent yet/).waitFor();
    await page.reload();
    expect(await page.getByLabel('What happened').inputValue()).toBe(
      'Crying in the corridor after PE.',
    );
    await page.unroute(dropped);
    expect(await haven.database.db.selectFrom('incidents').select('id').execute()).toEqual([]);

    await page.getByRole('button', { name: 'Save concern' }).click();
    await page.getByRole('heading', { name: 'Concern saved' }).waitFor();
    expect(await haven.database.db.selectFrom('incidents').select('id').execute()).toHaveLength(1);
    // Saved: the draft is gone.
    await page.goto(`${url}/concerns/new`);
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    expect(await page.getByLabel('What happened').inputValue()).toBe('');
    expect(await page.getByText(/has been restored/).count()).toBe(0);
  });
  it('a concern draft leaves the device at sign-out, and a day-old one is not offered', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const page = await open(PHONE);
    await signIn(page, url, s.viewer.email);
    await page.goto(`${url}/concerns/new`);
    await page.getByLabel('What happened').fill('Said she is scared to go home.');
    // Evaluated in the page, whose globals Node's types do not know.
    const stored = () =>
      page.evaluate(() =>
        Object.keys((globalThis as any).localStorage).filter((k) =>
          k.startsWith('haven:concern-draft:'),
        ),
      );
    expect(await stored()).toHaveLength(1);

    // A shared computer: signing out removes the account from the device.
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('button', { name: 'Sign out' }).last().click();
    await page.getByText('You have signed out.').waitFor();
    expect(await stored()).toEqual([]);

    // A draft left for more than a day (the browser closed without signing out) is dropped.
    await signIn(page, url, s.viewer.email);
    await page.goto(`${url}/concerns/new`);
    await page.getByLabel('What happened').fill('Old words.');
    await page.evaluate(() => {
      const storage = (globalThis as any).localStorage;
      const key = Object.keys(storage).find((k) => k.startsWith('haven:concern-draft:'))!;
      const draft = JSON.parse(storage.getItem(key));
      draft.savedAt = new Date(Date.now() - 25 * 60 * 60 * 1000).toISOString();
      storage.setItem(key, JSON.stringify(draft));
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Log a concern' }).waitFor();
    expect(await page.getByLabel('What happened').inputValue()).toBe('');
    expect(await stored()).toEqual([]);
  });

  it('a member of staff blocked from a child finds no trace of them', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const blocked = await createUser(haven, s.t, {
      name: 'Bo Parent',
      role: 'viewer',
      scope: s.atSchool,
    });
    await addMembers(haven, s.t, s.team, [blocked.id]);
    await blockStudent(haven, s.dsl.token!, blocked.id, s.students.xander, 'parent');
    const onlyX = await logConcern(haven, s, s.dsl.token!, {
      studentIds: [s.students.xander],
      description: 'Only about one child.',
    });
    const both = await logConcern(haven, s, s.dsl.token!, {
      studentIds: [s.students.ava, s.students.xander],
      category: 'Behaviour',
      description: 'A scuffle between two children.',
    });
    const noTrace = async (page: Page) => {
      const text = await mainText(page);
      expect(text).not.toContain('Xander');
      expect(text).not.toContain('Quintrell');
    };

    const page = await open(DESKTOP);
    await signIn(page, url, blocked.email);
    await page.getByRole('link', { name: 'Students' }).click();
    await page.getByRole('link', { name: 'Ava Adams' }).waitFor();
    await page.getByText('1 child', { exact: true }).waitFor();
    await noTrace(page);
    await page.getByLabel('Search by name or UPN').fill('Xander');
    await page.getByText('No children match. Try fewer words or other filters.').waitFor();
    await noTrace(page);

    await page.getByRole('link', { name: 'Concerns' }).click();
    await page.getByRole('link', { name: 'Behaviour' }).waitFor();
    expect(await page.getByRole('link', { name: 'Bullying' }).count()).toBe(0);
    await page.getByText('A child you cannot see').waitFor();
    await noTrace(page);
    await page.getByRole('link', { name: 'Behaviour' }).click();
    await page.getByText('A scuffle between two children.').waitFor();
    await page.getByText('A child you cannot see').waitFor();
    await noTrace(page);

    await page.goto(`${url}/students/${s.students.xander}`);
    await page.getByText('Not found, or you do not have access to it.').waitFor();
    await noTrace(page);
    await page.goto(`${url}/incidents/${onlyX}`);
    await page.getByText('Not found, or you do not have access to it.').waitFor();
    await noTrace(page);
    expect(await page.getByText('Only about one child.').count()).toBe(0);

    await page.goto(`${url}/concerns/new`);
    await page.getByRole('combobox', { name: 'Children involved' }).fill('Xander');
    await page.getByText('No children match.', { exact: true }).waitFor();
    await noTrace(page);
    // The same pages do name the child for a colleague who is not blocked.
    const other = await open(DESKTOP);
    await signIn(other, url, s.viewer.email);
    await other.goto(`${url}/incidents/${both}`);
    await other.getByRole('link', { name: 'Xander Quintrell' }).waitFor();
  });

  it('a child-protection concern asks for the two-factor step-up', async () => {
    const { url, haven, clock } = world();
    const s = await school(haven);
    const cp = await logConcern(haven, s, s.dsl.token!, {
      studentIds: [s.students.ava],
      category: 'Child protection',
      description: 'Disclosure made to the form tutor.',
    });
    const { secret } = await enrolTotp(haven, s.dsl.token!, clock);
    const page = await open(PHONE);
    await signIn(page, url, s.dsl.email, { totp: await clock.advance().code(secret) });
    // The sign-in code counted as a step-up; make it older than the school's window.
    await haven.database.db
      .updateTable('sessions')
      .set({ mfa_at: new Date(Date.now() - 16 * 60_000).toISOString() })
      .where('user_id', '=', s.dsl.id)
      .execute();
    await page.goto(`${url}/incidents/${cp}`);
    await page.getByRole('heading', { name: 'Two-factor check needed' }).waitFor();
    expect(await page.getByText('Disclosure made to the form tutor.').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page
      .getByLabel('Code from your authenticator app')
      .fill(await clock.advance().code(secret));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Disclosure made to the form tutor.').waitFor();
    await page.getByRole('heading', { name: 'Child protection' }).waitFor();

    // A colleague in the Safeguarding Team without two-factor is told to set it up.
    const second = await createUser(haven, s.t, {
      name: 'Sam Second',
      role: 'dsl',
      scope: s.atSchool,
    });
    const { safeguardingTeamId } = await schoolDefaults(haven, s.t, s.org.schoolId);
    await addMembers(haven, s.t, safeguardingTeamId, [second.id]);
    const plain = await open(DESKTOP);
    await signIn(plain, url, second.email);
    await plain.goto(`${url}/incidents/${cp}`);
    await plain.getByRole('heading', { name: 'Two-factor check needed' }).waitFor();
    await plain.getByRole('link', { name: 'Set up two-factor sign-in' }).waitFor();
    expect(await plain.getByText('Disclosure made to the form tutor.').count()).toBe(0);
  });

  it('the everyday pages have no serious accessibility problems', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const id = await logConcern(haven, s, s.dsl.token!, { studentIds: [s.students.ava] });
    const added = await haven.post(`/api/v1/incidents/${id}/actions`, s.dsl.token, {
      title: 'Call home',
      assignee: { type: 'user', id: s.viewer.id },
    });
    expect(added.status).toBe(201);
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await open(viewport);
      await signIn(page, url, s.dsl.email);
      await page.goto(`${url}/students`);
      await page.getByRole('link', { name: 'Ava Adams' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('link', { name: 'Ava Adams' }).click();
      await page.getByRole('heading', { name: 'Chronology' }).waitFor();
      await page.getByRole('link', { name: 'Concern: Bullying' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.getByRole('link', { name: 'Log a concern about this child' }).click();
      await page.getByRole('button', { name: 'Remove Ava Adams' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(`${url}/incidents/${id}`);
      await page.getByText('Call home').waitFor();
      await page.getByRole('heading', { name: 'Kept from' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(`${url}/incidents`);
      await page.getByRole('link', { name: 'Bullying' }).waitFor();
      expect(await seriousViolations(page)).toEqual([]);
    }
  });
  it('the DSL works a case: a stale edit refused, a group assigned, a file added and deleted, an action reworded', async () => {
    const { url, haven } = world();
    const s = await school(haven);
    const id = await logConcern(haven, s, s.viewer.token!, { studentIds: [s.students.ava] });
    const page = await open(DESKTOP);
    await signIn(page, url, s.dsl.email);
    await page.goto(`${url}/incidents/${id}`);
    await page.getByRole('heading', { name: 'Bullying' }).waitFor();

    // Someone else moves it on while the page is open: this page's change is refused.
    const elsewhere = await haven.patch(`/api/v1/incidents/${id}`, s.dsl.token, {
      revision: 1,
      status: 'in_progress',
    });
    expect(elsewhere.status).toBe(200);
    await page.getByLabel('Change status').selectOption({ label: 'Closed' });
    await page.getByRole('button', { name: 'Save status' }).click();
    await page.getByText(/Someone else changed this concern/).waitFor();
    expect((await haven.get(`/api/v1/incidents/${id}`, s.dsl.token)).body.status).toBe(
      'in_progress',
    );
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.getByText(/Someone else changed this concern/).waitFor({ state: 'detached' });
    expect(await page.getByLabel('Change status').inputValue()).toBe('in_progress');
    await page.getByLabel('Change status').selectOption({ label: 'Closed' });
    await page.getByRole('button', { name: 'Save status' }).click();
    await page.getByText(/^Revision 2, replaced/).waitFor();
    expect((await haven.get(`/api/v1/incidents/${id}`, s.dsl.token)).body).toMatchObject({
      status: 'closed',
      revision: 3,
    });

    const assigned = page.getByRole('region', { name: 'Assigned to' });
    await assigned.getByLabel('Search staff and groups').fill('Year 9');
    await assigned.getByRole('option', { name: 'Year 9 team' }).waitFor({ state: 'attached' });
    await assigned.getByLabel('Choose').selectOption({ label: 'Year 9 team' });
    await assigned.getByRole('button', { name: 'Assign' }).click();
    await assigned.getByText('Year 9 team (group)').waitFor();

    await page.getByLabel('Add a document').setInputFiles({
      name: 'meeting-notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Notes of the meeting with the family.\n'),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const link = page.getByRole('link', { name: 'meeting-notes.txt' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toMatch(/^\/api\/v1\/documents\//);
    const assignees = await haven.database.db
      .selectFrom('incident_assignees')
      .select(['assignee_type', 'assignee_id'])
      .execute();
    expect(assignees).toEqual([{ assignee_type: 'user_group', assignee_id: s.team }]);

    // A file added by mistake is deleted (kept, marked deleted, for the audit trail).
    await page.getByRole('button', { name: 'Delete meeting-notes.txt' }).click();
    const deleting = page.getByRole('dialog', { name: 'Delete this document?' });
    await deleting.getByRole('button', { name: 'Delete document' }).click();
    await link.waitFor({ state: 'detached' });
    await page.getByText('No documents.').waitFor();
    const documents = await haven.database.db
      .selectFrom('documents')
      .select('deleted_at')
      .execute();
    expect(documents).toEqual([{ deleted_at: expect.any(String) }]);

    // An action is reworded, then withdrawn.
    const actionsPanel = page.getByRole('region', { name: 'Actions' });
    const addAction = page.getByRole('form', { name: 'Add an action' });
    await addAction.getByLabel('What needs doing').fill('Phone home');
    await addAction.getByLabel('Choose').selectOption({ label: 'Me (Dina Lewis)' });
    await addAction.getByRole('button', { name: 'Add action' }).click();
    await actionsPanel.getByRole('button', { name: 'Edit "Phone home"' }).click();
    const editing = page.getByRole('form', { name: 'Edit "Phone home"' });
    await editing.getByLabel('What needs doing').fill('Phone home after school');
    await editing.getByRole('button', { name: 'Save action' }).click();
    await actionsPanel.getByText('Phone home after school').waitFor();
    await actionsPanel.getByRole('button', { name: 'Delete "Phone home after school"' }).click();
    await page
      .getByRole('dialog', { name: 'Delete this action?' })
      .getByRole('button', { name: 'Delete action' })
      .click();
    await actionsPanel.getByText('No actions yet.').waitFor();
  });
});
