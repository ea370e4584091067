import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  countRows,
  createUser,
  createUserGroup,
  schoolDefaults,
  setupOrganisation,
  type TestOrg,
  type TestUser,
} from '../support/factories.ts';
import { type Reply, type TestHaven, useHaven } from '../support/haven.ts';
import { createSet, expectStatus, sets, staff } from '../support/permission-sets.ts';

/** Group permission sets (spec section 5; issue 15), through the HTTP API on both engines. */

type GroupPermission = 'view' | 'view_members' | 'edit_details' | 'manage_members' | 'delete';
const allPermissions: GroupPermission[] = [
  'view',
  'view_members',
  'edit_details',
  'manage_members',
  'delete',
];

/** The action each permission allows, answered as the actor may do it. */
async function attempt(
  h: TestHaven,
  token: string,
  groupId: string,
  permission: GroupPermission,
  bystander: string,
): Promise<number> {
  const g = `/api/v1/user-groups/${groupId}`;
  switch (permission) {
    case 'view':
      return (await h.get(g, token)).status;
    case 'view_members':
      return (await h.get(`${g}/members`, token)).status;
    case 'edit_details':
      return (await h.patch(g, token, { description: 'Changed by a delegate' })).status;
    case 'manage_members':
      return (await h.post(`${g}/members`, token, { userIds: [bystander] })).status;
    case 'delete':
      return (await h.delete(g, token)).status;
  }
}

const allowedStatus: Record<GroupPermission, number> = {
  view: 200,
  view_members: 200,
  edit_details: 200,
  manage_members: 200,
  delete: 204,
};

/** How the actor comes to hold a set on the group, and how that set is changed. */
type Way = 'user assignee' | 'member of an assignee group' | 'member through Members';

async function holdThrough(
  h: TestHaven,
  org: TestOrg,
  way: Way,
  groupId: string,
  actor: TestUser,
  permissions: GroupPermission[],
): Promise<(next: GroupPermission[]) => Promise<void>> {
  const t = org.ownerToken;
  if (way === 'member through Members') {
    await addMembers(h, t, groupId, [actor.id]);
    const set = async (next: GroupPermission[]) => {
      await expectStatus(h.patch(`${sets(groupId)}/members`, t, { permissions: next }), 200);
    };
    await set(permissions);
    return set;
  }
  let assignee = { type: 'user', id: actor.id };
  if (way === 'member of an assignee group') {
    const helpers = await createUserGroup(h, t, `Helpers for ${groupId}`);
    await addMembers(h, t, helpers, [actor.id]);
    assignee = { type: 'user_group', id: helpers };
  }
  const setId = await createSet(h, t, groupId, {
    name: 'Delegates',
    permissions,
    assignees: [assignee],
  });
  return async (next) => {
    await expectStatus(h.patch(`${sets(groupId)}/${setId}`, t, { permissions: next }), 200);
  };
}

describe('group permission sets: each permission, just allowed and just refused', () => {
  const haven = useHaven();
  const ways: Way[] = ['user assignee', 'member of an assignee group', 'member through Members'];

  it.each(ways)('through a set held as %s', async (way) => {
    const h = haven();
    const org = await setupOrganisation(h);
    const actor = await staff(h, org, 'Dana Delegate');
    const bystander = await createUser(h, org.ownerToken, { name: 'Ben Bystander' });
    for (const permission of allPermissions) {
      const groupId = await createUserGroup(h, org.ownerToken, `Team for ${permission}`);
      // Just refused: every other permission (view is implied by any, so for view: none).
      const others = permission === 'view' ? [] : allPermissions.filter((p) => p !== permission);
      const setPermissions = await holdThrough(h, org, way, groupId, actor, others);
      const refused = permission === 'view' ? 404 : 403;
      expect(
        await attempt(h, actor.token!, groupId, permission, bystander.id),
        `${way}: ${permission} refused`,
      ).toBe(refused);
      if (permission !== 'view') {
        const seen = await expectStatus(h.get(`/api/v1/user-groups/${groupId}`, actor.token), 200);
        expect(seen.body.abilities).toMatchObject({
          view: true,
          viewMembers: permission !== 'view_members',
          editDetails: permission !== 'edit_details',
          edit: permission !== 'edit_details',
          manageMembers: permission !== 'manage_members',
          delete: permission !== 'delete',
          manageOwners: false,
          managePermissionSets: false,
          manageLinks: false,
        });
      }
      // Just allowed: that permission alone (stored with view, which it implies).
      await setPermissions([permission]);
      if (permission !== 'delete') {
        const seen = await expectStatus(h.get(`/api/v1/user-groups/${groupId}`, actor.token), 200);
        expect(seen.body.abilities).toMatchObject({
          view: true,
          viewMembers: permission === 'view_members',
          editDetails: permission === 'edit_details',
          manageMembers: permission === 'manage_members',
          delete: false,
          managePermissionSets: false,
        });
      }
      expect(
        await attempt(h, actor.token!, groupId, permission, bystander.id),
        `${way}: ${permission} allowed`,
      ).toBe(allowedStatus[permission]);
    }
    // What the allowed actions did, as the Owner reads it.
    const groups = (await h.get('/api/v1/user-groups', org.ownerToken, { limit: 200 })).body.items;
    const named = (name: string) => groups.find((g: any) => g.name === name);
    expect(named('Team for delete')).toBeUndefined();
    const edited = await h.get(
      `/api/v1/user-groups/${named('Team for edit_details').id}`,
      org.ownerToken,
    );
    expect(edited.body.description).toBe('Changed by a delegate');
    const members = await h.get(
      `/api/v1/user-groups/${named('Team for manage_members').id}/members`,
      org.ownerToken,
    );
    expect(members.body.items.map((m: any) => m.id)).toContain(bystander.id);
    // None of these sets lets the actor change the sets themselves.
    const anyGroup = named('Team for view').id;
    const refused = await h.post(sets(anyGroup), actor.token, {
      name: 'Mine',
      permissions: ['view'],
      assignees: [],
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('permission_denied');
  });
});

describe('group permission sets take effect on the next request', () => {
  const haven = useHaven();

  it('Everyone turned on, then off', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const anyone = await staff(h, org, 'Ann Anyone');
    const member = await createUser(h, org.ownerToken, { name: 'Mo Member' });
    const groupId = await createUserGroup(h, org.ownerToken, 'Open team');
    await addMembers(h, org.ownerToken, groupId, [member.id]);
    const g = `/api/v1/user-groups/${groupId}`;
    expect((await h.get(g, anyone.token)).status).toBe(404);
    const listed = async () =>
      (await h.get('/api/v1/user-groups', anyone.token, { limit: 200 })).body.items.map(
        (x: any) => x.id,
      );
    expect(await listed()).toEqual([]);
    const on = await expectStatus(
      h.patch(`${sets(groupId)}/everyone`, org.ownerToken, { permissions: ['view_members'] }),
      200,
    );
    expect(on.body).toMatchObject({
      id: 'everyone',
      kind: 'everyone',
      name: 'Everyone',
      permissions: ['view', 'view_members'],
      fixed: false,
      assignees: [],
    });
    expect((await h.get(g, anyone.token)).status).toBe(200);
    expect(await listed()).toEqual([groupId]);
    const members = await expectStatus(h.get(`${g}/members`, anyone.token), 200);
    expect(members.body.items.map((m: any) => m.id)).toEqual([member.id]);
    expect((await h.patch(g, anyone.token, { description: 'x' })).status).toBe(403);
    await expectStatus(
      h.patch(`${sets(groupId)}/everyone`, org.ownerToken, { permissions: [] }),
      200,
    );
    expect((await h.get(g, anyone.token)).status).toBe(404);
    expect((await h.get(`${g}/members`, anyone.token)).status).toBe(404);
    expect(await listed()).toEqual([]);
    // Each change is a new version of the set; the old ones are kept, closed.
    const versions = await h.database.db
      .selectFrom('user_group_permission_sets')
      .select(['permissions', 'valid_to'])
      .where('user_group_id', '=', groupId)
      .where('set_id', '=', 'everyone')
      .orderBy('valid_from')
      .execute();
    expect(versions.map((v) => [v.permissions, v.valid_to === null])).toEqual([
      ['view,view_members', false],
      ['', true],
    ]);
  });

  it('a Members set with nothing hides the group from its members; with view_members they see each other', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const member = await staff(h, org, 'Mia Member');
    const groupId = await createUserGroup(h, org.ownerToken, 'Quiet team');
    await addMembers(h, org.ownerToken, groupId, [member.id]);
    const g = `/api/v1/user-groups/${groupId}`;
    // By default members see the group, not who else is in it.
    expect((await h.get(g, member.token)).status).toBe(200);
    const hidden = await h.get(`${g}/members`, member.token);
    expect(hidden.status).toBe(403);
    expect(hidden.body.code).toBe('permission_denied');
    await expectStatus(
      h.patch(`${sets(groupId)}/members`, org.ownerToken, { permissions: ['view_members'] }),
      200,
    );
    expect((await h.get(`${g}/members`, member.token)).status).toBe(200);
    await expectStatus(
      h.patch(`${sets(groupId)}/members`, org.ownerToken, { permissions: [] }),
      200,
    );
    expect((await h.get(g, member.token)).status).toBe(404);
    expect((await h.get('/api/v1/user-groups', member.token)).body.items).toEqual([]);
  });

  it('removing an assignee group, a member leaving it, or deleting it takes the rights at once', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const [ana, bo, cy] = [
      await staff(h, org, 'Ana Editor'),
      await staff(h, org, 'Bo Editor'),
      await staff(h, org, 'Cy Editor'),
    ];
    const target = await createUserGroup(h, t, 'Year 11 Team');
    const editors = await createUserGroup(h, t, 'Editors');
    const others = await createUserGroup(h, t, 'Other editors');
    await addMembers(h, t, editors, [ana.id, bo.id]);
    await addMembers(h, t, others, [cy.id]);
    const setId = await createSet(h, t, target, {
      name: 'Detail editors',
      permissions: ['edit_details'],
      assignees: [
        { type: 'user_group', id: editors },
        { type: 'user_group', id: others },
      ],
    });
    const edit = (token: string) =>
      h.patch(`/api/v1/user-groups/${target}`, token, { description: `by ${token.slice(0, 4)}` });
    for (const who of [ana, bo, cy]) expect((await edit(who.token!)).status).toBe(200);
    // Bo leaves Editors: Ana keeps the set, Bo does not.
    expect((await h.delete(`/api/v1/user-groups/${editors}/members/${bo.id}`, t)).status).toBe(204);
    expect((await edit(bo.token!)).status).toBe(404);
    expect((await edit(ana.token!)).status).toBe(200);
    // Editors is no longer an assignee: Ana loses the set.
    const after = await expectStatus(
      h.patch(`${sets(target)}/${setId}`, t, {
        assignees: [{ type: 'user_group', id: others }],
      }),
      200,
    );
    expect(after.body.assignees).toEqual([
      { type: 'user_group', id: others, name: 'Other editors', memberCount: 1 },
    ]);
    expect((await edit(ana.token!)).status).toBe(404);
    expect((await edit(cy.token!)).status).toBe(200);
    // Deleting Other editors ends its assignment with it.
    expect((await h.delete(`/api/v1/user-groups/${others}`, t)).status).toBe(204);
    expect((await edit(cy.token!)).status).toBe(404);
    const left = await h.get(sets(target), t);
    expect(left.body.items.find((s: any) => s.id === setId).assignees).toEqual([]);
    // The assignments' history is kept: both closed, with who ended them.
    const history = await h.database.db
      .selectFrom('user_group_set_assignees')
      .select(['assignee_id', 'valid_to', 'removed_by'])
      .where('user_group_id', '=', target)
      .orderBy('assignee_id')
      .execute();
    expect(history).toHaveLength(2);
    for (const row of history) {
      expect(row.valid_to).not.toBeNull();
      expect(row.removed_by).toBe(org.ownerId);
    }
  });

  it('deleting a set takes it from its assignees at once', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const delegate = await staff(h, org, 'Del Egate');
    const target = await createUserGroup(h, org.ownerToken, 'Year 12 Team');
    const setId = await createSet(h, org.ownerToken, target, {
      name: 'Readers',
      permissions: ['view_members'],
      assignees: [{ type: 'user', id: delegate.id }],
    });
    expect((await h.get(`/api/v1/user-groups/${target}/members`, delegate.token)).status).toBe(200);
    await expectStatus(h.delete(`${sets(target)}/${setId}`, org.ownerToken), 204);
    expect((await h.get(`/api/v1/user-groups/${target}`, delegate.token)).status).toBe(404);
    expect((await h.get(sets(target), org.ownerToken)).body.items.map((s: any) => s.id)).toEqual([
      'owners',
      'members',
      'everyone',
    ]);
    expect((await h.delete(`${sets(target)}/${setId}`, org.ownerToken)).status).toBe(404);
  });
});

describe('permission sets and anti-escalation', () => {
  const haven = useHaven();

  it('a set to manage the members of a cleared group: refused for those without the clearance', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const lacking = await staff(h, org, 'Lee Lacking');
    const holder = await staff(h, org, 'Hana Holder');
    // Hana holds child_protection through the Safeguarding Team.
    await addMembers(h, t, safeguardingTeamId, [holder.id]);
    const newcomer = await createUser(h, t, { name: 'Nia Newcomer' });
    const pastoral = await createUserGroup(h, t, 'Pastoral leads');
    await expectStatus(
      h.put(`/api/v1/user-groups/${pastoral}/clearances`, t, { clearances: ['child_protection'] }),
      200,
    );
    const auditBefore = await countRows(h, 'audit_events');
    // A user assignee who could not pass the clearance on: 409, nothing saved.
    const toLacking = await h.post(sets(pastoral), t, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user', id: lacking.id }],
    });
    expect(toLacking.status).toBe(409);
    expect(toLacking.body).toMatchObject({
      code: 'permission_set_escalation',
      field: 'assignees',
      userId: lacking.id,
    });
    const deleteToLacking = await h.post(sets(pastoral), t, {
      name: 'Membership editors',
      permissions: ['delete'],
      assignees: [{ type: 'user', id: lacking.id }],
    });
    expect(deleteToLacking.status).toBe(409);
    // Adding the permission later, or the user later, is refused the same way.
    const later = await createSet(h, t, pastoral, {
      name: 'Later',
      permissions: ['view'],
      assignees: [{ type: 'user', id: lacking.id }],
    });
    expect(
      (await h.patch(`${sets(pastoral)}/${later}`, t, { permissions: ['manage_members'] })).status,
    ).toBe(409);
    await expectStatus(h.delete(`${sets(pastoral)}/${later}`, t), 204);
    const auditAfterRefusals = await countRows(h, 'audit_events');
    expect(auditAfterRefusals).toBe(auditBefore + 2);
    // The holder may be given it directly.
    const direct = await createSet(h, t, pastoral, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user', id: holder.id }],
    });
    const withLacking = await h.patch(`${sets(pastoral)}/${direct}`, t, {
      assignees: [
        { type: 'user', id: holder.id },
        { type: 'user', id: lacking.id },
      ],
    });
    expect(withLacking.status).toBe(409);
    // A group assignee is saved; each of its members is checked when they act.
    const helpers = await createUserGroup(h, t, 'Helpers');
    await addMembers(h, t, helpers, [lacking.id, holder.id]);
    await createSet(h, t, pastoral, {
      name: 'Helpers manage members',
      permissions: ['manage_members'],
      assignees: [{ type: 'user_group', id: helpers }],
    });
    const byLacking = await h.post(`/api/v1/user-groups/${pastoral}/members`, lacking.token, {
      userIds: [newcomer.id],
    });
    expect(byLacking.status).toBe(403);
    expect(byLacking.body.requiredClearance).toBe('child_protection');
    const seen = await h.get(`/api/v1/user-groups/${pastoral}`, lacking.token);
    expect(seen.body.abilities).toMatchObject({ view: true, manageMembers: false, delete: false });
    expect(
      (await h.get(`/api/v1/user-groups/${pastoral}`, holder.token)).body.abilities,
    ).toMatchObject({ manageMembers: true });
    await expectStatus(
      h.post(`/api/v1/user-groups/${pastoral}/members`, holder.token, { userIds: [newcomer.id] }),
      200,
    );
    // Joining by one's own hand is still refused (rule 5).
    const self = await h.post(`/api/v1/user-groups/${pastoral}/members`, holder.token, {
      userIds: [holder.id],
    });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('self_grant');
    const members = await h.get(`/api/v1/user-groups/${pastoral}/members`, t);
    expect(members.body.items.map((m: any) => m.id)).toEqual([newcomer.id]);
  });

  it('a writer who could not pass on what the group holds may not write manage_members or delete into a set', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const admin = await createUser(h, t, { role: 'admin', organisationId: org.organisationId });
    const leader = await staff(h, org, 'Lou Leader');
    const pastoral = await createUserGroup(h, t, 'Pastoral leads');
    await expectStatus(
      h.put(`/api/v1/user-groups/${pastoral}/clearances`, t, { clearances: ['child_protection'] }),
      200,
    );
    await expectStatus(
      h.post(`/api/v1/user-groups/${pastoral}/owners`, t, { userIds: [leader.id] }),
      200,
    );
    for (const writer of [admin, leader]) {
      for (const permissions of [['manage_members'], ['delete']]) {
        const refused = await h.post(sets(pastoral), writer.token, {
          name: 'Escalation',
          permissions,
          assignees: [],
        });
        expect(refused.status).toBe(403);
        expect(refused.body.requiredClearance).toBe('child_protection');
      }
      const members = await h.patch(`${sets(pastoral)}/members`, writer.token, {
        permissions: ['manage_members'],
      });
      expect(members.status).toBe(403);
    }
    // What passes nothing on, they may give.
    await createSet(h, leader.token!, pastoral, {
      name: 'Detail editors',
      permissions: ['view_members', 'edit_details'],
      assignees: [],
    });
    const names = (await h.get(sets(pastoral), t)).body.items.map((s: any) => s.name);
    expect(names).toEqual(['Owners', 'Members', 'Everyone', 'Detail editors']);
    // A group that holds nothing may be delegated freely.
    const plain = await createUserGroup(h, t, 'Book club');
    await expectStatus(
      h.post(`/api/v1/user-groups/${plain}/owners`, t, { userIds: [leader.id] }),
      200,
    );
    await createSet(h, leader.token!, plain, {
      name: 'Organisers',
      permissions: ['manage_members', 'delete'],
      assignees: [{ type: 'user', id: admin.id }],
    });
  });
});

describe('permission set edits: refusals, limits and history', () => {
  const haven = useHaven();

  it('the fixed sets, and the fields Members and Everyone do not take', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const someone = await createUser(h, t);
    const groupId = await createUserGroup(h, t, 'Fixed team');
    await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/owners`, t, { userIds: [someone.id] }),
      200,
    );
    const before = (await h.get(sets(groupId), t)).body;
    expect(before.items).toEqual([
      {
        id: 'owners',
        kind: 'owners',
        name: 'Owners',
        permissions: allPermissions,
        fixed: true,
        assignees: [{ type: 'user', id: someone.id, name: someone.name, email: someone.email }],
      },
      {
        id: 'members',
        kind: 'members',
        name: 'Members',
        permissions: ['view'],
        fixed: false,
        assignees: [],
      },
      {
        id: 'everyone',
        kind: 'everyone',
        name: 'Everyone',
        permissions: [],
        fixed: false,
        assignees: [],
      },
    ]);
    expect(before.abilities).toEqual({ manage: true });
    const auditBefore = await countRows(h, 'audit_events');
    for (const [reply, status, code] of [
      [
        await h.patch(`${sets(groupId)}/owners`, t, { permissions: ['view'] }),
        409,
        'permission_set_fixed',
      ],
      [await h.delete(`${sets(groupId)}/owners`, t), 409, 'permission_set_fixed'],
      [await h.delete(`${sets(groupId)}/members`, t), 409, 'permission_set_fixed'],
      [await h.delete(`${sets(groupId)}/everyone`, t), 409, 'permission_set_fixed'],
      [
        await h.patch(`${sets(groupId)}/members`, t, { name: 'Everybody in it' }),
        422,
        'validation_failed',
      ],
      [
        await h.patch(`${sets(groupId)}/everyone`, t, {
          permissions: ['view'],
          assignees: [{ type: 'user', id: someone.id }],
        }),
        422,
        'validation_failed',
      ],
      [
        await h.post(sets(groupId), t, { name: 'members', permissions: [], assignees: [] }),
        409,
        'name_taken',
      ],
      [
        await h.post(sets(groupId), t, { name: ' OWNERS ', permissions: [], assignees: [] }),
        409,
        'name_taken',
      ],
      [await h.patch(`${sets(groupId)}/no-such-set`, t, { permissions: [] }), 404, 'not_found'],
    ] as const) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(status);
      expect(reply.body.code).toBe(code);
    }
    expect((await h.get(sets(groupId), t)).body).toEqual(before);
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);
  });

  it('validation errors change nothing', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const elmUser = await createUser(h, elm.ownerToken);
    const elmGroup = await createUserGroup(h, elm.ownerToken, 'Elm team');
    const someone = await createUser(h, t);
    const groupId = await createUserGroup(h, t, 'Careful team');
    const setId = await createSet(h, t, groupId, {
      name: 'Readers',
      permissions: ['view'],
      assignees: [{ type: 'user', id: someone.id }],
    });
    const before = (await h.get(sets(groupId), t)).body;
    const auditBefore = await countRows(h, 'audit_events');
    const body = (extra: object) => ({
      name: 'New set',
      permissions: ['view'],
      assignees: [],
      ...extra,
    });
    const cases: [string, () => Promise<Reply>, number, string | undefined][] = [
      [
        'unknown permission',
        () => h.post(sets(groupId), t, body({ permissions: ['admin'] })),
        400,
        'permissions.0',
      ],
      ['empty name', () => h.post(sets(groupId), t, body({ name: '   ' })), 400, 'name'],
      ['long name', () => h.post(sets(groupId), t, body({ name: 'x'.repeat(101) })), 400, 'name'],
      [
        'bad assignee type',
        () => h.post(sets(groupId), t, body({ assignees: [{ type: 'school', id: 'x' }] })),
        400,
        undefined,
      ],
      ['unknown field', () => h.post(sets(groupId), t, body({ colour: 'red' })), 400, undefined],
      [
        'taken name, other case',
        () => h.post(sets(groupId), t, body({ name: 'READERS' })),
        409,
        undefined,
      ],
      [
        'rename onto a taken name',
        () => h.patch(`${sets(groupId)}/${setId}`, t, { name: 'everyone' }),
        409,
        undefined,
      ],
      [
        'own group',
        () => h.post(sets(groupId), t, body({ assignees: [{ type: 'user_group', id: groupId }] })),
        422,
        'assignees',
      ],
      [
        'unknown user',
        () => h.post(sets(groupId), t, body({ assignees: [{ type: 'user', id: 'no-such-user' }] })),
        404,
        'assignees',
      ],
      [
        'user of another organisation',
        () =>
          h.patch(`${sets(groupId)}/${setId}`, t, {
            assignees: [{ type: 'user', id: elmUser.id }],
          }),
        404,
        'assignees',
      ],
      [
        'group of another organisation',
        () => h.post(sets(groupId), t, body({ assignees: [{ type: 'user_group', id: elmGroup }] })),
        404,
        'assignees',
      ],
      [
        'a user id given as a group',
        () =>
          h.post(sets(groupId), t, body({ assignees: [{ type: 'user_group', id: someone.id }] })),
        404,
        'assignees',
      ],
    ];
    for (const [what, send, status, field] of cases) {
      const reply = await send();
      expect(reply.status, `${what}: ${JSON.stringify(reply.body)}`).toBe(status);
      if (field && status === 400) expect(reply.body.errors[0].field, what).toBe(field);
      if (field && status !== 400)
        expect(reply.body.field ?? reply.body.errors?.[0]?.field, what).toBe(field);
      expect(JSON.stringify(reply.body), what).not.toContain('Elm team');
    }
    expect((await h.get(sets(groupId), t)).body).toEqual(before);
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);
  });

  it('at most 20 sets per group, the fixed three included, and 1,000 assignees per set', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const groupId = await createUserGroup(h, t, 'Busy team');
    const seventeen = Array.from({ length: 17 }, (_, i) => ({
      op: 'createPermissionSet',
      name: `Set ${String(i + 1).padStart(2, '0')}`,
      permissions: ['view'],
      assignees: [],
    }));
    await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/batch`, t, { operations: seventeen }),
      200,
    );
    const listed = (await h.get(sets(groupId), t)).body.items;
    expect(listed).toHaveLength(20);
    expect(listed.slice(3).map((s: any) => s.name)).toEqual(seventeen.map((s) => s.name));
    const over = await h.post(sets(groupId), t, {
      name: 'One too many',
      permissions: [],
      assignees: [],
    });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ code: 'limit_exceeded', limit: 20 });
    // Deleting one makes room again.
    await expectStatus(h.delete(`${sets(groupId)}/${listed[3].id}`, t), 204);
    const room = await createSet(h, t, groupId, {
      name: 'One more',
      permissions: [],
      assignees: [],
    });
    const crowd = Array.from({ length: 1001 }, (_, i) => ({ type: 'user', id: `user-${i}` }));
    const tooMany = await h.patch(`${sets(groupId)}/${room}`, t, { assignees: crowd });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toMatchObject({ code: 'limit_exceeded', limit: 1000 });
    expect(
      (await h.get(sets(groupId), t)).body.items.find((s: any) => s.id === room).assignees,
    ).toEqual([]);
    // Repeats count once.
    const someone = await createUser(h, t);
    const twice = await expectStatus(
      h.patch(`${sets(groupId)}/${room}`, t, {
        assignees: [
          { type: 'user', id: someone.id },
          { type: 'user', id: someone.id },
        ],
      }),
      200,
    );
    expect(twice.body.assignees).toHaveLength(1);
  });

  it('owners change the sets, administrators too; set holders and other schools do not (404 for groups they cannot see)', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const oakAdmin = await createUser(h, t, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const birchAdmin = await createUser(h, t, {
      role: 'admin',
      scope: { type: 'school', id: birch },
    });
    const leader = await staff(h, org, 'Lou Leader');
    const delegate = await staff(h, org, 'Del Egate');
    const oakGroup = await createUserGroup(h, t, 'Oak tutors', {
      homeScope: { type: 'school', id: org.schoolId },
    });
    const birchGroup = await createUserGroup(h, t, 'Birch pastoral', {
      homeScope: { type: 'school', id: birch },
    });
    await h.post(`/api/v1/user-groups/${oakGroup}/owners`, t, { userIds: [leader.id] });
    // The Owner assigns a set to Birch pastoral, which the Oak Admin may not see.
    const setId = await createSet(h, t, oakGroup, {
      name: 'Everything but sets',
      permissions: allPermissions,
      assignees: [
        { type: 'user', id: delegate.id },
        { type: 'user_group', id: birchGroup },
      ],
    });
    const asOwner = (await h.get(sets(oakGroup), t)).body.items[3];
    expect(asOwner.assignees).toEqual([
      { type: 'user', id: delegate.id, name: 'Del Egate', email: delegate.email },
      { type: 'user_group', id: birchGroup, name: 'Birch pastoral', memberCount: 0 },
    ]);
    const asOakAdmin = await expectStatus(h.get(sets(oakGroup), oakAdmin.token), 200);
    expect(asOakAdmin.body.abilities).toEqual({ manage: true });
    expect(asOakAdmin.body.items[3].assignees).toEqual([
      { type: 'user', id: delegate.id, name: 'Del Egate', email: delegate.email },
      { type: 'user_group', id: null, name: null, memberCount: null, withheld: true },
    ]);
    expect(JSON.stringify(asOakAdmin.body)).not.toContain('Birch');
    // The Oak Admin cannot name Birch pastoral, and keeps it when replacing the list.
    const naming = await h.post(sets(oakGroup), oakAdmin.token, {
      name: 'Naming Birch',
      permissions: ['view'],
      assignees: [{ type: 'user_group', id: birchGroup }],
    });
    expect(naming.status).toBe(404);
    expect(naming.body.field).toBe('assignees');
    const replaced = await expectStatus(
      h.patch(`${sets(oakGroup)}/${setId}`, oakAdmin.token, {
        assignees: [
          { type: 'user', id: leader.id },
          { type: 'user', id: delegate.id },
        ],
      }),
      200,
    );
    expect(replaced.body.assignees).toEqual([
      { type: 'user', id: delegate.id, name: 'Del Egate', email: delegate.email },
      { type: 'user', id: leader.id, name: 'Lou Leader', email: leader.email },
      { type: 'user_group', id: null, name: null, memberCount: null, withheld: true },
    ]);
    // The owner changes sets; the delegate, holding every permission, may not.
    await createSet(h, leader.token!, oakGroup, {
      name: 'By the owner',
      permissions: ['view'],
      assignees: [],
    });
    const delegateToken = delegate.token!;
    expect((await h.get(sets(oakGroup), delegateToken)).body.abilities).toEqual({ manage: false });
    for (const reply of [
      await h.post(sets(oakGroup), delegateToken, { name: 'Mine', permissions: [], assignees: [] }),
      await h.patch(`${sets(oakGroup)}/members`, delegateToken, { permissions: allPermissions }),
      await h.patch(`${sets(oakGroup)}/${setId}`, delegateToken, { name: 'Taken over' }),
      await h.delete(`${sets(oakGroup)}/${setId}`, delegateToken),
      await h.post(`/api/v1/user-groups/${oakGroup}/batch`, delegateToken, {
        operations: [{ op: 'deletePermissionSet', setId }],
      }),
    ]) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(403);
      expect(reply.body.code).toBe('permission_denied');
    }
    // Another school's Admin, and another organisation's Owner: the group is not there.
    const elm = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const auditBefore = await countRows(h, 'audit_events');
    for (const token of [birchAdmin.token!, elm.ownerToken]) {
      for (const reply of [
        await h.get(sets(oakGroup), token),
        await h.post(sets(oakGroup), token, { name: 'Intruders', permissions: [], assignees: [] }),
        await h.patch(`${sets(oakGroup)}/${setId}`, token, { permissions: [] }),
        await h.patch(`${sets(oakGroup)}/everyone`, token, { permissions: ['view'] }),
        await h.delete(`${sets(oakGroup)}/${setId}`, token),
      ]) {
        expect(reply.status, JSON.stringify(reply.body)).toBe(404);
        expect(JSON.stringify(reply.body)).not.toContain('Oak tutors');
      }
    }
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);
  });

  it('writes an audit row for each edit, with the set before and after', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const someone = await createUser(h, t, { name: 'Sam Someone' });
    const groupId = await createUserGroup(h, t, 'Audited team');
    const setId = await createSet(h, t, groupId, {
      name: 'Editors',
      permissions: ['edit_details'],
      assignees: [{ type: 'user', id: someone.id }],
    });
    await expectStatus(
      h.patch(`${sets(groupId)}/${setId}`, t, { name: 'Detail editors', assignees: [] }),
      200,
    );
    await expectStatus(h.patch(`${sets(groupId)}/members`, t, { permissions: [] }), 200);
    // Saving what is already there changes nothing and records nothing.
    await expectStatus(h.patch(`${sets(groupId)}/members`, t, { permissions: [] }), 200);
    await expectStatus(h.delete(`${sets(groupId)}/${setId}`, t), 204);
    const rows = await h.database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_user_id', 'target_type', 'target_id', 'before_json', 'after_json'])
      .where('action', 'like', 'user_group.permission_set.%')
      .orderBy('at')
      .orderBy('id')
      .execute();
    const parsed = rows.map((r) => ({
      action: r.action,
      actor: r.actor_user_id,
      target: [r.target_type, r.target_id],
      before: r.before_json ? JSON.parse(r.before_json) : null,
      after: r.after_json ? JSON.parse(r.after_json) : null,
    }));
    const editors = {
      setId,
      kind: 'custom',
      name: 'Editors',
      permissions: ['view', 'edit_details'],
      assignees: [{ type: 'user', id: someone.id }],
    };
    const renamed = { ...editors, name: 'Detail editors', assignees: [] };
    const target = ['user_group', groupId];
    expect(parsed).toEqual([
      {
        action: 'user_group.permission_set.create',
        actor: org.ownerId,
        target,
        before: null,
        after: editors,
      },
      {
        action: 'user_group.permission_set.update',
        actor: org.ownerId,
        target,
        before: editors,
        after: renamed,
      },
      {
        action: 'user_group.permission_set.update',
        actor: org.ownerId,
        target,
        before: { setId: 'members', kind: 'members', name: 'Members', permissions: ['view'] },
        after: { setId: 'members', kind: 'members', name: 'Members', permissions: [] },
      },
      {
        action: 'user_group.permission_set.delete',
        actor: org.ownerId,
        target,
        before: renamed,
        after: null,
      },
    ]);
    // Every version of the set is kept, the last one closed by the deletion.
    const versions = await h.database.db
      .selectFrom('user_group_permission_sets')
      .select(['name', 'permissions', 'valid_to', 'changed_by'])
      .where('set_id', '=', setId)
      .orderBy('valid_from')
      .execute();
    expect(versions.map((v) => [v.name, v.permissions, v.valid_to !== null, v.changed_by])).toEqual(
      [
        ['Editors', 'view,edit_details', true, org.ownerId],
        ['Detail editors', 'view,edit_details', true, org.ownerId],
      ],
    );
  });

  it('the batch applies set edits atomically: a failing operation leaves no set', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const someone = await createUser(h, t);
    const groupId = await createUserGroup(h, t, 'Batched team');
    const before = (await h.get(sets(groupId), t)).body;
    const auditBefore = await countRows(h, 'audit_events');
    const failing = await h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
      operations: [
        {
          op: 'createPermissionSet',
          name: 'Readers',
          permissions: ['view_members'],
          assignees: [{ type: 'user', id: someone.id }],
        },
        { op: 'updatePermissionSet', setId: 'everyone', permissions: ['view'] },
        { op: 'updatePermissionSet', setId: 'owners', permissions: ['view'] },
      ],
    });
    expect(failing.status).toBe(409);
    expect(failing.body).toMatchObject({
      code: 'permission_set_fixed',
      operationIndex: 2,
      operation: 'updatePermissionSet',
    });
    expect((await h.get(sets(groupId), t)).body).toEqual(before);
    expect(await countRows(h, 'audit_events')).toBe(auditBefore);
    const rows = await h.database.db
      .selectFrom('user_group_permission_sets')
      .select('id')
      .where('user_group_id', '=', groupId)
      .execute();
    expect(rows).toEqual([]);

    const good = await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
        operations: [
          {
            op: 'createPermissionSet',
            name: 'Readers',
            permissions: ['view_members'],
            assignees: [],
          },
          { op: 'createPermissionSet', name: 'Scratch', permissions: [], assignees: [] },
          { op: 'updatePermissionSet', setId: 'everyone', permissions: ['view'] },
        ],
      }),
      200,
    );
    const [readers, scratch] = good.body.results.map((r: any) => r.setId);
    await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
        operations: [
          {
            op: 'updatePermissionSet',
            setId: readers,
            assignees: [{ type: 'user', id: someone.id }],
          },
          { op: 'deletePermissionSet', setId: scratch },
        ],
      }),
      200,
    );
    const after = (await h.get(sets(groupId), t)).body.items;
    expect(after.map((s: any) => [s.name, s.permissions])).toEqual([
      ['Owners', allPermissions],
      ['Members', ['view']],
      ['Everyone', ['view']],
      ['Readers', ['view', 'view_members']],
    ]);
    expect(after[3].assignees.map((a: any) => a.id)).toEqual([someone.id]);
    // A set changed twice in one batch keeps one version for that change.
    await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/batch`, t, {
        operations: [
          { op: 'updatePermissionSet', setId: 'members', permissions: ['view_members'] },
          { op: 'updatePermissionSet', setId: 'members', permissions: ['edit_details'] },
        ],
      }),
      200,
    );
    const versions = await h.database.db
      .selectFrom('user_group_permission_sets')
      .select('permissions')
      .where('user_group_id', '=', groupId)
      .where('set_id', '=', 'members')
      .execute();
    expect(versions.map((v) => v.permissions)).toEqual(['view,edit_details']);
  });
});

describe("a group's candidates: how its delegates find staff", () => {
  const haven = useHaven();

  it('answer those who may manage its members, owners or sets; refuse those who only see it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const groupId = await createUserGroup(h, t, 'Year 7 Tutors');
    const editor = await staff(h, org, 'Esme Editor');
    const looker = await staff(h, org, 'Lola Looker');
    const stranger = await staff(h, org, 'Stan Stranger');
    const wanted = await createUser(h, t, { name: 'Walter Wanted' });
    await createSet(h, t, groupId, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user', id: editor.id }],
    });
    await createSet(h, t, groupId, {
      name: 'Lookers',
      permissions: ['view', 'view_members'],
      assignees: [{ type: 'user', id: looker.id }],
    });
    const path = `/api/v1/user-groups/${groupId}/candidates`;
    // A Viewer cannot list users, but may find them to add to the group they help to run.
    expect((await h.get('/api/v1/users', editor.token)).status).toBe(403);
    const found = await expectStatus(h.get(path, editor.token, { q: 'walter' }), 200);
    expect(found.body.items).toEqual([
      { id: wanted.id, name: 'Walter Wanted', email: expect.any(String) },
    ]);
    const added = await h.post(`/api/v1/user-groups/${groupId}/members`, editor.token, {
      userIds: [wanted.id],
    });
    expect(added.status).toBe(200);
    // Seeing the group and its members is not managing them.
    expect((await h.get(path, looker.token, { q: 'walter' })).status).toBe(403);
    // Nor is a group one cannot see anything but missing.
    expect((await h.get(path, stranger.token, { q: 'walter' })).status).toBe(404);
    // At most 20, whoever asks.
    const all = await expectStatus(h.get(path, t), 200);
    expect(all.body.items.length).toBeLessThanOrEqual(20);
    expect(all.body.items.map((u: any) => u.id)).toContain(wanted.id);
  });
});

describe('the group limits hold for delegates too', () => {
  const haven = useHaven();

  it('1,000,000 members: the millionth is added, one more is refused, whoever adds them', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const delegate = await staff(h, org, 'Dee Delegate');
    const [first, second, third] = [
      await createUser(h, t, { name: 'Ann First' }),
      await createUser(h, t, { name: 'Bea Second' }),
      await createUser(h, t, { name: 'Cai Third' }),
    ];
    const groupId = await createUserGroup(h, t, 'Whole trust');
    await createSet(h, t, groupId, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user', id: delegate.id }],
    });
    // The group's count stands for 999,998 members already (writing them would take minutes).
    await h.database.db
      .updateTable('user_groups')
      .set({ member_count: 999_998 })
      .where('id', '=', groupId)
      .execute();
    const add = (token: string, userIds: string[]) =>
      h.post(`/api/v1/user-groups/${groupId}/members`, token, { userIds });
    for (const token of [delegate.token!, t]) {
      const over = await add(token, [first.id, second.id, third.id]);
      expect(over.status, JSON.stringify(over.body)).toBe(422);
      expect(over.body).toMatchObject({ code: 'limit_exceeded', limit: 1_000_000 });
    }
    await expectStatus(add(delegate.token!, [first.id, second.id]), 200);
    const full = await h.get(`/api/v1/user-groups/${groupId}`, t);
    expect(full.body.memberCount).toBe(1_000_000);
    for (const token of [delegate.token!, t]) {
      const over = await add(token, [third.id]);
      expect(over.status, JSON.stringify(over.body)).toBe(422);
      expect(over.body).toMatchObject({ code: 'limit_exceeded', limit: 1_000_000 });
    }
    const members = await h.get(`/api/v1/user-groups/${groupId}/members`, t);
    expect(members.body.items.map((m: any) => m.id).sort()).toEqual([first.id, second.id].sort());
  });

  it('a refusal names the group action it needed', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const looker = await staff(h, org, 'Lola Looker');
    const groupId = await createUserGroup(h, org.ownerToken, 'Seen, not changed');
    await createSet(h, org.ownerToken, groupId, {
      name: 'Lookers',
      permissions: ['view'],
      assignees: [{ type: 'user', id: looker.id }],
    });
    const g = `/api/v1/user-groups/${groupId}`;
    for (const [reply, groupAction] of [
      [await h.get(`${g}/members`, looker.token), 'view_members'],
      [await h.patch(g, looker.token, { description: 'x' }), 'edit_details'],
      [await h.post(`${g}/members`, looker.token, { userIds: [org.ownerId] }), 'manage_members'],
      [await h.delete(g, looker.token), 'delete'],
      [
        await h.post(sets(groupId), looker.token, { name: 'x', permissions: [], assignees: [] }),
        'manage_permission_sets',
      ],
    ] as const) {
      expect(reply.status).toBe(403);
      expect(reply.body).toMatchObject({ code: 'permission_denied', groupAction });
    }
  });
});

describe('the permission-set routes in the OpenAPI document', () => {
  const haven = useHaven();

  it('are listed with their parameters, bodies and answers as the API answers them', async () => {
    const doc = (await haven().get('/api/v1/openapi.json')).body;
    const collection = doc.paths['/api/v1/user-groups/{id}/permission-sets'];
    const one = doc.paths['/api/v1/user-groups/{id}/permission-sets/{setId}'];
    expect(Object.keys(collection).sort()).toEqual(['get', 'post']);
    expect(Object.keys(one).sort()).toEqual(['delete', 'patch']);
    const json = (content: any) => content['application/json'].schema;
    const set = json(collection.get.responses['200'].content).properties.items.items;
    expect(set.required).toEqual(['id', 'kind', 'name', 'permissions', 'fixed', 'assignees']);
    expect(set.properties.kind.enum).toEqual(['owners', 'members', 'everyone', 'custom']);
    expect(set.properties.permissions.items.enum).toEqual(allPermissions);
    expect(set.properties.assignees.items.anyOf.map((a: any) => a.properties.type.enum[0])).toEqual(
      ['user', 'user_group', 'user_group'],
    );
    const created = json(collection.post.requestBody.content);
    expect(created.required).toEqual(['name', 'permissions', 'assignees']);
    expect(created.properties.assignees.items.properties.type.enum).toEqual(['user', 'user_group']);
    // Success answers as declared; the errors are the shared problem+json answers (openapi.ts).
    const successes = (op: any) => Object.keys(op.responses).filter((k) => /^[23]/.test(k));
    const errors = ['400', '401', '403', '404', '409', 'default'];
    expect(successes(collection.post)).toEqual(['201']);
    expect(Object.keys(collection.post.responses).sort()).toEqual(['201', ...errors].sort());
    expect(json(collection.post.responses['201'].content).required).toEqual(set.required);
    const patch = json(one.patch.requestBody.content);
    expect(patch.required ?? []).toEqual([]);
    expect(Object.keys(patch.properties).sort()).toEqual(['assignees', 'name', 'permissions']);
    expect(successes(one.patch)).toEqual(['200']);
    expect(successes(one.delete)).toEqual(['204']);
    expect(one.delete.responses['404']).toEqual({ $ref: '#/components/responses/NotFound' });
    for (const op of [collection.get, collection.post, one.patch, one.delete])
      expect(op.parameters.map((p: any) => p.name)).toContain('id');
    for (const op of [one.patch, one.delete])
      expect(op.parameters.map((p: any) => p.name)).toContain('setId');
    // The batch takes the three set operations.
    const batch = JSON.stringify(
      doc.paths['/api/v1/user-groups/{id}/batch'].post.requestBody.content,
    );
    for (const op of ['createPermissionSet', 'updatePermissionSet', 'deletePermissionSet'])
      expect(batch).toContain(`"${op}"`);
  });
});

describe('a set on a group that confers Owner', () => {
  const haven = useHaven();

  it('lets only Owners manage its members or delete it, whatever the set says', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const admin = await createUser(h, t, {
      name: 'Ada Admin',
      role: 'admin',
      organisationId: org.organisationId,
    });
    const viewer = await staff(h, org, 'Vic Viewer');
    const coOwner = await createUser(h, t, {
      name: 'Cora Owner',
      role: 'owner',
      organisationId: org.organisationId,
    });
    const newcomer = await createUser(h, t, { name: 'Nia Newcomer' });
    const trustOwners = await createUserGroup(h, t, 'Trust owners');
    await expectStatus(
      h.post('/api/v1/role-grants', t, {
        subject: { type: 'user_group', id: trustOwners },
        role: 'owner',
        scope: { type: 'organisation', id: org.organisationId },
      }),
      201,
    );
    // Given directly to someone who is not an Owner: refused when saved.
    for (const user of [viewer, admin]) {
      const direct = await h.post(sets(trustOwners), t, {
        name: 'Membership editors',
        permissions: ['manage_members', 'delete'],
        assignees: [{ type: 'user', id: user.id }],
      });
      expect(direct.status).toBe(409);
      expect(direct.body).toMatchObject({ code: 'permission_set_escalation', userId: user.id });
    }
    // Given to a group they are all in: saved, and each is decided when they act.
    const helpers = await createUserGroup(h, t, 'Helpers');
    await addMembers(h, t, helpers, [viewer.id, admin.id, coOwner.id]);
    await createSet(h, t, trustOwners, {
      name: 'Membership editors',
      permissions: ['manage_members', 'delete'],
      assignees: [{ type: 'user_group', id: helpers }],
    });
    const g = `/api/v1/user-groups/${trustOwners}`;
    for (const user of [viewer, admin]) {
      const refused = await h.post(`${g}/members`, user.token, { userIds: [newcomer.id] });
      expect(refused.status, user.name).toBe(403);
      expect(refused.body).toMatchObject({
        permission: 'roles.assign.owner',
        requiredRole: 'owner',
      });
      expect((await h.delete(g, user.token)).status, user.name).toBe(403);
      expect((await h.get(g, user.token)).body.abilities).toMatchObject({
        view: true,
        editDetails: user === admin,
        manageMembers: false,
        delete: false,
      });
    }
    expect((await h.get(g, coOwner.token)).body.abilities).toMatchObject({
      manageMembers: true,
      delete: true,
    });
    await expectStatus(h.post(`${g}/members`, coOwner.token, { userIds: [newcomer.id] }), 200);
    const members = await h.get(`${g}/members`, t);
    expect(members.body.items.map((m: any) => m.id)).toEqual([newcomer.id]);
  });
});

describe('the Members and Everyone sets', () => {
  const haven = useHaven();

  it("are changed by the group's owners and its home's Admin, not by a set holder", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const schoolAdmin = await createUser(h, t, { role: 'admin', scope: atSchool });
    const owner = await staff(h, org, 'Olu Owner');
    const holder = await staff(h, org, 'Hal Holder');
    const groupId = await createUserGroup(h, t, 'Form tutors', { homeScope: atSchool });
    await expectStatus(
      h.post(`/api/v1/user-groups/${groupId}/owners`, t, { userIds: [owner.id] }),
      200,
    );
    await createSet(h, t, groupId, {
      name: 'Everything',
      permissions: allPermissions,
      assignees: [{ type: 'user', id: holder.id }],
    });
    const change = (token: string, setId: 'members' | 'everyone', permissions: string[]) =>
      h.patch(`${sets(groupId)}/${setId}`, token, { permissions });
    const ownerChange = await expectStatus(change(owner.token!, 'members', ['view_members']), 200);
    expect(ownerChange.body.permissions).toEqual(['view', 'view_members']);
    await expectStatus(change(owner.token!, 'everyone', ['view']), 200);
    await expectStatus(change(schoolAdmin.token!, 'members', ['edit_details']), 200);
    await expectStatus(change(schoolAdmin.token!, 'everyone', []), 200);
    for (const setId of ['members', 'everyone'] as const) {
      const refused = await change(holder.token!, setId, allPermissions);
      expect(refused.status).toBe(403);
      expect(refused.body.groupAction).toBe('manage_permission_sets');
    }
    const now = (await h.get(sets(groupId), t)).body.items;
    expect(now.slice(1, 3).map((s: any) => [s.id, s.permissions])).toEqual([
      ['members', ['view', 'edit_details']],
      ['everyone', []],
    ]);
  });
});
