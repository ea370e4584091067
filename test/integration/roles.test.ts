import { describe, expect, it } from 'vitest';
import type { GrantableRole } from '../../src/access/roles.ts';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  grantRole,
  schoolDefaults,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import { type Reply, type TestHaven, useHaven } from '../support/haven.ts';

interface PermissionRow {
  permission: string;
  minimum: GrantableRole;
  below: GrantableRole;
  ok: number;
  attempt: (h: TestHaven, token: string, org: TestOrg) => Promise<Reply>;
}

const orgScope = (org: TestOrg) => ({ type: 'organisation', id: org.organisationId });

/** Spec section 2, the rows this part of Haven serves: the role just below the minimum, and the minimum. */
const rows: PermissionRow[] = [
  {
    permission: 'organisation.update',
    minimum: 'owner',
    below: 'dsl',
    ok: 200,
    attempt: (h, t) => h.patch('/api/v1/organisation', t, { name: 'Elm Trust' }),
  },
  {
    permission: 'organisation.members.remove',
    minimum: 'owner',
    below: 'dsl',
    ok: 204,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      return h.delete(`/api/v1/users/${user.id}`, t);
    },
  },
  {
    permission: 'schools.manage (add a school)',
    minimum: 'owner',
    below: 'dsl',
    ok: 201,
    attempt: (h, t) => h.post('/api/v1/schools', t, { name: 'Elm Academy' }),
  },
  {
    permission: 'schools.manage (add a school group)',
    minimum: 'owner',
    below: 'dsl',
    ok: 201,
    attempt: (h, t, org) =>
      h.post('/api/v1/school-groups', t, { name: 'North Hub', schoolIds: [org.schoolId] }),
  },
  {
    permission: 'roles.assign.owner (grant)',
    minimum: 'owner',
    below: 'dsl',
    ok: 201,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      return h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: user.id },
        role: 'owner',
        scope: orgScope(org),
      });
    },
  },
  {
    permission: 'roles.assign.owner (revoke)',
    minimum: 'owner',
    below: 'dsl',
    ok: 204,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      const grant = await grantRole(
        h,
        org.ownerToken,
        { type: 'user', id: user.id },
        'owner',
        orgScope(org) as never,
      );
      return h.delete(`/api/v1/role-grants/${grant}`, t);
    },
  },
  {
    permission: 'roles.assign (grant)',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      return h.post('/api/v1/role-grants', t, {
        subject: { type: 'user', id: user.id },
        role: 'viewer',
        scope: { type: 'school', id: org.schoolId },
      });
    },
  },
  {
    permission: 'roles.assign (revoke)',
    minimum: 'admin',
    below: 'viewer',
    ok: 204,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      const grant = await grantRole(h, org.ownerToken, { type: 'user', id: user.id }, 'viewer', {
        type: 'school',
        id: org.schoolId,
      });
      return h.delete(`/api/v1/role-grants/${grant}`, t);
    },
  },
  {
    permission: 'roles.assign (list grants)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: (h, t) => h.get('/api/v1/role-grants', t),
  },
  {
    permission: 'users.manage (add)',
    minimum: 'admin',
    below: 'viewer',
    ok: 201,
    attempt: (h, t) =>
      h.post('/api/v1/users', t, { email: `new.${Date.now()}@school.test`, name: 'New Teacher' }),
  },
  {
    permission: 'users.manage (list)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: (h, t) => h.get('/api/v1/users', t),
  },
  {
    permission: 'users.manage (read one)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: (h, t, org) => h.get(`/api/v1/users/${org.ownerId}`, t),
  },
  {
    permission: 'users.manage (edit)',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: async (h, t, org) => {
      const user = await createUser(h, org.ownerToken);
      return h.patch(`/api/v1/users/${user.id}`, t, { name: 'Renamed Teacher' });
    },
  },
  {
    permission: 'audit_log.view',
    minimum: 'admin',
    below: 'viewer',
    ok: 200,
    attempt: (h, t) => h.get('/api/v1/audit-log', t),
  },
];

describe('permission table (spec section 2)', () => {
  const haven = useHaven();

  describe.each(rows)('$permission', (row) => {
    it(`allows ${row.minimum}`, async () => {
      const h = haven();
      const org = await setupOrganisation(h);
      const actor = await createUser(h, org.ownerToken, {
        role: row.minimum,
        organisationId: org.organisationId,
      });
      const reply = await row.attempt(h, actor.token!, org);
      expect(reply.status, JSON.stringify(reply.body)).toBe(row.ok);
    });

    it(`refuses ${row.below} with 403 naming ${row.minimum}, and logs the refusal`, async () => {
      const h = haven();
      const org = await setupOrganisation(h);
      const actor = await createUser(h, org.ownerToken, {
        role: row.below,
        organisationId: org.organisationId,
      });
      const reply = await row.attempt(h, actor.token!, org);
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('forbidden');
      expect(reply.body.requiredRole).toBe(row.minimum);
      expect(reply.body.detail).toMatch(/or higher/);
      const refusals = await h.database.db
        .selectFrom('audit_events')
        .select(['actor_user_id', 'action'])
        .where('category', '=', 'denied')
        .execute();
      expect(refusals).toContainEqual({ actor_user_id: actor.id, action: 'request.forbidden' });
    });
  });
});

describe('anti-escalation (spec section 2)', () => {
  const haven = useHaven();

  it('an Admin can grant DSL but cannot grant or revoke Owner', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      organisationId: org.organisationId,
    });
    const target = await createUser(h, org.ownerToken);
    const subject = { type: 'user', id: target.id };
    const owner = await h.post('/api/v1/role-grants', admin.token, {
      subject,
      role: 'owner',
      scope: orgScope(org),
    });
    expect(owner.status).toBe(403);
    expect(owner.body.requiredRole).toBe('owner');
    const dsl = await h.post('/api/v1/role-grants', admin.token, {
      subject,
      role: 'dsl',
      scope: orgScope(org),
    });
    expect(dsl.status).toBe(201);
    const ownerGrants = await h.get('/api/v1/role-grants', org.ownerToken, { userId: org.ownerId });
    const revoke = await h.delete(
      `/api/v1/role-grants/${ownerGrants.body.items[0].id}`,
      admin.token,
    );
    expect(revoke.status).toBe(403);
  });

  it('an Admin cannot disable or rename an Owner', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const admin = await createUser(h, org.ownerToken, {
      role: 'admin',
      organisationId: org.organisationId,
    });
    const reply = await h.patch(`/api/v1/users/${org.ownerId}`, admin.token, { disabled: true });
    expect(reply.status).toBe(403);
    expect(reply.body.requiredRole).toBe('owner');
    expect((await h.get('/api/v1/me', org.ownerToken)).status).toBe(200);
  });

  it('the last Owner cannot be revoked, disabled or removed; with a second Owner they can', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const grants = await h.get('/api/v1/role-grants', org.ownerToken, { userId: org.ownerId });
    const ownerGrant = grants.body.items[0].id;
    for (const reply of [
      await h.delete(`/api/v1/role-grants/${ownerGrant}`, org.ownerToken),
      await h.patch(`/api/v1/users/${org.ownerId}`, org.ownerToken, { disabled: true }),
      await h.delete(`/api/v1/users/${org.ownerId}`, org.ownerToken),
    ]) {
      expect(reply.status).toBe(409);
      expect(reply.body.code).toBe('last_owner');
    }
    expect((await h.get('/api/v1/me', org.ownerToken)).status).toBe(200);

    const second = await createUser(h, org.ownerToken, {
      role: 'owner',
      organisationId: org.organisationId,
    });
    expect((await h.delete(`/api/v1/role-grants/${ownerGrant}`, second.token)).status).toBe(204);
    const mine = await h.get('/api/v1/role-grants', second.token, { userId: second.id });
    const secondGrant = mine.body.items[0].id;
    const lastAgain = await h.delete(`/api/v1/role-grants/${secondGrant}`, second.token);
    expect(lastAgain.status).toBe(409);
  });

  it('a school-scoped Admin grants at their school only', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const birch = await addSchool(h, org.ownerToken, 'Birch Academy');
    const schoolAdmin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const target = await createUser(h, org.ownerToken);
    const subject = { type: 'user', id: target.id };
    const here = await h.post('/api/v1/role-grants', schoolAdmin.token, {
      subject,
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    expect(here.status).toBe(201);
    for (const scope of [{ type: 'school', id: birch }, orgScope(org)]) {
      const elsewhere = await h.post('/api/v1/role-grants', schoolAdmin.token, {
        subject,
        role: 'viewer',
        scope,
      });
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.requiredRole).toBe('admin');
    }
  });

  it('a grant at a school group covers every school in it and no other', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const birch = await addSchool(h, org.ownerToken, 'Birch Academy');
    const cedar = await addSchool(h, org.ownerToken, 'Cedar School');
    const hub = await h.post('/api/v1/school-groups', org.ownerToken, {
      name: 'North Hub',
      schoolIds: [org.schoolId, birch],
    });
    expect(hub.status).toBe(201);
    const hubAdmin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school_group', id: hub.body.id },
    });
    const target = await createUser(h, org.ownerToken);
    const grantAt = (scope: object) =>
      h.post('/api/v1/role-grants', hubAdmin.token, {
        subject: { type: 'user', id: target.id },
        role: 'viewer',
        scope,
      });
    expect((await grantAt({ type: 'school', id: org.schoolId })).status).toBe(201);
    expect((await grantAt({ type: 'school', id: birch })).status).toBe(201);
    expect((await grantAt({ type: 'school_group', id: hub.body.id })).status).toBe(201);
    expect((await grantAt({ type: 'school', id: cedar })).status).toBe(403);
    expect((await grantAt(orgScope(org))).status).toBe(403);

    // Taking Birch out of the hub takes it out of the grant's reach on the next request.
    await h.patch(`/api/v1/school-groups/${hub.body.id}`, org.ownerToken, {
      schoolIds: [org.schoolId],
    });
    const other = await createUser(h, org.ownerToken);
    const afterChange = await h.post('/api/v1/role-grants', hubAdmin.token, {
      subject: { type: 'user', id: other.id },
      role: 'viewer',
      scope: { type: 'school', id: birch },
    });
    expect(afterChange.status).toBe(403);
  });

  it("a school-scoped Admin cannot disable another school's staff", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const birch = await addSchool(h, org.ownerToken, 'Birch Academy');
    const schoolAdmin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const birchDsl = await createUser(h, org.ownerToken, {
      role: 'dsl',
      scope: { type: 'school', id: birch },
    });
    const oakViewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    expect(
      (await h.patch(`/api/v1/users/${birchDsl.id}`, schoolAdmin.token, { disabled: true })).status,
    ).toBe(403);
    expect(
      (await h.patch(`/api/v1/users/${oakViewer.id}`, schoolAdmin.token, { disabled: true }))
        .status,
    ).toBe(200);
  });

  it('refuses a duplicate grant and a grant of the Member placeholder', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const target = await createUser(h, org.ownerToken);
    const body = { subject: { type: 'user', id: target.id }, role: 'viewer', scope: orgScope(org) };
    expect((await h.post('/api/v1/role-grants', org.ownerToken, body)).status).toBe(201);
    const again = await h.post('/api/v1/role-grants', org.ownerToken, body);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('already_granted');
    const member = await h.post('/api/v1/role-grants', org.ownerToken, { ...body, role: 'member' });
    expect(member.status).toBe(400);
    expect(member.body.errors[0].field).toBe('role');
  });
});

describe("a school's Admin grants and revokes only at their school (rule 2)", () => {
  const haven = useHaven();

  it('refuses every role at another school and at the organisation, granting and revoking', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const birch = await addSchool(h, org.ownerToken, 'Birch Academy');
    const oakAdmin = await createUser(h, org.ownerToken, {
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
    });
    const target = await createUser(h, org.ownerToken);
    const subject = { type: 'user', id: target.id };
    for (const role of ['owner', 'dsl', 'deputy_dsl', 'admin', 'viewer'] as const) {
      for (const scope of [
        { type: 'school' as const, id: birch },
        { type: 'organisation' as const, id: org.organisationId },
      ]) {
        const grant = await h.post('/api/v1/role-grants', oakAdmin.token, { subject, role, scope });
        expect(grant.status, `${role} at ${scope.type}`).toBe(403);
        expect(grant.body.requiredRole).toBe(role === 'owner' ? 'owner' : 'admin');
        const held = await grantRole(h, org.ownerToken, subject as never, role, scope);
        const revoke = await h.delete(`/api/v1/role-grants/${held}`, oakAdmin.token);
        expect(revoke.status, `revoke ${role} at ${scope.type}`).toBe(403);
        expect(revoke.body.requiredRole).toBe(role === 'owner' ? 'owner' : 'admin');
      }
    }
    const still = await h.get('/api/v1/role-grants', org.ownerToken, { userId: target.id });
    expect(still.body.items).toHaveLength(10);
    // At their own school they may grant and revoke everything but Owner.
    const here = await h.post('/api/v1/role-grants', oakAdmin.token, {
      subject,
      role: 'dsl',
      scope: { type: 'school', id: org.schoolId },
    });
    expect(here.status).toBe(201);
    expect((await h.delete(`/api/v1/role-grants/${here.body.id}`, oakAdmin.token)).status).toBe(
      204,
    );
  });
});

describe('nobody grants themselves a role or a clearance (rule 5)', () => {
  const haven = useHaven();

  async function rolesOf(h: TestHaven, token: string) {
    const me = await h.get('/api/v1/me', token);
    return me.body.roles.map((r: any) => `${r.role}@${r.scope.type}`).sort();
  }

  it('refuses an Admin or a DSL granting a role to themselves, with self_grant', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    for (const role of ['admin', 'dsl'] as const) {
      const actor = await createUser(h, org.ownerToken, {
        role,
        organisationId: org.organisationId,
      });
      for (const wanted of ['dsl', 'viewer'] as const) {
        const reply = await h.post('/api/v1/role-grants', actor.token, {
          subject: { type: 'user', id: actor.id },
          role: wanted,
          scope: { type: 'school', id: org.schoolId },
        });
        expect(reply.status, `${role} grants themselves ${wanted}`).toBe(403);
        expect(reply.body.code).toBe('self_grant');
      }
      expect(await rolesOf(h, actor.token!)).toEqual([`${role}@organisation`]);
      const refusal = await h.database.db
        .selectFrom('audit_events')
        .select('action')
        .where('actor_user_id', '=', actor.id)
        .where('category', '=', 'denied')
        .execute();
      expect(refusal.map((r) => r.action)).toContain('request.self_grant');
    }
  });

  it('refuses joining a group that holds a role or a clearance, in one request or in a batch', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const admin = await createUser(h, t, { role: 'admin', organisationId: org.organisationId });
    const colleague = await createUser(h, t);
    const leads = await createUserGroup(h, t, 'Safeguarding leads');
    await grantRole(h, t, { type: 'user_group', id: leads }, 'dsl', {
      type: 'school',
      id: org.schoolId,
    });
    const join = await h.post(`/api/v1/user-groups/${leads}/members`, admin.token, {
      userIds: [colleague.id, admin.id],
    });
    expect(join.status).toBe(403);
    expect(join.body.code).toBe('self_grant');
    const batch = await h.post(`/api/v1/user-groups/${leads}/batch`, admin.token, {
      operations: [
        { op: 'update', rationale: 'Leads' },
        { op: 'addMembers', userIds: [admin.id] },
      ],
    });
    expect(batch.status).toBe(403);
    expect(batch.body).toMatchObject({ code: 'self_grant', operationIndex: 1 });
    expect(await rolesOf(h, admin.token!)).toEqual(['admin@organisation']);
    // Others may be added by the same Admin: the rule is about oneself.
    expect(
      (
        await h.post(`/api/v1/user-groups/${leads}/members`, admin.token, {
          userIds: [colleague.id],
        })
      ).status,
    ).toBe(200);

    // A DSL holding child_protection through the Safeguarding Team joins no other cleared group.
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const dsl = await createUser(h, t, { role: 'dsl', organisationId: org.organisationId });
    await addMembers(h, t, safeguardingTeamId, [dsl.id]);
    const pastoral = await createUserGroup(h, t, 'Pastoral team');
    await h.put(`/api/v1/user-groups/${pastoral}/clearances`, t, {
      clearances: ['child_protection'],
    });
    const cleared = await h.post(`/api/v1/user-groups/${pastoral}/members`, dsl.token, {
      userIds: [dsl.id],
    });
    expect(cleared.status).toBe(403);
    expect(cleared.body.code).toBe('self_grant');
    // Adding the clearance after joining, in the same batch, is caught too.
    const plain = await createUserGroup(h, t, 'Year 11 team');
    const sneaky = await h.post(`/api/v1/user-groups/${plain}/batch`, dsl.token, {
      operations: [
        { op: 'addMembers', userIds: [dsl.id] },
        { op: 'setClearances', clearances: ['child_protection'] },
      ],
    });
    expect(sneaky.status).toBe(403);
    expect(sneaky.body).toMatchObject({ code: 'self_grant', operationIndex: 1 });
    // Joining a group that holds nothing is no grant.
    expect(
      (await h.post(`/api/v1/user-groups/${plain}/members`, dsl.token, { userIds: [dsl.id] }))
        .status,
    ).toBe(200);
  });

  it('refuses granting a role, or a clearance, to a group one belongs to', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const admin = await createUser(h, t, { role: 'admin', organisationId: org.organisationId });
    const dsl = await createUser(h, t, { role: 'dsl', organisationId: org.organisationId });
    const office = await createUserGroup(h, t, 'School office');
    await addMembers(h, t, office, [admin.id, dsl.id]);
    await addMembers(h, t, safeguardingTeamId, [dsl.id]);
    for (const actor of [admin, dsl]) {
      const reply = await h.post('/api/v1/role-grants', actor.token, {
        subject: { type: 'user_group', id: office },
        role: 'deputy_dsl',
        scope: { type: 'school', id: org.schoolId },
      });
      expect(reply.status).toBe(403);
      expect(reply.body.code).toBe('self_grant');
    }
    const clearance = await h.put(`/api/v1/user-groups/${office}/clearances`, dsl.token, {
      clearances: ['child_protection'],
    });
    expect(clearance.status).toBe(403);
    expect(clearance.body.code).toBe('self_grant');
    const office2 = await h.get(`/api/v1/user-groups/${office}`, t);
    expect(office2.body).toMatchObject({ roleGrants: [], clearances: [] });
    // The same grants to a group they are not in are theirs to make.
    const other = await createUserGroup(h, t, 'Heads of year');
    expect(
      (
        await h.post('/api/v1/role-grants', admin.token, {
          subject: { type: 'user_group', id: other },
          role: 'viewer',
          scope: { type: 'school', id: org.schoolId },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await h.put(`/api/v1/user-groups/${other}/clearances`, dsl.token, {
          clearances: ['child_protection'],
        })
      ).status,
    ).toBe(200);
  });

  it('lets an Owner at the organisation grant to themselves', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const direct = await h.post('/api/v1/role-grants', t, {
      subject: { type: 'user', id: org.ownerId },
      role: 'dsl',
      scope: { type: 'school', id: org.schoolId },
    });
    expect(direct.status).toBe(201);
    const leads = await createUserGroup(h, t, 'Safeguarding leads');
    await grantRole(h, t, { type: 'user_group', id: leads }, 'dsl', {
      type: 'organisation',
      id: org.organisationId,
    });
    expect(
      (await h.post(`/api/v1/user-groups/${leads}/members`, t, { userIds: [org.ownerId] })).status,
    ).toBe(200);
    expect(
      (
        await h.post('/api/v1/role-grants', t, {
          subject: { type: 'user_group', id: leads },
          role: 'viewer',
          scope: { type: 'school', id: org.schoolId },
        })
      ).status,
    ).toBe(201);
    expect(
      (await h.put(`/api/v1/user-groups/${leads}/clearances`, t, { clearances: ['allegations'] }))
        .status,
    ).toBe(200);
    // An Owner of one school only is no exception.
    const schoolOwner = await createUser(h, t, {
      role: 'owner',
      scope: { type: 'school', id: org.schoolId },
    });
    const self = await h.post('/api/v1/role-grants', schoolOwner.token, {
      subject: { type: 'user', id: schoolOwner.id },
      role: 'dsl',
      scope: { type: 'school', id: org.schoolId },
    });
    expect(self.status).toBe(403);
    expect(self.body.code).toBe('self_grant');
  });
});

describe('every grant may carry a reason (rule 5)', () => {
  const haven = useHaven();

  it('stores the reason, returns it with the grant and writes it to the audit row', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const target = await createUser(h, org.ownerToken);
    const reason = 'Covering the DSL during maternity leave, until July';
    const created = await h.post('/api/v1/role-grants', org.ownerToken, {
      subject: { type: 'user', id: target.id },
      role: 'deputy_dsl',
      scope: { type: 'school', id: org.schoolId },
      reason,
    });
    expect(created.status).toBe(201);
    expect(created.body.reason).toBe(reason);
    const listed = await h.get('/api/v1/role-grants', org.ownerToken, { userId: target.id });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: created.body.id, reason })]);
    const audit = await h.database.db
      .selectFrom('audit_events')
      .select('after_json')
      .where('action', '=', 'role_grant.create')
      .where('target_id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after_json!)).toMatchObject({ reason });

    const without = await h.post('/api/v1/role-grants', org.ownerToken, {
      subject: { type: 'user', id: target.id },
      role: 'viewer',
      scope: { type: 'organisation', id: org.organisationId },
    });
    expect(without.body.reason).toBeNull();
    const tooLong = await h.post('/api/v1/role-grants', org.ownerToken, {
      subject: { type: 'user', id: target.id },
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
      reason: 'x'.repeat(501),
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe('reason');
  });
});
