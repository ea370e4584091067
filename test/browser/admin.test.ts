import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  setupOrganisation,
  uniqueEmail,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, PHONE, signIn, useBrowserHaven } from './support/browser.ts';

/** A user through the API without a password (fast: nothing to hash). */
async function addUser(h: TestHaven, token: string, name: string): Promise<string> {
  const reply = await h.post('/api/v1/users', token, { email: uniqueEmail(), name });
  if (reply.status !== 201) throw new Error(`user create failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}

async function open(page: Page, url: string, path: string, heading: string) {
  await page.goto(`${url}${path}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

describeInBrowser('administration', () => {
  const world = useBrowserHaven();

  it('offers Owner only to those who may grant it, on the user page and the group page', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const target = await addUser(haven, org.ownerToken, 'Tess Teacher');
    // Homed at the school, so the school's Admin administers it too.
    const groupId = await createUserGroup(haven, org.ownerToken, 'Year 7 tutors', {
      homeScope: { type: 'school', id: org.schoolId },
    });

    for (const who of [
      { email: admin.email, seesOwner: false },
      { email: org.ownerEmail, seesOwner: true },
    ]) {
      const page = await world().newPage();
      await signIn(page, url, who.email);
      for (const [path, heading] of [
        [`/admin/users/${target}`, 'Tess Teacher'],
        [`/admin/user-groups/${groupId}`, 'Year 7 tutors'],
      ] as const) {
        await open(page, url, path, heading);
        const role = page.getByLabel('Role', { exact: true });
        await role.waitFor();
        // The other roles are offered; Owner only to an Owner.
        expect(await role.getByRole('option', { name: 'Admin', exact: true }).count()).toBe(1);
        expect(await role.getByRole('option', { name: 'DSL', exact: true }).count()).toBe(1);
        expect(await page.getByRole('option', { name: 'Owner', exact: true }).count()).toBe(
          who.seesOwner ? 1 : 0,
        );
        if (!who.seesOwner) {
          expect(await page.getByText('Owner', { exact: true }).count()).toBe(0);
          expect(await page.locator('option[value="owner"]').count()).toBe(0);
        }
      }
    }
  });

  it("creates a group at a home the caller administers, shows the home, and keeps a grant's reason", async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    await addSchool(haven, org.ownerToken, 'Birch Academy');
    const admin = await createUser(haven, org.ownerToken, {
      name: 'Adam Admin',
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const page = await world().newPage();
    await signIn(page, url, admin.email);
    await open(page, url, '/admin/user-groups', 'User groups');
    await page.getByRole('button', { name: 'Create a user group' }).click();
    const home = page.getByLabel('Administered from');
    await home.locator(`option[value="school:${org.schoolId}"]`).waitFor({ state: 'attached' });
    // Only the school where they are Admin is offered, and chosen already.
    expect(await home.locator('option').allTextContents()).toEqual([
      'Choose where the group belongs',
      'Oak Primary',
    ]);
    expect(await home.inputValue()).toBe(`school:${org.schoolId}`);
    await page.getByLabel('Name', { exact: true }).fill('Oak homework club');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { level: 1, name: 'Oak homework club' }).waitFor();
    await page.getByText('Administered from Oak Primary').waitFor();

    await page.getByLabel('Role', { exact: true }).selectOption({ label: 'Viewer' });
    await page.getByLabel('Where', { exact: true }).selectOption({ label: 'Oak Primary' });
    await page.getByLabel('Reason (optional)').fill('Homework club staff read pastoral notes');
    await page.getByRole('button', { name: 'Grant role' }).click();
    await page.getByText('Reason: Homework club staff read pastoral notes').waitFor();
    const groups = (await haven.get('/api/v1/user-groups', org.ownerToken, { limit: 200 })).body
      .items;
    const created = groups.find((g: { name: string }) => g.name === 'Oak homework club');
    expect(created.homeScope).toEqual({ type: 'school', id: org.schoolId });
    const grants = await haven.get('/api/v1/role-grants', org.ownerToken, {
      userGroupId: created.id,
    });
    expect(grants.body.items.map((g: { reason: string }) => g.reason)).toEqual([
      'Homework club staff read pastoral notes',
    ]);
  });

  it('collects user group edits and saves them together, or none of them', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    const groupId = await createUserGroup(haven, token, 'Pastoral team');
    await addUser(haven, token, 'Priya Patel');
    const leaverId = await addUser(haven, token, 'Larry Leaver');
    await createStudentGroup(haven, token, {
      name: 'Year 9 girls',
      schoolId: org.schoolId,
      kind: 'manual',
      studentIds: [],
    });
    const serverGroup = async () => (await haven.get(`/api/v1/user-groups/${groupId}`, token)).body;
    const members = async () =>
      (await haven.get(`/api/v1/user-groups/${groupId}/members`, token)).body.items.map(
        (m: { name: string }) => m.name,
      );

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, `/admin/user-groups/${groupId}`, 'Pastoral team');
    await page.getByLabel('Find staff to add', { exact: true }).fill('Priya');
    await page.getByRole('button', { name: 'Add: Priya Patel' }).click();
    await page.getByLabel('Student group').selectOption({ label: 'Year 9 girls' });
    await page.getByRole('button', { name: 'Add link' }).click();
    await page.getByLabel('Child protection records').check();

    const pending = page.getByRole('list', { name: 'Changes not saved yet' });
    await pending.waitFor();
    expect(await pending.getByRole('listitem').allTextContents()).toEqual([
      'Add 1 member: Priya Patel',
      'Link to student group Year 9 girls',
      'Set clearances to: Child protection records (was: none)',
    ]);
    // Nothing has reached the server yet.
    expect(await members()).toEqual([]);
    expect((await serverGroup()).studentLinks).toEqual([]);
    expect((await serverGroup()).clearances).toEqual([]);

    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved 3 changes.').waitFor();
    expect(await members()).toEqual(['Priya Patel']);
    const saved = await serverGroup();
    expect(saved.studentLinks.map((l: any) => l.studentGroup?.name)).toEqual(['Year 9 girls']);
    expect(saved.clearances).toEqual(['child_protection']);
    expect(await pending.count()).toBe(0);

    // A batch whose member was removed meanwhile fails as a whole and says why.
    await page.getByLabel('Find staff to add', { exact: true }).fill('Larry');
    await page.getByRole('button', { name: 'Add: Larry Leaver' }).click();
    await page.getByLabel('Allegations against staff').check();
    expect((await haven.delete(`/api/v1/users/${leaverId}`, token)).status).toBe(204);
    await page.getByRole('button', { name: 'Save changes' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('Nothing was saved');
    expect(await alert.textContent()).toContain('Add 1 member: Larry Leaver');
    expect(await members()).toEqual(['Priya Patel']);
    expect((await serverGroup()).clearances).toEqual(['child_protection']);
    // The edits stay listed to fix or discard.
    expect(await pending.getByRole('listitem').count()).toBe(2);
    await page.getByRole('button', { name: 'Discard' }).click();
    expect(await pending.count()).toBe(0);
  });

  it('asks before adding members to a group that can see child-protection records', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    await haven.patch(`/api/v1/schools/${org.schoolId}/settings`, token, {
      requireMfaForSensitive: false,
    });
    const studentId = await createStudent(haven, token, { schoolId: org.schoolId, yearGroup: 9 });
    const categories = (await haven.get('/api/v1/categories', token, { schoolId: org.schoolId }))
      .body.items;
    const concern = await haven.post('/api/v1/incidents', token, {
      schoolId: org.schoolId,
      studentIds: [studentId],
      categoryId: categories.find((c: any) => c.sensitivity === 'child_protection').id,
      occurredAt: '2026-11-20T10:15:00Z',
      description: 'A disclosure at break.',
    });
    expect(concern.status).toBe(201);
    const groupId = await createUserGroup(haven, token, 'Child protection team');
    await haven.put(`/api/v1/user-groups/${groupId}/clearances`, token, {
      clearances: ['child_protection'],
    });
    await haven.post('/api/v1/role-grants', token, {
      subject: { type: 'user_group', id: groupId },
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await haven.post(`/api/v1/user-groups/${groupId}/student-links`, token, { studentId });
    await addUser(haven, token, 'Nina Newcomer');
    const members = async () =>
      (await haven.get(`/api/v1/user-groups/${groupId}/members`, token)).body.items.length;

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, `/admin/user-groups/${groupId}`, 'Child protection team');
    await page.getByLabel('Find staff to add', { exact: true }).fill('Nina');
    await page.getByRole('button', { name: 'Add: Nina Newcomer' }).click();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: /1 more person will be able to see/ });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // Cancelled: nothing saved, and the edit is still pending.
    expect(await members()).toBe(0);
    await page.getByText('Add 1 member: Nina Newcomer').waitFor();

    await page.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Saved 1 change.').waitFor();
    expect(await members()).toBe(1);
  });

  it('asks before giving a linked group the clearance that opens child-protection records', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    await haven.patch(`/api/v1/schools/${org.schoolId}/settings`, token, {
      requireMfaForSensitive: false,
    });
    const studentId = await createStudent(haven, token, { schoolId: org.schoolId, yearGroup: 9 });
    const categories = (await haven.get('/api/v1/categories', token, { schoolId: org.schoolId }))
      .body.items;
    const concern = await haven.post('/api/v1/incidents', token, {
      schoolId: org.schoolId,
      studentIds: [studentId],
      categoryId: categories.find((c: any) => c.sensitivity === 'child_protection').id,
      occurredAt: '2026-11-20T10:15:00Z',
      description: 'A disclosure at break.',
    });
    expect(concern.status).toBe(201);
    // A pastoral team already linked to the child, holding no clearance: two Viewers in it.
    const groupId = await createUserGroup(haven, token, 'Pastoral team');
    await haven.post('/api/v1/role-grants', token, {
      subject: { type: 'user_group', id: groupId },
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    await haven.post(`/api/v1/user-groups/${groupId}/student-links`, token, { studentId });
    const ids = [
      await addUser(haven, token, 'Abe Adams'),
      await addUser(haven, token, 'Bea Brown'),
    ];
    await haven.post(`/api/v1/user-groups/${groupId}/members`, token, { userIds: ids });
    const clearances = async () =>
      (await haven.get(`/api/v1/user-groups/${groupId}`, token)).body.clearances;

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, `/admin/user-groups/${groupId}`, 'Pastoral team');
    await page.getByLabel('Child protection records').check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    const dialog = page.getByRole('dialog', { name: /2 more people will be able to see/ });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Abe Adams, Bea Brown');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await clearances()).toEqual([]);

    await page.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Saved 1 change.').waitFor();
    expect(await clearances()).toEqual(['child_protection']);
  });

  it('lists users in no group, and disables a user after confirming', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    const grouped = await addUser(haven, token, 'Greta Grouped');
    await addUser(haven, token, 'Oscar Orphan');
    const groupId = await createUserGroup(haven, token, 'Office');
    await addMembers(haven, token, groupId, [grouped]);

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, '/admin/users', 'Users');
    await page.getByRole('link', { name: 'Greta Grouped' }).waitFor();
    await page.getByLabel('Only people in no user group').click();
    await page.waitForURL(/inGroup=none/);
    await page.getByRole('link', { name: 'Greta Grouped' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Oscar Orphan' }).waitFor();
    expect(await page.getByText('Greta Grouped').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'Oscar Orphan' }).click();
    await page.getByRole('heading', { level: 1, name: 'Oscar Orphan' }).waitFor();
    await page.getByRole('button', { name: 'Disable account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable Oscar Orphan?' });
    await dialog.waitFor();
    // Nothing changes until confirmed.
    const status = async () =>
      (await haven.get('/api/v1/users', token, { q: 'Oscar' })).body.items[0].status;
    expect(await status()).toBe('invited');
    await dialog.getByRole('button', { name: 'Yes, disable' }).click();
    await page.getByText('Status: Disabled').waitFor();
    expect(await status()).toBe('disabled');
    await page.getByRole('button', { name: 'Enable account' }).waitFor();
  });

  it('builds a year-group rule with a live count of the children it matches', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    for (const yearGroup of [6, 7, 7, 8, 9, 10, 11]) {
      await createStudent(haven, token, { schoolId: org.schoolId, yearGroup });
    }
    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, '/admin/student-groups/new', 'Create a student group');
    await page.getByLabel('Name', { exact: true }).fill('Key stage 3');
    await page.getByLabel('Children matching a rule').check();
    await page.getByLabel('Condition 1: field').selectOption('yearGroup');
    await page.getByLabel('Condition 1: test').selectOption('between');
    await page.getByLabel('Condition 1: from').fill('7');
    await page.getByLabel('Condition 1: to').fill('9');
    await page.getByText('4 children match now').waitFor();
    // The count follows the rule as it changes.
    await page.getByLabel('Condition 1: to').fill('8');
    await page.getByText('3 children match now').waitFor();
    await page.getByLabel('Condition 1: to').fill('9');
    await page.getByText('4 children match now').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { level: 1, name: 'Key stage 3' }).waitFor();
    const groups = (await haven.get('/api/v1/student-groups', token)).body.items;
    const created = groups.find((g: any) => g.name === 'Key stage 3');
    expect(created.rule).toEqual({ all: [{ field: 'yearGroup', op: 'between', value: [7, 9] }] });
    expect(created.memberCount).toBe(4);
    await page.getByRole('heading', { name: 'Children in the group (4)' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('pages and searches a large group on the server', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    const groupId = await createUserGroup(haven, token, 'Whole staff');
    const ids: string[] = [];
    for (let n = 1; n <= 120; n++) {
      ids.push(await addUser(haven, token, `Member ${String(n).padStart(3, '0')}`));
    }
    await addMembers(haven, token, groupId, ids);

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    await open(page, url, `/admin/user-groups/${groupId}`, 'Whole staff');
    const list = page.getByRole('list', { name: 'Members', exact: true });
    await list.getByRole('link', { name: 'Member 001' }).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(50);
    expect(await list.getByRole('link', { name: 'Member 051' }).count()).toBe(0);

    const pager = page.getByRole('navigation', { name: 'Pages of members' });
    await pager.getByRole('button', { name: 'Next page' }).click();
    await list.getByRole('link', { name: 'Member 051' }).waitFor();
    expect(await list.getByRole('link', { name: 'Member 001' }).count()).toBe(0);
    await pager.getByText('Page 2').waitFor();

    await page.getByLabel('Search members').fill('Member 077');
    await list.getByRole('link', { name: 'Member 077' }).waitFor();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    expect(await pager.count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('has no serious accessibility problems on the administration pages', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const token = org.ownerToken;
    const userId = await addUser(haven, token, 'Una User');
    const staff = await createUser(haven, token, {
      name: 'Vic Viewer',
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    const groupId = await createUserGroup(haven, token, 'Heads of year');
    await addMembers(haven, token, groupId, [userId]);
    const studentId = await createStudent(haven, token, { schoolId: org.schoolId, yearGroup: 8 });
    const studentGroupId = await createStudentGroup(haven, token, {
      name: 'Year 8',
      schoolId: org.schoolId,
      kind: 'rule',
      rule: { field: 'yearGroup', op: 'eq', value: 8 },
    });
    const block = await haven.post('/api/v1/blocks', token, {
      userId: staff.id,
      studentId,
      reason: 'Family member',
    });
    expect(block.status).toBe(201);

    const page = await world().newPage();
    await signIn(page, url, org.ownerEmail);
    const pages: [string, string, string][] = [
      ['/admin/users', 'Users', 'Una User'],
      [`/admin/users/${userId}`, 'Una User', 'Grant a role'],
      ['/admin/user-groups', 'User groups', 'Heads of year'],
      [`/admin/user-groups/${groupId}`, 'Heads of year', 'Una User'],
      ['/admin/student-groups', 'Student groups', 'Year 8'],
      [`/admin/student-groups/${studentGroupId}`, 'Year 8', '1 child matches now'],
      ['/admin/blocks', 'Blocks', 'Family member'],
      ['/admin/categories', 'Categories', 'Add a category'],
      ['/admin/schools', 'Schools and settings', 'Oak Primary'],
    ];
    for (const [path, heading, shown] of pages) {
      await open(page, url, path, heading);
      await page.getByText(shown).first().waitFor();
      expect({ path, violations: await seriousViolations(page) }).toEqual({
        path,
        violations: [],
      });
    }
    // The blocks list names the member of staff and the child.
    await open(page, url, '/admin/blocks', 'Blocks');
    await page.getByRole('cell', { name: 'Vic Viewer', exact: true }).waitFor();

    // On a phone nothing runs off the side of the page (wide tables scroll in their own box).
    const phone = await world().newPage(PHONE);
    await signIn(phone, url, org.ownerEmail);
    for (const [path, heading, shown] of pages) {
      await open(phone, url, path, heading);
      await phone.getByText(shown).first().waitFor();
      const overflow = await phone.evaluate(
        () => (globalThis as any).document.documentElement.scrollWidth,
      );
      expect({ path, width: overflow }).toEqual({ path, width: PHONE.width });
    }
  });
});
