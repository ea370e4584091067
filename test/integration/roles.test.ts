import { describe, expect, it } from 'vitest';
import type { GrantableRole } from '../../src/access/roles.ts';
import { createUser, grantRole, setupOrganisation, type TestOrg } from '../support/factories.ts';
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
    const other = await h.post('/api/v1/schools', org.ownerToken, { name: 'Birch Academy' });
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
    for (const scope of [{ type: 'school', id: other.body.id }, orgScope(org)]) {
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
    const birch = (await h.post('/api/v1/schools', org.ownerToken, { name: 'Birch Academy' })).body
      .id;
    const cedar = (await h.post('/api/v1/schools', org.ownerToken, { name: 'Cedar School' })).body
      .id;
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
    const birch = (await h.post('/api/v1/schools', org.ownerToken, { name: 'Birch Academy' })).body
      .id;
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
