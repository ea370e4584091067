import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import {
  addMembers,
  createUser,
  createUserGroup,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { seriousViolations } from './support/axe.ts';
import { describeInBrowser, signIn, useBrowserHaven } from './support/browser.ts';

/**
 * A school's year team (homed at the school), its Admin, its members and a team of leaders
 * who are not its members: the setting of seed 004's flow.
 */
async function yearTeam(haven: TestHaven, org: TestOrg) {
  const token = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  const staff = (name: string) =>
    createUser(haven, token, { name, role: 'viewer', scope: atSchool });
  const admin = await createUser(haven, token, {
    name: 'Adam Admin',
    role: 'admin',
    scope: atSchool,
  });
  const leader = await staff('Fiona Kensington');
  const otherLeader = await staff('Gareth Gale');
  const member = await staff('Una Member');
  await createUser(haven, token, { name: 'Nadia Newcomer' });
  const groupId = await createUserGroup(haven, token, 'Year 9 team', { homeScope: atSchool });
  const leadersId = await createUserGroup(haven, token, 'Team leaders', { homeScope: atSchool });
  await addMembers(haven, token, groupId, [member.id]);
  await addMembers(haven, token, leadersId, [leader.id, otherLeader.id]);
  return { admin, leader, member, groupId, leadersId };
}

async function openGroup(page: Page, url: string, groupId: string, tab?: 'permissions') {
  await page.goto(`${url}/admin/user-groups/${groupId}${tab ? `?tab=${tab}` : ''}`);
  await page.getByRole('heading', { level: 1, name: 'Year 9 team' }).waitFor();
}

describeInBrowser('group permission sets (issue 15, seed 004)', () => {
  const world = useBrowserHaven();

  it('an Admin gives a user group "Membership editors"; its member then adds someone to the group', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const { admin, leader, groupId, leadersId } = await yearTeam(haven, org);
    const serverSets = async () =>
      (await haven.get(`/api/v1/user-groups/${groupId}/permission-sets`, admin.token)).body;
    const serverMembers = async () =>
      (await haven.get(`/api/v1/user-groups/${groupId}/members`, admin.token)).body.items.map(
        (m: { name: string }) => m.name,
      );

    const page = await world().newPage();
    await signIn(page, url, admin.email);
    await openGroup(page, url, groupId);
    await page.getByRole('tab', { name: 'Permissions' }).click();
    expect(page.url()).toContain('tab=permissions');
    const panel = page.getByRole('tabpanel');
    await panel.getByRole('heading', { level: 3, name: 'Everyone' }).waitFor();
    // The fixed sets, in the server's order; Owners' permissions cannot be changed.
    expect(await panel.getByRole('heading', { level: 3 }).allTextContents()).toEqual([
      'Owners',
      'Members',
      'Everyone',
    ]);
    const owners = panel.getByRole('region', { name: 'Owners' });
    expect(await owners.getByLabel('Delete the group').isChecked()).toBe(true);
    expect(await owners.getByLabel('Delete the group').isDisabled()).toBe(true);
    const members = panel.getByRole('region', { name: 'Members', exact: true });
    expect(await members.getByLabel('View the group').isChecked()).toBe(true);
    expect(await members.getByLabel('See its members').isChecked()).toBe(false);

    // A new set: ticking a permission ticks View, as the server keeps it.
    await panel.getByRole('button', { name: 'Add permission set' }).click();
    await panel.getByLabel('Name of the set').fill('Members');
    await panel.getByRole('button', { name: 'Add the set' }).click();
    await panel.getByText('The group already has a set of that name.').waitFor();
    await panel.getByLabel('Name of the set').fill('Membership editors');
    const form = panel.getByRole('region', { name: 'Add a permission set' });
    await form.getByLabel('Add and remove members').check();
    expect(await form.getByLabel('View the group').isChecked()).toBe(true);
    await form.getByLabel('See its members').check();
    await form.getByRole('button', { name: 'Add the set' }).click();

    const editors = panel.getByRole('region', { name: 'Membership editors' });
    await editors.getByText('New, not saved yet').waitFor();
    await editors.getByRole('button', { name: 'Add assignees to Membership editors' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add assignees to Membership editors' });
    await dialog.getByRole('tab', { name: 'User groups' }).click();
    await dialog.getByLabel('Find user groups', { exact: true }).fill('Team');
    const results = dialog.getByRole('list', { name: 'Find user groups: results' });
    const leaders = results.getByRole('listitem').filter({ hasText: 'Team leaders' });
    // A group says so, with its member count.
    expect(await leaders.textContent()).toContain('User group, 2 members');
    await dialog.getByRole('button', { name: 'Select Team leaders' }).click();
    const chosen = dialog.getByRole('button', { name: 'Team leaders: already selected' });
    expect(await chosen.isDisabled()).toBe(true);
    expect(await chosen.textContent()).toBe('Already selected');
    // Users are the other tab; a user is told apart from a group in words too.
    await dialog.getByRole('tab', { name: 'Users' }).click();
    await dialog.getByLabel('Find users', { exact: true }).fill('Nadia');
    const nadia = dialog
      .getByRole('list', { name: 'Find users: results' })
      .getByRole('listitem')
      .filter({ hasText: 'Nadia Newcomer' });
    expect(await nadia.textContent()).toContain('User,');
    expect(await seriousViolations(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Add 1 assignee' }).click();

    const assignees = editors.getByRole('list', { name: 'Assignees of Membership editors' });
    const assigned = async () =>
      (await assignees.getByRole('listitem').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    expect(await assigned()).toEqual([
      expect.stringContaining('Team leaders User group, 2 members To be added'),
    ]);
    const pending = page.getByRole('list', { name: 'Changes not saved yet' });
    expect(await pending.getByRole('listitem').allTextContents()).toEqual([
      'Add the permission set Membership editors: may View the group, See its members, Add and remove members; held by the group Team leaders',
    ]);
    // Nothing has reached the server yet.
    expect((await serverSets()).items.map((s: { name: string }) => s.name)).toEqual([
      'Owners',
      'Members',
      'Everyone',
    ]);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved 1 change.').waitFor();
    const saved = (await serverSets()).items.find(
      (s: { name: string }) => s.name === 'Membership editors',
    );
    expect(saved).toMatchObject({
      kind: 'custom',
      fixed: false,
      permissions: ['view', 'view_members', 'manage_members'],
      assignees: [{ type: 'user_group', id: leadersId, name: 'Team leaders', memberCount: 2 }],
    });
    await editors.getByRole('button', { name: 'Delete the set Membership editors' }).waitFor();
    expect(await editors.getByText('New, not saved yet').count()).toBe(0);
    expect(await assigned()).toEqual([
      expect.stringContaining('Team leaders User group, 2 members'),
    ]);
    expect((await assigned())[0]).not.toContain('To be added');

    // A member of Team leaders, neither an Admin nor an owner, now manages the members.
    const leaderPage = await world().newPage();
    await signIn(leaderPage, url, leader.email);
    await openGroup(leaderPage, url, groupId);
    const memberList = leaderPage.getByRole('list', { name: 'Members', exact: true });
    expect(await memberList.getByRole('listitem').allTextContents()).toEqual([
      expect.stringContaining('Una Member'),
    ]);
    await leaderPage.getByLabel('Find staff to add', { exact: true }).fill('Nadia');
    await leaderPage.getByRole('button', { name: 'Add: Nadia Newcomer' }).click();
    await leaderPage.getByRole('button', { name: 'Save changes' }).click();
    await leaderPage.getByText('Saved 1 change.').waitFor();
    await memberList.getByRole('listitem').filter({ hasText: 'Nadia Newcomer' }).waitFor();
    expect(await serverMembers()).toEqual(['Nadia Newcomer', 'Una Member']);
    // Their set lets them see, not change, the sets: the tab is read-only for them.
    await leaderPage.getByRole('tab', { name: 'Permissions' }).click();
    await leaderPage
      .getByText("You can see this group's permission sets but not change them.")
      .waitFor();
    expect(await leaderPage.getByRole('button', { name: 'Add permission set' }).count()).toBe(0);
  });

  it('a plain member reads the tab without controls, and is told they may not see the members', async () => {
    const { url, haven } = world();
    const org = await setupOrganisation(haven);
    const { member, groupId } = await yearTeam(haven, org);
    const page = await world().newPage();
    await signIn(page, url, member.email);

    await openGroup(page, url, groupId);
    // Members hold View only: the group, not who is in it, and no member controls.
    await page.getByText("You may not see this group's members.").waitFor();
    expect(await page.getByRole('list', { name: 'Members', exact: true }).count()).toBe(0);
    expect(await page.getByLabel('Find staff to add', { exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Delete/ }).count()).toBe(0);
    expect(await page.getByLabel('Name', { exact: true }).getAttribute('readonly')).toBe('');

    await page.getByRole('tab', { name: 'Permissions' }).click();
    const panel = page.getByRole('tabpanel');
    await panel
      .getByText("You can see this group's permission sets but not change them.")
      .waitFor();
    expect(await panel.getByRole('heading', { level: 3 }).allTextContents()).toEqual([
      'Owners',
      'Members',
      'Everyone',
    ]);
    const members = panel.getByRole('region', { name: 'Members', exact: true });
    expect(await members.getByLabel('View the group').isChecked()).toBe(true);
    expect(await members.getByLabel('See its members').isDisabled()).toBe(true);
    for (const name of [
      'Add permission set',
      'Save changes',
      'Discard',
      /^Add assignees/,
      /^Delete the set/,
    ]) {
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    }
    expect(await seriousViolations(page)).toEqual([]);
    // The tabs answer the arrow keys, as tabs do.
    await page.getByRole('tab', { name: 'Permissions' }).press('ArrowLeft');
    await page.getByRole('tab', { name: 'Members and access', selected: true }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.textContent)).toBe(
      'Members and access',
    );
    await page.getByText("You may not see this group's members.").waitFor();

    // Ticking "See its members" for Members (as the Admin would) shows them the list.
    const editorToken = org.ownerToken;
    const reply = await haven.patch(
      `/api/v1/user-groups/${groupId}/permission-sets/members`,
      editorToken,
      { permissions: ['view_members'] },
    );
    expect(reply.status).toBe(200);
    expect(reply.body.permissions).toEqual(['view', 'view_members']);
    await openGroup(page, url, groupId);
    await page
      .getByRole('list', { name: 'Members', exact: true })
      .getByText('Una Member')
      .waitFor();
    expect(await page.getByText("You may not see this group's members.").count()).toBe(0);
  });
});
