import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createStudent,
  createUser,
  createUserGroup,
  grantRole,
  linkGroup,
  schoolDefaults,
  setupOrganisation,
} from '../support/factories.ts';
import { type Reply, type TestHaven, useHaven } from '../support/haven.ts';
import { createSet, expectStatus, sets, staff } from '../support/permission-sets.ts';

/**
 * A hostile second read of group permission sets (issue 15): ways to gain a right through sets,
 * to learn of a group or its members without the right to, and to bend history. Each guard
 * asserts what is allowed and what is refused; the ones that failed before their fix are named
 * in docs/decisions.md ("Permission sets, second read").
 */

const group = (groupId: string) => `/api/v1/user-groups/${groupId}`;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

async function clear(h: TestHaven, token: string, groupId: string) {
  await expectStatus(
    h.put(`${group(groupId)}/clearances`, token, { clearances: ['child_protection'] }),
    200,
  );
}

async function memberIds(h: TestHaven, token: string, groupId: string): Promise<string[]> {
  const reply = await expectStatus(h.get(`${group(groupId)}/members`, token), 200);
  return reply.body.items.map((m: { id: string }) => m.id).sort();
}

describe('hostile: gaining a right through permission sets', () => {
  const haven = useHaven();

  it('an owner without the clearance delegates no membership of a cleared group: not to themselves, a group they are in, Members, Everyone, nor by ordering a batch', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const owner = await staff(h, org, 'Olly Owner');
    const friend = await staff(h, org, 'Fran Friend');
    const cleared = await createUserGroup(h, t, 'Child protection leads');
    await clear(h, t, cleared);
    await expectStatus(h.post(`${group(cleared)}/owners`, t, { userIds: [owner.id] }), 200);
    const mates = await createUserGroup(h, t, 'Mates');
    await addMembers(h, t, mates, [owner.id, friend.id]);
    await expectStatus(
      h.patch(`${sets(mates)}/members`, t, { permissions: ['view', 'view_members'] }),
      200,
    );
    const o = owner.token!;
    const seen = await expectStatus(h.get(group(cleared), o), 200);
    expect(seen.body.abilities).toMatchObject({
      managePermissionSets: true,
      manageOwners: true,
      manageMembers: false,
      delete: false,
    });
    const attempts: Reply[] = [
      await h.post(sets(cleared), o, {
        name: 'Mine',
        permissions: ['manage_members'],
        assignees: [{ type: 'user', id: owner.id }],
      }),
      await h.post(sets(cleared), o, {
        name: 'Ours',
        permissions: ['delete'],
        assignees: [{ type: 'user_group', id: mates }],
      }),
      await h.patch(`${sets(cleared)}/members`, o, { permissions: ['manage_members'] }),
      await h.patch(`${sets(cleared)}/everyone`, o, { permissions: ['manage_members'] }),
      // A harmless set first, the permission added by a later operation of the same batch.
      await h.post(`${group(cleared)}/batch`, o, {
        operations: [
          {
            op: 'createPermissionSet',
            name: 'Harmless',
            permissions: ['view'],
            assignees: [{ type: 'user_group', id: mates }],
          },
          { op: 'updatePermissionSet', setId: 'everyone', permissions: ['view'] },
          { op: 'updatePermissionSet', setId: 'members', permissions: ['view', 'delete'] },
        ],
      }),
    ];
    for (const reply of attempts) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(403);
      expect(reply.body.requiredClearance).toBe('child_protection');
    }
    expect(attempts[4]!.body.operationIndex).toBe(2);
    // Nothing was stored, not even the batch's harmless first operations.
    const after = await expectStatus(h.get(sets(cleared), t), 200);
    expect(after.body.items.map((s: any) => [s.id, s.permissions])).toEqual([
      ['owners', ['view', 'view_members', 'edit_details', 'manage_members', 'delete']],
      ['members', ['view']],
      ['everyone', []],
    ]);
    // And the owner still adds nobody, themselves or their friend.
    for (const userIds of [[owner.id], [friend.id]]) {
      const refused = await h.post(`${group(cleared)}/members`, o, { userIds });
      expect(refused.status).toBe(403);
    }
    expect(await memberIds(h, t, cleared)).toEqual([]);
  });

  it('a set given before the group held a clearance (in the same batch) does not outlive the rule: refused on every action until the clearance goes', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const delegate = await staff(h, org, 'Dee Delegate');
    const newcomer = await createUser(h, t, { name: 'Ned Newcomer' });
    const groupId = await createUserGroup(h, t, 'Pastoral leads');
    // The Owner holds the clearance, so the batch is theirs to make; the order puts the set first,
    // before the group holds anything that the delegate's set would be checked against.
    await expectStatus(
      h.post(`${group(groupId)}/batch`, t, {
        operations: [
          {
            op: 'createPermissionSet',
            name: 'Membership editors',
            permissions: ['manage_members', 'delete'],
            assignees: [{ type: 'user', id: delegate.id }],
          },
          { op: 'setClearances', clearances: ['child_protection'] },
        ],
      }),
      200,
    );
    const d = delegate.token!;
    const seen = await expectStatus(h.get(group(groupId), d), 200);
    expect(seen.body.abilities).toMatchObject({
      view: true,
      manageMembers: false,
      delete: false,
    });
    const add = await h.post(`${group(groupId)}/members`, d, { userIds: [newcomer.id] });
    expect(add.status).toBe(403);
    expect(add.body.requiredClearance).toBe('child_protection');
    expect((await h.get(`${group(groupId)}/candidates`, d)).status).toBe(403);
    expect((await h.delete(group(groupId), d)).status).toBe(403);
    expect(await memberIds(h, t, groupId)).toEqual([]);
    // The clearance taken away: the set's permissions hold again.
    await expectStatus(h.put(`${group(groupId)}/clearances`, t, { clearances: [] }), 200);
    const now = await expectStatus(h.get(group(groupId), d), 200);
    expect(now.body.abilities).toMatchObject({ manageMembers: true, delete: true });
    await expectStatus(h.post(`${group(groupId)}/members`, d, { userIds: [newcomer.id] }), 200);
    expect(await memberIds(h, t, groupId)).toEqual([newcomer.id]);
  });

  it('Everyone allowed to manage a cleared group: only those who could pass the clearance on, and never themselves', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const lacking = await staff(h, org, 'Lee Lacking');
    const holder = await staff(h, org, 'Hana Holder');
    await addMembers(h, t, safeguardingTeamId, [holder.id]);
    const newcomer = await createUser(h, t, { name: 'Nia Newcomer' });
    const cleared = await createUserGroup(h, t, 'Designated leads');
    await clear(h, t, cleared);
    await expectStatus(
      h.patch(`${sets(cleared)}/everyone`, t, { permissions: ['manage_members'] }),
      200,
    );
    expect((await h.get(group(cleared), lacking.token)).body.abilities).toMatchObject({
      view: true,
      manageMembers: false,
    });
    expect((await h.get(group(cleared), holder.token)).body.abilities).toMatchObject({
      view: true,
      manageMembers: true,
    });
    const byLacking = await h.post(`${group(cleared)}/members`, lacking.token, {
      userIds: [newcomer.id],
    });
    expect(byLacking.status).toBe(403);
    expect(byLacking.body.requiredClearance).toBe('child_protection');
    const self = await h.post(`${group(cleared)}/members`, holder.token, { userIds: [holder.id] });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('self_grant');
    await expectStatus(
      h.post(`${group(cleared)}/members`, holder.token, { userIds: [newcomer.id] }),
      200,
    );
    expect(await memberIds(h, t, cleared)).toEqual([newcomer.id]);
  });

  it('rule 5 through an assignee group: a delegate who could grant the role still may not join by their own hand, in a batch either', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const atOak = { type: 'school' as const, id: org.schoolId };
    // An Admin at Birch: may grant Viewer at Birch, does not administer groups homed at Oak.
    const birchAdmin = await createUser(h, t, {
      name: 'Bea BirchAdmin',
      role: 'admin',
      scope: { type: 'school', id: birch },
    });
    const colleague = await createUser(h, t, { name: 'Cal Colleague' });
    const readers = await createUserGroup(h, t, 'Birch readers', { homeScope: atOak });
    await grantRole(h, t, { type: 'user_group', id: readers }, 'viewer', {
      type: 'school',
      id: birch,
    });
    const helpers = await createUserGroup(h, t, 'Helpers', { homeScope: atOak });
    await addMembers(h, t, helpers, [birchAdmin.id]);
    await createSet(h, t, readers, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user_group', id: helpers }],
    });
    const b = birchAdmin.token!;
    const seen = await expectStatus(h.get(group(readers), b), 200);
    expect(seen.body.abilities).toMatchObject({
      manageMembers: true,
      managePermissionSets: false,
      manageRoles: false,
      manageLinks: false,
    });
    const batch = await h.post(`${group(readers)}/batch`, b, {
      operations: [
        { op: 'addMembers', userIds: [colleague.id] },
        { op: 'addMembers', userIds: [birchAdmin.id] },
      ],
    });
    expect(batch.status).toBe(403);
    expect(batch.body).toMatchObject({ code: 'self_grant', operationIndex: 1 });
    expect(await memberIds(h, t, readers)).toEqual([]);
    // Nor may they make themselves an owner, or write a set, to get round it.
    expect((await h.post(`${group(readers)}/owners`, b, { userIds: [birchAdmin.id] })).status).toBe(
      403,
    );
    expect(
      (
        await h.post(sets(readers), b, {
          name: 'Me',
          permissions: ['manage_members'],
          assignees: [{ type: 'user', id: birchAdmin.id }],
        })
      ).status,
    ).toBe(403);
    await expectStatus(h.post(`${group(readers)}/members`, b, { userIds: [colleague.id] }), 200);
    expect(await memberIds(h, t, readers)).toEqual([colleague.id]);
  });

  it("another organisation's users and groups, a deleted group and the group itself are never assignees; a hidden group answers as a missing one", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const oakAdmin = await createUser(h, t, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const groupId = await createUserGroup(h, t, 'Oak tutors', {
      homeScope: { type: 'school', id: org.schoolId },
    });
    const hiddenGroup = await createUserGroup(h, t, 'Birch pastoral', {
      homeScope: { type: 'school', id: birch },
    });
    const gone = await createUserGroup(h, t, 'Gone team');
    await expectStatus(h.delete(group(gone), t), 204);
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const elmUser = await createUser(h, elm.ownerToken, { name: 'Eli Elm' });
    const elmGroup = await createUserGroup(h, elm.ownerToken, 'Elm team');
    const attempt = (token: string, assignee: { type: string; id: string }) =>
      h.post(sets(groupId), token, {
        name: 'Attempt',
        permissions: ['edit_details'],
        assignees: [assignee],
      });
    for (const assignee of [
      { type: 'user', id: elmUser.id },
      { type: 'user_group', id: elmGroup },
      { type: 'user_group', id: gone },
      { type: 'user', id: elmGroup },
      { type: 'user_group', id: elmUser.id },
    ]) {
      const reply = await attempt(t, assignee);
      expect(reply.status, JSON.stringify(assignee)).toBe(404);
      expect(reply.body).toMatchObject({ code: 'not_found', field: 'assignees' });
    }
    const itself = await attempt(t, { type: 'user_group', id: groupId });
    expect(itself.status).toBe(422);
    expect(itself.body.code).toBe('validation_failed');
    // The Oak Admin: Birch's group answers exactly as an id that names nothing.
    const missingId = '00000000-0000-4000-8000-000000000000';
    const hidden = await attempt(oakAdmin.token!, { type: 'user_group', id: hiddenGroup });
    const missing = await attempt(oakAdmin.token!, { type: 'user_group', id: missingId });
    expect(hidden.status).toBe(404);
    expect(JSON.stringify(hidden.body).replaceAll(hiddenGroup, 'ID')).toBe(
      JSON.stringify(missing.body).replaceAll(missingId, 'ID'),
    );
    expect(JSON.stringify(hidden.body)).not.toContain('Birch');
    const names = (await h.get(sets(groupId), t)).body.items.map((s: any) => s.name);
    expect(names).toEqual(['Owners', 'Members', 'Everyone']);
  });

  it('a deleted group confers nothing now, and did until it was deleted', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const pat = await staff(h, org, 'Pat Delegate');
    const target = await createUserGroup(h, t, 'Exams Office');
    const via = await createUserGroup(h, t, 'Exam helpers');
    await addMembers(h, t, via, [pat.id]);
    const setId = await createSet(h, t, target, {
      name: 'Editors',
      permissions: ['edit_details'],
      assignees: [{ type: 'user_group', id: via }],
    });
    await tick();
    const before = new Date().toISOString();
    await tick();
    const held = async (asOf?: string) =>
      (
        await expectStatus(
          h.get(`/api/v1/users/${pat.id}/effective-permissions`, t, asOf ? { asOf } : {}),
          200,
        )
      ).body.groupPermissions.map((s: any) => `${s.userGroup.name}/${s.set.name}/${s.via.type}`);
    expect(await held()).toEqual([
      'Exam helpers/Members/member',
      'Exams Office/Editors/user_group',
    ]);
    await expectStatus(h.delete(group(target), t), 204);
    expect(await held()).toEqual(['Exam helpers/Members/member']);
    expect((await h.patch(group(target), pat.token, { description: 'x' })).status).toBe(404);
    expect((await h.get(sets(target), t)).status).toBe(404);
    expect(await held(before)).toEqual([
      'Exam helpers/Members/member',
      'Exams Office/Editors/user_group',
    ]);
    // The set and its assignment were closed, not removed.
    const rows = await h.database.db
      .selectFrom('user_group_set_assignees')
      .select(['valid_to'])
      .where('set_id', '=', setId)
      .execute();
    expect(rows.map((r) => r.valid_to !== null)).toEqual([true]);
  });

  it('removing a user from the organisation ends the sets assigned to them, as it ends their ownerships', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const leaver = await staff(h, org, 'Lee Leaver');
    const stayer = await staff(h, org, 'Sam Stayer');
    const groupId = await createUserGroup(h, t, 'Trips');
    const setId = await createSet(h, t, groupId, {
      name: 'Organisers',
      permissions: ['edit_details'],
      assignees: [
        { type: 'user', id: leaver.id },
        { type: 'user', id: stayer.id },
      ],
    });
    await expectStatus(h.post(`${group(groupId)}/owners`, t, { userIds: [leaver.id] }), 200);
    await expectStatus(h.delete(`/api/v1/users/${leaver.id}`, t), 204);
    const read = await expectStatus(h.get(sets(groupId), t), 200);
    const [owners, , , organisers] = read.body.items;
    expect(owners.assignees).toEqual([]);
    expect(organisers.assignees.map((a: any) => a.id)).toEqual([stayer.id]);
    // The list as read back saves (a removed user could not be named again).
    await expectStatus(
      h.patch(`${sets(groupId)}/${setId}`, t, {
        permissions: ['edit_details', 'view_members'],
        assignees: organisers.assignees.map((a: any) => ({ type: a.type, id: a.id })),
      }),
      200,
    );
    const rows = await h.database.db
      .selectFrom('user_group_set_assignees')
      .select(['assignee_id', 'valid_to', 'removed_by'])
      .where('set_id', '=', setId)
      .where('assignee_id', '=', leaver.id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.valid_to).not.toBeNull();
    expect(rows[0]!.removed_by).toBe(org.ownerId);
  });
});

describe('hostile: learning of a group, or who is in it, without the right to', () => {
  const haven = useHaven();

  it('seeing a group is not seeing its members: the users list filtered by the group is refused too', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    // Birch's Admin may list users, and sees Oak's group only through its Everyone set.
    const birchAdmin = await createUser(h, t, {
      name: 'Bea BirchAdmin',
      role: 'admin',
      scope: { type: 'school', id: birch },
    });
    const member = await createUser(h, t, { name: 'Mo Member' });
    const groupId = await createUserGroup(h, t, 'Oak allegations panel', {
      homeScope: { type: 'school', id: org.schoolId },
    });
    await addMembers(h, t, groupId, [member.id]);
    const b = birchAdmin.token!;
    const list = () => h.get('/api/v1/users', b, { inGroup: groupId, limit: 50 });
    // Hidden: answered as a group nobody is in.
    expect((await expectStatus(list(), 200)).body.items).toEqual([]);
    await expectStatus(h.patch(`${sets(groupId)}/everyone`, t, { permissions: ['view'] }), 200);
    expect((await h.get(group(groupId), b)).body.abilities).toMatchObject({
      view: true,
      viewMembers: false,
    });
    expect((await h.get(`${group(groupId)}/members`, b)).status).toBe(403);
    const filtered = await list();
    expect(filtered.status, JSON.stringify(filtered.body)).toBe(403);
    expect(filtered.body).toMatchObject({ code: 'permission_denied', groupAction: 'view_members' });
    expect(JSON.stringify(filtered.body)).not.toContain(member.id);
    // With view_members, the filter answers the members, as the member list does.
    await expectStatus(
      h.patch(`${sets(groupId)}/everyone`, t, { permissions: ['view_members'] }),
      200,
    );
    const allowed = await expectStatus(list(), 200);
    expect(allowed.body.items.map((u: any) => u.id)).toEqual([member.id]);
    expect(await memberIds(h, b, groupId)).toEqual([member.id]);
    // An administrator of the group's home still filters by it.
    const byOwner = await expectStatus(h.get('/api/v1/users', t, { inGroup: groupId }), 200);
    expect(byOwner.body.items.map((u: any) => u.id)).toEqual([member.id]);
  });

  it("an Admin elsewhere reading a set's assignees, a person's sets and the audit log learns nothing of a group they cannot see", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const atOak = { type: 'school' as const, id: org.schoolId };
    const oakAdmin = await createUser(h, t, { role: 'admin', scope: atOak });
    const pat = await staff(h, org, 'Pat Delegate');
    const oakGroup = await createUserGroup(h, t, 'Oak tutors', { homeScope: atOak });
    const secret = await createUserGroup(h, t, 'Birch secret panel', {
      homeScope: { type: 'school', id: birch },
    });
    await addMembers(h, t, secret, [pat.id]);
    const setId = await createSet(h, t, oakGroup, {
      name: 'Tutor editors',
      permissions: ['edit_details'],
      assignees: [{ type: 'user_group', id: secret }],
    });
    const a = oakAdmin.token!;
    const read = await expectStatus(h.get(sets(oakGroup), a), 200);
    expect(read.body.items[3].assignees).toEqual([
      { type: 'user_group', id: null, name: null, memberCount: null, withheld: true },
    ]);
    const effective = await expectStatus(
      h.get(`/api/v1/users/${pat.id}/effective-permissions`, a),
      200,
    );
    expect(effective.body.groupPermissions).toEqual([
      {
        userGroup: { id: oakGroup, name: 'Oak tutors' },
        set: { id: setId, kind: 'custom', name: 'Tutor editors' },
        permissions: ['view', 'edit_details'],
        via: { type: 'user_group', userGroupId: null, userGroupName: null },
      },
    ]);
    // The Oak Admin edits the set: the hidden assignee is kept, and the log does not name it.
    await expectStatus(
      h.patch(`${sets(oakGroup)}/${setId}`, a, { assignees: [{ type: 'user', id: pat.id }] }),
      200,
    );
    const log = await expectStatus(h.get('/api/v1/audit-log', a, { targetId: oakGroup }), 200);
    expect(log.body.items.map((r: any) => r.action)).toContain('user_group.permission_set.update');
    for (const text of [
      JSON.stringify(read.body),
      JSON.stringify(effective.body),
      JSON.stringify(log.body),
    ]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('Birch secret panel');
    }
    // The candidates route names people only, and only to those who may manage the group.
    const candidates = await expectStatus(h.get(`${group(oakGroup)}/candidates`, a), 200);
    expect(JSON.stringify(candidates.body)).not.toContain(secret);
    expect((await h.get(`${group(secret)}/candidates`, a)).status).toBe(404);
    expect((await h.get(sets(secret), a)).status).toBe(404);
  });
});

describe('hostile: history of sets edited in one batch', () => {
  const haven = useHaven();

  it('a set changed back and forth in one batch keeps one version for the change, and as-of answers hold either side', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const pat = await staff(h, org, 'Pat Delegate');
    const groupId = await createUserGroup(h, t, 'Form tutors');
    const setId = await createSet(h, t, groupId, {
      name: 'Editors',
      permissions: ['edit_details'],
      assignees: [{ type: 'user', id: pat.id }],
    });
    await tick();
    const between = new Date().toISOString();
    await tick();
    await expectStatus(
      h.post(`${group(groupId)}/batch`, t, {
        operations: [
          { op: 'updatePermissionSet', setId, permissions: ['view_members'] },
          { op: 'updatePermissionSet', setId, assignees: [] },
          { op: 'updatePermissionSet', setId, assignees: [{ type: 'user', id: pat.id }] },
          { op: 'updatePermissionSet', setId, name: 'Tutors', permissions: ['manage_members'] },
        ],
      }),
      200,
    );
    const held = async (asOf?: string) =>
      (
        await expectStatus(
          h.get(`/api/v1/users/${pat.id}/effective-permissions`, t, asOf ? { asOf } : {}),
          200,
        )
      ).body.groupPermissions.map((s: any) => [s.set.name, s.permissions]);
    expect(await held(between)).toEqual([['Editors', ['view', 'edit_details']]]);
    expect(await held()).toEqual([['Tutors', ['view', 'manage_members']]]);
    const versions = await h.database.db
      .selectFrom('user_group_permission_sets')
      .select(['name', 'permissions', 'valid_from', 'valid_to'])
      .where('set_id', '=', setId)
      .orderBy('valid_from')
      .execute();
    expect(versions.map((v) => [v.name, v.permissions, v.valid_to === null])).toEqual([
      ['Editors', 'view,edit_details', false],
      ['Tutors', 'view,manage_members', true],
    ]);
    expect(versions[0]!.valid_to).toBe(versions[1]!.valid_from);
    // Pat held the set without a gap: the assignment closed and reopened at the same instant.
    const assignments = await h.database.db
      .selectFrom('user_group_set_assignees')
      .select(['valid_from', 'valid_to'])
      .where('set_id', '=', setId)
      .orderBy('valid_from')
      .execute();
    expect(assignments).toHaveLength(2);
    expect(assignments[0]!.valid_to).toBe(assignments[1]!.valid_from);
    expect(assignments[1]!.valid_to).toBeNull();
  });
});

describe('running a group linked to children is not a way into them', () => {
  const haven = useHaven();

  it('an owner or a set holder may not add themselves to a linked group; an Admin at its home may', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const child = await createStudent(h, t, { schoolId: org.schoolId });
    const pastoral = await createUserGroup(h, t, 'Year 9 pastoral', { homeScope: atSchool });
    const quiet = await createUserGroup(h, t, 'Chess club', { homeScope: atSchool });
    await linkGroup(h, t, pastoral, { studentId: child });
    const holder = await staff(h, org, 'Hugo Holder');
    const owner = await staff(h, org, 'Olive Owner');
    const admin = await createUser(h, t, { name: 'Ada Admin', role: 'admin', scope: atSchool });
    const newcomer = await createUser(h, t, { name: 'Nia Newcomer' });
    for (const groupId of [pastoral, quiet]) {
      await createSet(h, t, groupId, {
        name: 'Membership editors',
        permissions: ['manage_members'],
        assignees: [{ type: 'user', id: holder.id }],
      });
      await expectStatus(h.post(`${group(groupId)}/owners`, t, { userIds: [owner.id] }), 200);
    }
    for (const actor of [holder, owner]) {
      const self = await h.post(`${group(pastoral)}/members`, actor.token, {
        userIds: [actor.id],
      });
      expect(self.status, actor.name).toBe(403);
      expect(self.body.code).toBe('self_grant');
      // Still a Viewer who sees no child of the group's.
      expect((await h.get(`/api/v1/students/${child}`, actor.token)).status).toBe(404);
      // Others they may add; and a group linked to no child they may join.
      await expectStatus(
        h.post(`${group(quiet)}/members`, actor.token, { userIds: [actor.id] }),
        200,
      );
    }
    await expectStatus(
      h.post(`${group(pastoral)}/members`, holder.token, { userIds: [newcomer.id] }),
      200,
    );
    // The Admin at the group's home could link any child to it: joining it is theirs to do.
    await expectStatus(
      h.post(`${group(pastoral)}/members`, admin.token, { userIds: [admin.id] }),
      200,
    );
    expect(await memberIds(h, t, pastoral)).toEqual([newcomer.id, admin.id].sort());
  });
});
