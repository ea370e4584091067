import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { registerAuthentication } from '../../src/server/authenticate.ts';
import { linkToken, useHavenWithMail } from '../support/account-links.ts';
import {
  createUser,
  createUserGroup,
  grantRole,
  login,
  schoolDefaults,
  setupOrganisation,
  type TestOrg,
  uniqueEmail,
} from '../support/factories.ts';
import { type Reply, STRONG_PASSWORD, type TestHaven, useHaven } from '../support/haven.ts';

/**
 * SCIM 2.0 provisioning (issue 13, item 5) driven with the requests Microsoft Entra ID sends:
 * its probe by userName before a create, its User and Group bodies (the enterprise extension,
 * `emails`, the extra Microsoft group schema), its PATCH shapes (capitalised ops, "False" as
 * text, a Replace without a path, members added and removed by list and by filter).
 */

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** One SCIM request as Entra ID makes it: bearer token, `application/scim+json`. */
function scim(
  h: TestHaven,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  query?: Record<string, string | number>,
): Promise<Reply> {
  return h.request(method, `/scim/v2${path}`, {
    token,
    query,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/scim+json' } }
      : {}),
  });
}

async function newToken(h: TestHaven, ownerToken: string, name = 'Entra ID'): Promise<string> {
  const reply = await h.post('/api/v1/organisation/scim-tokens', ownerToken, { name });
  expect(reply.status).toBe(201);
  return reply.body.token;
}

/** The POST /Users body Entra ID sends (its documented request, with a school's values). */
function entraUser(email: string, given: string, family: string, externalId: string) {
  return {
    schemas: [USER, ENTERPRISE],
    externalId,
    userName: email,
    active: true,
    displayName: `${given} ${family}`,
    emails: [{ primary: true, type: 'work', value: email }],
    meta: { resourceType: 'User' },
    name: { formatted: `${given} ${family}`, familyName: family, givenName: given },
    roles: [],
    title: 'Teacher',
    phoneNumbers: [{ type: 'work', value: '+44 20 7946 0000' }],
    [ENTERPRISE]: { department: 'Science', employeeNumber: externalId, manager: { value: '' } },
  };
}

const patch = (...Operations: object[]) => ({ schemas: [PATCH_OP], Operations });

/** Entra ID's lookup before it creates a user. */
async function probe(h: TestHaven, token: string, email: string) {
  const reply = await scim(h, token, 'GET', '/Users', undefined, {
    filter: `userName eq "${email}"`,
  });
  expect(reply.status).toBe(200);
  return reply.body;
}

function expectScimError(reply: Reply, status: number, scimType?: string) {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(String(reply.headers['content-type'])).toMatch(/^application\/scim\+json/);
  expect(reply.body.schemas).toEqual([ERROR]);
  expect(reply.body.status).toBe(String(status));
  expect(typeof reply.body.detail).toBe('string');
  if (scimType) expect(reply.body.scimType).toBe(scimType);
  else expect(reply.body.scimType).toBeUndefined();
}

async function auditRows(h: TestHaven, organisationId: string, action?: string) {
  let query = h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('organisation_id', '=', organisationId);
  if (action) query = query.where('action', '=', action);
  const rows = await query.orderBy('seq').execute();
  return rows.map((r) => ({
    ...r,
    meta: r.meta_json ? JSON.parse(r.meta_json) : {},
    before: r.before_json ? JSON.parse(r.before_json) : null,
    after: r.after_json ? JSON.parse(r.after_json) : null,
  }));
}

async function havenUser(h: TestHaven, ownerToken: string, id: string) {
  const reply = await h.get(`/api/v1/users/${id}`, ownerToken);
  expect(reply.status).toBe(200);
  return reply.body;
}

async function havenMembers(h: TestHaven, ownerToken: string, groupId: string) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const reply = await h.get(`/api/v1/user-groups/${groupId}/members`, ownerToken, {
      limit: 200,
      cursor,
    });
    expect(reply.status).toBe(200);
    ids.push(...reply.body.items.map((m: any) => m.id));
    cursor = reply.body.nextCursor ?? undefined;
  } while (cursor);
  return ids.sort();
}

describe('SCIM tokens', () => {
  const haven = useHaven();

  it('an Owner creates, lists and revokes them; the token is shown once and kept hashed; a DSL may not', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const created = await h.post('/api/v1/organisation/scim-tokens', org.ownerToken, {
      name: 'Entra ID',
    });
    expect(created.status).toBe(201);
    const { id, token } = created.body;
    expect(token).toMatch(/^haven_scim_[A-Za-z0-9_-]{43}$/);

    const row = await h.database.db
      .selectFrom('scim_tokens')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(token);

    const listed = await h.get('/api/v1/organisation/scim-tokens', org.ownerToken);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([
      {
        id,
        name: 'Entra ID',
        createdAt: expect.any(String),
        createdBy: { id: org.ownerId, name: 'Olive Owner' },
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(token);

    // The role just below Owner: a DSL at the organisation manages none of it.
    const dsl = await createUser(h, org.ownerToken, {
      role: 'dsl',
      organisationId: org.organisationId,
    });
    expect(
      (await h.post('/api/v1/organisation/scim-tokens', dsl.token, { name: 'x' })).status,
    ).toBe(403);
    expect((await h.get('/api/v1/organisation/scim-tokens', dsl.token)).status).toBe(403);
    expect((await h.delete(`/api/v1/organisation/scim-tokens/${id}`, dsl.token)).status).toBe(403);

    const config = await scim(h, token, 'GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.body.patch).toEqual({ supported: true });
    expect(config.body.filter).toEqual({ supported: true, maxResults: 200 });
    const used = await h.get('/api/v1/organisation/scim-tokens', org.ownerToken);
    expect(used.body.items[0].lastUsedAt).not.toBeNull();

    expect((await h.delete(`/api/v1/organisation/scim-tokens/${id}`, org.ownerToken)).status).toBe(
      204,
    );
    const revoked = await scim(h, token, 'GET', '/Users');
    expectScimError(revoked, 401);
    const after = await h.get('/api/v1/organisation/scim-tokens', org.ownerToken);
    expect(after.body.items[0].revokedAt).not.toBeNull();
    expect(
      (
        await h.delete(
          '/api/v1/organisation/scim-tokens/01JZZZZZZZZZZZZZZZZZZZZZZZ',
          org.ownerToken,
        )
      ).status,
    ).toBe(404);

    const audit = await auditRows(h, org.organisationId);
    expect(audit.find((r) => r.action === 'scim_token.create')).toMatchObject({
      actor_user_id: org.ownerId,
      target_id: id,
      after: { name: 'Entra ID' },
    });
    expect(audit.find((r) => r.action === 'scim_token.revoke')).toMatchObject({ target_id: id });
    expect(audit.find((r) => r.category === 'denied' && r.meta.scimTokenId === id)).toMatchObject({
      action: 'request.unauthorized',
    });
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it('only the SCIM token opens /scim/v2, and it opens nothing else', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const token = await newToken(h, org.ownerToken);

    expectScimError(await scim(h, undefined, 'GET', '/Users'), 401);
    expectScimError(await scim(h, 'haven_scim_not-a-token', 'GET', '/Users'), 401);
    // A signed-in Owner's session, as a bearer token or as the cookie, is not a SCIM token.
    expectScimError(await scim(h, org.ownerToken, 'GET', '/Users'), 401);
    const byCookie = await h.request('GET', '/scim/v2/Users', {
      headers: { cookie: `haven_session=${org.ownerToken}` },
    });
    expectScimError(byCookie, 401);
    // And the SCIM token opens no API route.
    expect((await h.get('/api/v1/me', token)).status).toBe(401);
    expect((await h.get('/api/v1/users', token)).status).toBe(401);
    expect((await scim(h, token, 'GET', '/Users')).status).toBe(200);

    // Every SCIM route of the API description refuses a caller without the token (401).
    const openapi = (await h.get('/api/v1/openapi.json')).body;
    const routes = Object.entries(openapi.paths as Record<string, object>)
      .filter(([path]) => path.startsWith('/scim/v2/'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path]));
    expect(routes.length).toBeGreaterThanOrEqual(17);
    const open: string[] = [];
    for (const [method, path] of routes) {
      const url = path!.replace(/\{[^}]+\}/g, '01JZZZZZZZZZZZZZZZZZZZZZZZ');
      for (const bearer of [undefined, org.ownerToken]) {
        const reply = await h.request(method!, url, {
          token: bearer,
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: {} }),
        });
        if (reply.status !== 401) open.push(`${method} ${path}: ${reply.status}`);
      }
    }
    expect(open).toEqual([]);
  });

  it('a route under /scim/ that does not declare the SCIM token stops the app from starting', async () => {
    const h = haven();
    const app = Fastify({ logger: false });
    registerAuthentication(app as never, h.database, h.config);
    expect(() => app.get('/scim/v2/Forgotten', async () => ({ open: true }))).toThrow(
      /\/scim\/v2\/Forgotten.*config\.scim/,
    );
    // Nor may a route elsewhere take the SCIM token.
    expect(() =>
      app.get(
        '/api/v1/sneaky',
        { config: { scim: true, access: { public: true } } },
        async () => ({}),
      ),
    ).toThrow(/sneaky/);
    expect(() => app.get('/elsewhere', { config: { scim: true } }, async () => ({}))).toThrow(
      /elsewhere/,
    );
    await app.close();
  });
});

describe('SCIM provisioning, as Entra ID runs it', () => {
  const haven = useHaven();

  it('creates 200 users, patches and deactivates some, manages group membership, and Haven agrees', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const token = await newToken(h, t);
    const tokenId = (await h.get('/api/v1/organisation/scim-tokens', t)).body.items[0].id;

    // Two members of staff added in Haven before provisioning, with passwords and a role:
    // Entra ID matches them by userName instead of creating them.
    const existing = [
      await createUser(h, t, { role: 'viewer', organisationId: org.organisationId }),
      await createUser(h, t, { role: 'viewer', organisationId: org.organisationId }),
    ];

    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const email = `teacher${String(i).padStart(3, '0')}@oak.sch.uk`;
      expect((await probe(h, token, email)).totalResults).toBe(0);
      const created = await scim(
        h,
        token,
        'POST',
        '/Users',
        entraUser(email, 'Teacher', `Number${i}`, `entra-${i}`),
      );
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(String(created.headers['content-type'])).toMatch(/^application\/scim\+json/);
      expect(created.headers.location).toBe(created.body.meta.location);
      expect(created.body).toMatchObject({
        schemas: [USER],
        userName: email,
        externalId: `entra-${i}`,
        displayName: `Teacher Number${i}`,
        name: { givenName: 'Teacher', familyName: `Number${i}` },
        active: true,
        emails: [{ value: email, type: 'work', primary: true }],
        meta: { resourceType: 'User' },
      });
      ids.push(created.body.id);
    }

    // The probe now finds each one, by any case of its address.
    const found = await probe(h, token, 'TEACHER007@Oak.Sch.UK');
    expect(found).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1 });
    expect(found.Resources[0].id).toBe(ids[7]);
    const byExternal = await scim(h, token, 'GET', '/Users', undefined, {
      filter: 'externalId eq "entra-42"',
    });
    expect(byExternal.body.Resources.map((u: any) => u.id)).toEqual([ids[42]]);

    // Paging: every user of the organisation once, 200 to a page at most.
    const seen = new Set<string>();
    for (let start = 1; ; start += 90) {
      const page = await scim(h, token, 'GET', '/Users', undefined, {
        startIndex: start,
        count: 90,
      });
      expect(page.status).toBe(200);
      expect(page.body.totalResults).toBe(203);
      expect(page.body.startIndex).toBe(start);
      for (const u of page.body.Resources) seen.add(u.id);
      if (page.body.Resources.length < 90) break;
    }
    expect(seen.size).toBe(203);
    const capped = await scim(h, token, 'GET', '/Users', undefined, { count: 1000 });
    expect(capped.body.itemsPerPage).toBe(200);
    const counted = await scim(h, token, 'GET', '/Users', undefined, { count: 0 });
    expect(counted.body).toMatchObject({ totalResults: 203, itemsPerPage: 0, Resources: [] });
    const beyond = await scim(h, token, 'GET', '/Users', undefined, { startIndex: 500 });
    expect(beyond.body).toMatchObject({ totalResults: 203, itemsPerPage: 0, Resources: [] });

    // Haven's own API lists them: Members, no role, not yet signed in.
    const listed = await h.get('/api/v1/users', t, { q: 'oak.sch.uk', limit: 200 });
    expect(listed.body.items).toHaveLength(200);
    const one = await havenUser(h, t, ids[0]!);
    expect(one).toMatchObject({ email: 'teacher000@oak.sch.uk', name: 'Teacher Number0' });
    expect(one.roles).toEqual([]);

    // Entra ID's updates: Replace on displayName, on name.givenName, on emails[type eq "work"].
    for (const id of ids.slice(0, 20)) {
      const reply = await scim(
        h,
        token,
        'PATCH',
        `/Users/${id}`,
        patch(
          { op: 'Replace', path: 'displayName', value: `Dr ${id.slice(-4)}` },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ignored@oak.sch.uk' },
          { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Maths' },
          // Attributes Haven does not keep, as Entra ID updates them: accepted, not kept.
          { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+44 7700 900000' },
          { op: 'Replace', path: 'addresses[type eq "work"].locality', value: 'Leeds' },
          { op: 'Replace', path: 'title', value: 'Head of Maths' },
        ),
      );
      expect(reply.status, JSON.stringify(reply.body)).toBe(200);
      expect(reply.body.displayName).toBe(`Dr ${id.slice(-4)}`);
    }
    expect((await havenUser(h, t, ids[3]!)).name).toBe(`Dr ${ids[3]!.slice(-4)}`);
    const given = await scim(
      h,
      token,
      'PATCH',
      `/Users/${ids[30]}`,
      patch({ op: 'Replace', path: 'name.givenName', value: 'Augusta' }),
    );
    expect(given.body).toMatchObject({
      displayName: 'Augusta Number30',
      name: { givenName: 'Augusta', familyName: 'Number30' },
    });
    expect((await havenUser(h, t, ids[30]!)).name).toBe('Augusta Number30');

    // Entra ID matches the staff Haven already had, then sets its externalId.
    const matched = await probe(h, token, existing[0]!.email);
    expect(matched.Resources).toHaveLength(1);
    for (const person of existing) {
      const reply = await scim(
        h,
        token,
        'PATCH',
        `/Users/${person.id}`,
        patch({ op: 'Add', path: 'externalId', value: `entra-${person.id}` }),
      );
      expect(reply.status).toBe(200);
    }

    // Deactivation, three ways: Replace active "False" (text), a Replace with no path, DELETE.
    expect((await h.get('/api/v1/me', existing[0]!.token)).status).toBe(200);
    const disable = [
      patch({ op: 'Replace', path: 'active', value: 'False' }),
      patch({ op: 'Replace', value: { active: false } }),
    ];
    const r0 = await scim(h, token, 'PATCH', `/Users/${existing[0]!.id}`, disable[0]);
    expect(r0.status, JSON.stringify(r0.body)).toBe(200);
    expect(r0.body.active).toBe(false);
    const r1 = await scim(h, token, 'PATCH', `/Users/${existing[1]!.id}`, disable[1]);
    expect(r1.body.active).toBe(false);
    for (const id of ids.slice(190, 200)) {
      expect((await scim(h, token, 'DELETE', `/Users/${id}`)).status).toBe(204);
    }
    for (const person of existing) {
      // Their sessions ended; they cannot sign in.
      expect((await h.get('/api/v1/me', person.token)).status).toBe(401);
      const signIn = await h.post('/api/v1/auth/login', undefined, {
        email: person.email,
        password: STRONG_PASSWORD,
      });
      expect(signIn.status).not.toBe(200);
      expect((await havenUser(h, t, person.id)).status).toBe('disabled');
    }
    const deleted = await scim(h, token, 'GET', `/Users/${ids[195]}`);
    expect(deleted.body.active).toBe(false);
    const disabled = await h.get('/api/v1/users', t, { status: 'disabled', limit: 200 });
    expect(disabled.body.items.map((u: any) => u.id).sort()).toEqual(
      [...existing.map((p) => p.id), ...ids.slice(190, 200)].sort(),
    );
    const activeFilter = await scim(h, token, 'GET', '/Users', undefined, {
      filter: 'active eq false',
    });
    expect(activeFilter.body.totalResults).toBe(12);

    // Provisioning enables again only an account it disabled itself.
    const back = await scim(
      h,
      token,
      'PATCH',
      `/Users/${ids[199]}`,
      patch({ op: 'Replace', path: 'active', value: 'True' }),
    );
    expect(back.body.active).toBe(true);
    expect((await havenUser(h, t, ids[199]!)).status).not.toBe('disabled');
    const suspended = ids[100]!;
    expect((await h.patch(`/api/v1/users/${suspended}`, t, { disabled: true })).status).toBe(200);
    expectScimError(
      await scim(
        h,
        token,
        'PATCH',
        `/Users/${suspended}`,
        patch({ op: 'Replace', path: 'active', value: true }),
      ),
      400,
      'mutability',
    );
    expect((await havenUser(h, t, suspended)).status).toBe('disabled');

    // Groups: Entra ID's probe by displayName, its POST, then members in and out.
    const lookup = await scim(h, token, 'GET', '/Groups', undefined, {
      excludedAttributes: 'members',
      filter: 'displayName eq "Science Department"',
    });
    expect(lookup.body.totalResults).toBe(0);
    const group = await scim(h, token, 'POST', '/Groups', {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Science Department',
      meta: { resourceType: 'Group' },
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const groupId = group.body.id;
    expect(group.body).toMatchObject({
      schemas: [GROUP],
      displayName: 'Science Department',
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      members: [],
    });
    const again = await scim(h, token, 'GET', '/Groups', undefined, {
      excludedAttributes: 'members',
      filter: 'displayName eq "science department"',
    });
    expect(again.body.Resources).toEqual([
      expect.not.objectContaining({ members: expect.anything() }),
    ]);
    expect(again.body.Resources[0].id).toBe(groupId);

    const science = ids.slice(0, 60);
    for (const slice of [science.slice(0, 30), science.slice(30)]) {
      const added = await scim(
        h,
        token,
        'PATCH',
        `/Groups/${groupId}`,
        patch({ op: 'Add', path: 'members', value: slice.map((value) => ({ value })) }),
      );
      expect(added.status, JSON.stringify(added.body)).toBe(204);
    }
    expect(await havenMembers(h, t, groupId)).toEqual([...science].sort());
    const removed = await scim(
      h,
      token,
      'PATCH',
      `/Groups/${groupId}`,
      patch(
        { op: 'Remove', path: `members[value eq "${science[0]}"]` },
        { op: 'Remove', path: 'members', value: [{ value: science[1] }, { value: science[2] }] },
        { op: 'Replace', path: 'displayName', value: 'Science Faculty' },
      ),
    );
    expect(removed.status, JSON.stringify(removed.body)).toBe(204);
    expect(await havenMembers(h, t, groupId)).toEqual(science.slice(3).sort());
    const havenGroup = (await h.get(`/api/v1/user-groups/${groupId}`, t)).body;
    expect(havenGroup).toMatchObject({ name: 'Science Faculty', memberCount: 57 });
    const read = await scim(h, token, 'GET', `/Groups/${groupId}`);
    expect(read.body.members.map((m: any) => m.value).sort()).toEqual(science.slice(3).sort());
    expect(read.body.members[0]).toMatchObject({ type: 'User', display: expect.any(String) });
    const byMember = await scim(h, token, 'GET', '/Groups', undefined, {
      filter: `members.value eq "${science[10]}"`,
      excludedAttributes: 'members',
    });
    expect(byMember.body.Resources.map((g: any) => g.id)).toEqual([groupId]);

    // PUT replaces the whole membership.
    const put = await scim(h, token, 'PUT', `/Groups/${groupId}`, {
      schemas: [GROUP],
      displayName: 'Science Faculty',
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      members: ids.slice(100, 105).map((value) => ({ value })),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await havenMembers(h, t, groupId)).toEqual(ids.slice(100, 105).sort());

    // A second group, deleted by provisioning: gone from SCIM and from Haven.
    const temporary = await scim(h, token, 'POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Trip 2026',
      members: [{ value: ids[0] }],
    });
    expect(temporary.status).toBe(201);
    expect((await scim(h, token, 'DELETE', `/Groups/${temporary.body.id}`)).status).toBe(204);
    expectScimError(await scim(h, token, 'GET', `/Groups/${temporary.body.id}`), 404);
    expect((await h.get(`/api/v1/user-groups/${temporary.body.id}`, t)).status).toBe(404);

    // Every change is in the audit log, from SCIM, with the token that made it.
    const rows = await auditRows(h, org.organisationId);
    const scimRows = rows.filter((r) => r.meta.via === 'scim');
    for (const r of scimRows) {
      expect(r.meta.scimTokenId).toBe(tokenId);
      expect(r.actor_user_id).toBeNull();
    }
    const creates = scimRows.filter((r) => r.action === 'user.create');
    expect(creates).toHaveLength(200);
    expect(creates[0]!.after).toMatchObject({
      email: 'teacher000@oak.sch.uk',
      externalId: 'entra-0',
      hasPassword: false,
    });
    const disabling = scimRows.filter(
      (r) => r.action === 'user.update' && r.after.disabledAt && r.before.disabledAt === null,
    );
    expect(disabling).toHaveLength(12);
    expect(disabling.filter((r) => r.meta.sessionsEnded === 1).map((r) => r.target_id)).toEqual(
      expect.arrayContaining(existing.map((p) => p.id)),
    );
    const actions = new Set(scimRows.map((r) => r.action));
    for (const action of [
      'user_group.create',
      'user_group.members.add',
      'user_group.members.remove',
      'user_group.update',
      'user_group.external_id',
      'user_group.delete',
    ])
      expect(actions).toContain(action);
    // Haven's own audit log shows them to its Owner the same way.
    const logged = await h.get('/api/v1/audit-log', t, { targetId: groupId, limit: 100 });
    expect(logged.status).toBe(200);
    const groupActions = logged.body.items.map((r: any) => r.action);
    expect(groupActions).toEqual(
      expect.arrayContaining([
        'user_group.create',
        'user_group.members.add',
        'user_group.members.remove',
      ]),
    );
    for (const row of logged.body.items) {
      expect(row.actor).toBeNull();
      expect(row.meta).toMatchObject({ via: 'scim', scimTokenId: tokenId });
    }
    // The refusal to enable the account a person disabled is not a change: no row.
    expect(
      scimRows.filter((r) => r.target_id === suspended && r.action === 'user.update'),
    ).toHaveLength(0);
  }, 120_000);

  it('reads a filtered list of users in one SQL query, paged in SQL', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const token = await newToken(h, org.ownerToken);
    for (let i = 0; i < 5; i++)
      await scim(h, token, 'POST', '/Users', entraUser(`p${i}@oak.sch.uk`, 'P', `${i}`, `e${i}`));
    const executor = h.database.db.getExecutor();
    const spy = vi.spyOn(executor, 'executeQuery');
    try {
      const reply = await scim(h, token, 'GET', '/Users', undefined, {
        filter: 'userName eq "p3@oak.sch.uk" or externalId eq "e4"',
        startIndex: 1,
        count: 10,
      });
      expect(reply.body.totalResults).toBe(2);
      const userQueries = spy.mock.calls
        .map(([query]) => query.sql)
        .filter((text) => /from "users"/.test(text));
      expect(userQueries).toHaveLength(1);
      expect(userQueries[0]).toMatch(/count\(\*\) over \(\)/);
      expect(userQueries[0]).toMatch(/limit .* offset/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('SCIM error answers (RFC 7644 section 3.12)', () => {
  const haven = useHaven();

  it('answers bad filters, unknown attributes and paths, duplicates and unknown ids as the RFC says', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const token = await newToken(h, org.ownerToken);
    const user = await scim(
      h,
      token,
      'POST',
      '/Users',
      entraUser('ada@oak.sch.uk', 'Ada', 'L', 'a'),
    );
    const id = user.body.id;
    const filter = (text: string) => scim(h, token, 'GET', '/Users', undefined, { filter: text });

    // Filters: malformed, an operator Haven does not take, an attribute it does not know.
    expectScimError(await filter('userName eq'), 400, 'invalidFilter');
    expectScimError(await filter('userName xx "a"'), 400, 'invalidFilter');
    expectScimError(await filter('(userName eq "a"'), 400, 'invalidFilter');
    expectScimError(await filter('favouriteColour eq "blue"'), 400, 'invalidFilter');
    expectScimError(await filter('userName co "ada"'), 400, 'invalidFilter');
    expectScimError(await filter('not (userName eq "ada@oak.sch.uk")'), 400, 'invalidFilter');
    expectScimError(await filter('title eq "Teacher"'), 400, 'invalidFilter');
    expectScimError(
      await scim(h, token, 'GET', '/Groups', undefined, { filter: 'userName eq "x"' }),
      400,
      'invalidFilter',
    );
    expectScimError(
      await scim(h, token, 'GET', '/Users', undefined, { startIndex: 'first' }),
      400,
      'invalidValue',
    );

    // PATCH paths: unknown, read-only, not matching, bad values, bad op.
    const patchUser = (...ops: object[]) => scim(h, token, 'PATCH', `/Users/${id}`, patch(...ops));
    expectScimError(
      await patchUser({ op: 'Replace', path: 'favouriteColour', value: 'blue' }),
      400,
      'invalidPath',
    );
    expectScimError(
      await patchUser({ op: 'Replace', path: 'name.nickname', value: 'x' }),
      400,
      'invalidPath',
    );
    expectScimError(
      await patchUser({ op: 'Add', path: `${ENTERPRISE}:shoeSize`, value: '9' }),
      400,
      'invalidPath',
    );
    expectScimError(
      await patchUser({ op: 'Add', path: 'addresses[type eq "work"].shoeSize', value: '9' }),
      400,
      'invalidPath',
    );
    expectScimError(
      await patchUser({ op: 'Replace', value: { active: false, shoeSize: '9' } }),
      400,
      'invalidPath',
    );
    expectScimError(
      await patchUser({ op: 'Replace', path: 'id', value: 'mine' }),
      400,
      'mutability',
    );
    expectScimError(
      await patchUser({ op: 'Add', path: 'groups', value: [{ value: 'g' }] }),
      400,
      'mutability',
    );
    expectScimError(
      await patchUser({ op: 'Add', path: 'emails[type eq "home"].value', value: 'x@y.z' }),
      400,
      'noTarget',
    );
    expectScimError(await patchUser({ op: 'Remove' }), 400, 'noTarget');
    expectScimError(
      await patchUser({ op: 'Replace', path: 'active', value: 'perhaps' }),
      400,
      'invalidValue',
    );
    expectScimError(
      await patchUser({ op: 'Frobnicate', path: 'active', value: false }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await scim(h, token, 'PATCH', `/Users/${id}`, { Operations: [] }),
      400,
      'invalidSyntax',
    );
    expectScimError(
      await patchUser({ op: 'Replace', path: 'userName', value: 'not an address' }),
      400,
      'invalidValue',
    );
    // Nothing of it was applied.
    expect((await scim(h, token, 'GET', `/Users/${id}`)).body).toMatchObject({
      active: true,
      userName: 'ada@oak.sch.uk',
    });

    // Creates: a userName in use (in any case) is 409 uniqueness; missing or bad values are 400.
    expectScimError(
      await scim(h, token, 'POST', '/Users', entraUser('ADA@oak.sch.uk', 'A', 'B', 'other')),
      409,
      'uniqueness',
    );
    expectScimError(
      await scim(h, token, 'POST', '/Users', entraUser(org.ownerEmail, 'O', 'O', 'o')),
      409,
      'uniqueness',
    );
    expectScimError(
      await scim(h, token, 'POST', '/Users', { schemas: [USER], displayName: 'No name' }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(h, token, 'POST', '/Users', { schemas: [USER], userName: 'not-an-email' }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim(h, token, 'POST', '/Users', { schemas: [GROUP], userName: 'g@oak.sch.uk' }),
      400,
      'invalidSyntax',
    );
    const broken = await h.request('POST', '/scim/v2/Users', {
      token,
      body: '{"userName": ',
      headers: { 'content-type': 'application/scim+json' },
    });
    expectScimError(broken, 400, 'invalidSyntax');
    expectScimError(
      await scim(h, token, 'POST', '/Groups', {
        schemas: [GROUP],
        displayName: 'Team',
        members: [{ value: 'nobody' }],
      }),
      400,
      'invalidValue',
    );
    expect(
      (await scim(h, token, 'GET', '/Groups', undefined, { filter: 'displayName eq "Team"' })).body
        .totalResults,
    ).toBe(0);
    const team = await scim(h, token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Team' });
    expect(team.status).toBe(201);
    expectScimError(
      await scim(h, token, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Team' }),
      409,
      'uniqueness',
    );
    expectScimError(
      await scim(
        h,
        token,
        'PATCH',
        `/Groups/${team.body.id}`,
        patch({ op: 'Remove', path: 'members[display eq "Ada"]' }),
      ),
      400,
      'invalidFilter',
    );
    expectScimError(
      await scim(
        h,
        token,
        'PATCH',
        `/Groups/${team.body.id}`,
        patch({ op: 'Replace', path: 'members.display', value: 'x' }),
      ),
      400,
      'invalidPath',
    );

    // Unknown ids: 404 for every verb, Users and Groups alike.
    const unknown = '01JZZZZZZZZZZZZZZZZZZZZZZZ';
    expectScimError(await scim(h, token, 'GET', `/Users/${unknown}`), 404);
    expectScimError(
      await scim(
        h,
        token,
        'PATCH',
        `/Users/${unknown}`,
        patch({ op: 'Replace', path: 'active', value: false }),
      ),
      404,
    );
    expectScimError(
      await scim(h, token, 'PUT', `/Users/${unknown}`, entraUser('z@oak.sch.uk', 'Z', 'Z', 'z')),
      404,
    );
    expectScimError(await scim(h, token, 'DELETE', `/Users/${unknown}`), 404);
    expectScimError(await scim(h, token, 'GET', `/Groups/${unknown}`), 404);
    expectScimError(await scim(h, token, 'DELETE', `/Groups/${unknown}`), 404);
    expectScimError(await scim(h, token, 'GET', '/Nowhere'), 404);
    expectScimError(await scim(h, token, 'GET', '/Schemas/urn:nothing'), 404);

    // The discovery endpoints answer with SCIMMY's schema definitions.
    const schemas = await scim(h, token, 'GET', '/Schemas');
    expect(schemas.body.Resources.map((s: any) => s.id)).toEqual([USER, GROUP, ENTERPRISE]);
    const types = await scim(h, token, 'GET', '/ResourceTypes');
    expect(types.body.Resources.map((t: any) => t.endpoint)).toEqual(['/Users', '/Groups']);
  });
});

describe('SCIM and the organisation boundary', () => {
  const haven = useHaven();

  it("a token of another organisation reaches none of this one's users or groups", async () => {
    const h = haven();
    const a = await setupOrganisation(h, { organisation: 'Oak Trust' });
    const b = await setupOrganisation(h, { organisation: 'Elm Trust', school: 'Elm Primary' });
    const tokenA = await newToken(h, a.ownerToken);
    const tokenB = await newToken(h, b.ownerToken);
    const userA = await scim(
      h,
      tokenA,
      'POST',
      '/Users',
      entraUser('ada@oak.sch.uk', 'Ada', 'L', 'x1'),
    );
    const groupA = await scim(h, tokenA, 'POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Oak team',
    });
    const groupB = await scim(h, tokenB, 'POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Elm team',
    });

    const listB = await scim(h, tokenB, 'GET', '/Users');
    expect(listB.body.totalResults).toBe(1);
    expect(listB.body.Resources[0].userName).toBe(b.ownerEmail);
    expect((await probe(h, tokenB, 'ada@oak.sch.uk')).totalResults).toBe(0);
    expect(
      (await scim(h, tokenB, 'GET', '/Users', undefined, { filter: 'externalId eq "x1"' })).body
        .totalResults,
    ).toBe(0);
    expectScimError(await scim(h, tokenB, 'GET', `/Users/${userA.body.id}`), 404);
    expectScimError(
      await scim(
        h,
        tokenB,
        'PATCH',
        `/Users/${userA.body.id}`,
        patch({ op: 'Replace', path: 'active', value: false }),
      ),
      404,
    );
    expectScimError(await scim(h, tokenB, 'DELETE', `/Users/${userA.body.id}`), 404);
    expectScimError(await scim(h, tokenB, 'GET', `/Groups/${groupA.body.id}`), 404);
    expectScimError(
      await scim(
        h,
        tokenB,
        'PATCH',
        `/Groups/${groupA.body.id}`,
        patch({ op: 'Replace', path: 'displayName', value: 'Mine' }),
      ),
      404,
    );
    // Nor may it put another organisation's user in its own group.
    expectScimError(
      await scim(
        h,
        tokenB,
        'PATCH',
        `/Groups/${groupB.body.id}`,
        patch({ op: 'Add', path: 'members', value: [{ value: userA.body.id }] }),
      ),
      400,
      'invalidValue',
    );
    expect((await scim(h, tokenB, 'GET', '/Groups')).body.Resources.map((g: any) => g.id)).toEqual([
      groupB.body.id,
    ]);
    // The same address may be someone else in another organisation.
    expect(
      (await scim(h, tokenB, 'POST', '/Users', entraUser('ada@oak.sch.uk', 'Ada', 'B', 'x2')))
        .status,
    ).toBe(201);
    // A's user is as it was.
    const still = await scim(h, tokenA, 'GET', `/Users/${userA.body.id}`);
    expect(still.body).toMatchObject({ active: true, externalId: 'x1', displayName: 'Ada L' });
    const groupStill = await scim(h, tokenA, 'GET', `/Groups/${groupA.body.id}`);
    expect(groupStill.body).toMatchObject({ displayName: 'Oak team', members: [] });
  });
});

describe('SCIM and anti-escalation', () => {
  const haven = useHaven();

  async function groupWith(
    h: TestHaven,
    org: TestOrg,
    name: string,
    setUp: (id: string) => Promise<void>,
  ) {
    const id = await createUserGroup(h, org.ownerToken, name);
    await setUp(id);
    return id;
  }

  it('cannot change the members of the Safeguarding Team, a clearance group, or a group holding Owner, DSL or Deputy DSL', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const token = await newToken(h, t);
    const tokenId = (await h.get('/api/v1/organisation/scim-tokens', t)).body.items[0].id;
    const person = await scim(
      h,
      token,
      'POST',
      '/Users',
      entraUser('new@oak.sch.uk', 'New', 'Person', 'n'),
    );
    const newcomer = person.body.id as string;
    const atOrg = { type: 'organisation' as const, id: org.organisationId };
    const atSchool = { type: 'school' as const, id: org.schoolId };

    // The Safeguarding Team is Haven's own group: SCIM does not see it.
    const { safeguardingTeamId } = await schoolDefaults(h, t, org.schoolId);
    const all = await scim(h, token, 'GET', '/Groups');
    expect(all.body.Resources.map((g: any) => g.id)).not.toContain(safeguardingTeamId);
    expect(all.body.totalResults).toBe(0);
    expectScimError(await scim(h, token, 'GET', `/Groups/${safeguardingTeamId}`), 404);
    const addTo = (groupId: string) =>
      scim(
        h,
        token,
        'PATCH',
        `/Groups/${groupId}`,
        patch({ op: 'Add', path: 'members', value: [{ value: newcomer }] }),
      );
    expectScimError(await addTo(safeguardingTeamId), 404);

    const clearance = await groupWith(h, org, 'Pastoral leads', async (id) => {
      const set = await h.post(`/api/v1/user-groups/${id}/batch`, t, {
        operations: [{ op: 'setClearances', clearances: ['child_protection'] }],
      });
      expect(set.status).toBe(200);
    });
    const owners = await groupWith(h, org, 'Trustees', async (id) => {
      await grantRole(h, t, { type: 'user_group', id }, 'owner', atOrg);
    });
    const dsls = await groupWith(h, org, 'DSL cover', async (id) => {
      await grantRole(h, t, { type: 'user_group', id }, 'dsl', atSchool);
    });
    const deputies = await groupWith(h, org, 'Deputies', async (id) => {
      await grantRole(h, t, { type: 'user_group', id }, 'deputy_dsl', atSchool);
    });
    for (const groupId of [clearance, owners, dsls, deputies]) {
      expectScimError(await addTo(groupId), 403);
      expect(await havenMembers(h, t, groupId)).toEqual([]);
      expectScimError(await scim(h, token, 'DELETE', `/Groups/${groupId}`), 403);
      expectScimError(
        await scim(h, token, 'PUT', `/Groups/${groupId}`, {
          schemas: [GROUP],
          displayName: 'Renamed',
          members: [],
        }),
        403,
      );
    }
    const refusals = (await auditRows(h, org.organisationId)).filter(
      (r) => r.category === 'denied' && r.meta.scimTokenId === tokenId,
    );
    expect(refusals.length).toBe(12);
    expect(refusals[0]).toMatchObject({
      action: 'request.forbidden',
      meta: { via: 'scim', status: 403 },
    });
    expect(await havenUser(h, t, newcomer)).toMatchObject({ roles: [] });

    // Just below: a group holding Admin, and one holding Viewer, take members from provisioning.
    const admins = await groupWith(h, org, 'Office', async (id) => {
      await grantRole(h, t, { type: 'user_group', id }, 'admin', atSchool);
    });
    const viewers = await groupWith(h, org, 'Teachers', async (id) => {
      await grantRole(h, t, { type: 'user_group', id }, 'viewer', atSchool);
    });
    for (const groupId of [admins, viewers]) {
      const added = await addTo(groupId);
      expect(added.status, JSON.stringify(added.body)).toBe(204);
      expect(await havenMembers(h, t, groupId)).toEqual([newcomer]);
    }
    const roles = (await havenUser(h, t, newcomer)).roles.map((r: any) => r.role).sort();
    expect(roles).toEqual(['admin', 'viewer']);
  });

  it('cannot disable an Owner, nor change the sign-in address of anyone holding a safeguarding role or a clearance', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const token = await newToken(h, t);
    const disable = patch({ op: 'Replace', path: 'active', value: 'False' });

    expectScimError(await scim(h, token, 'PATCH', `/Users/${org.ownerId}`, disable), 403);
    expectScimError(await scim(h, token, 'DELETE', `/Users/${org.ownerId}`), 403);
    expectScimError(
      await scim(
        h,
        token,
        'PATCH',
        `/Users/${org.ownerId}`,
        patch({ op: 'Replace', path: 'displayName', value: 'Mallory' }),
      ),
      403,
    );
    expect((await h.get('/api/v1/me', t)).status).toBe(200);

    const dsl = await createUser(h, t, {
      role: 'dsl',
      scope: { type: 'school', id: org.schoolId },
    });
    const moveAddress = (id: string, email: string) =>
      scim(
        h,
        token,
        'PATCH',
        `/Users/${id}`,
        patch({ op: 'Replace', path: 'userName', value: email }),
      );
    expectScimError(await moveAddress(dsl.id, 'attacker@evil.test'), 403);
    expect((await havenUser(h, t, dsl.id)).email).toBe(dsl.email);
    // A DSL's account may still be disabled by provisioning (a leaver): that takes nothing away.
    expect((await scim(h, token, 'PATCH', `/Users/${dsl.id}`, disable)).body.active).toBe(false);

    const teacher = await createUser(h, t, {
      role: 'viewer',
      scope: { type: 'school', id: org.schoolId },
    });
    const renamed = uniqueEmail('renamed');
    const moved = await moveAddress(teacher.id, renamed.toUpperCase());
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.userName).toBe(renamed);
    expect((await havenUser(h, t, teacher.id)).email).toBe(renamed);
    expect(await login(h, renamed)).toEqual(expect.any(String));
    expectScimError(await moveAddress(teacher.id, org.ownerEmail), 409, 'uniqueness');
  });
});

describe('SCIM changing a sign-in address', () => {
  const mailed = useHavenWithMail();

  it('ends the invitation and reset links sent to the old address: they no longer open the account', async () => {
    const { h, smtp, work } = mailed();
    const org = await setupOrganisation(h);
    const token = await newToken(h, org.ownerToken);
    // Invited at a mistyped address (someone else's mailbox), then corrected by the directory.
    const typo = uniqueEmail('jo.smith');
    const invited = await h.post('/api/v1/users', org.ownerToken, {
      email: typo,
      name: 'Jo Smith',
      invite: true,
    });
    expect(invited.status).toBe(201);
    // An active account whose reset link went to an address the directory then changed.
    const teacher = await createUser(h, org.ownerToken, { name: 'Tam Teacher' });
    expect(
      (await h.post('/api/v1/auth/password-reset', undefined, { email: teacher.email })).status,
    ).toBe(202);
    await work();
    const invitation = linkToken(smtp.to(typo)[0], '/accept-invitation');
    const reset = linkToken(smtp.to(teacher.email)[0], '/reset-password');

    for (const id of [invited.body.id, teacher.id]) {
      const moved = await scim(
        h,
        token,
        'PATCH',
        `/Users/${id}`,
        patch({ op: 'replace', path: 'userName', value: uniqueEmail('corrected') }),
      );
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    }

    const accepted = await h.post('/api/v1/auth/accept-invitation', undefined, {
      token: invitation,
      password: 'marble-Orchard-58-sparrow',
    });
    expect(accepted.status).toBe(400);
    expect(accepted.body.code).toBe('invalid_token');
    const confirmed = await h.post('/api/v1/auth/password-reset/confirm', undefined, {
      token: reset,
      password: 'marble-Orchard-58-sparrow',
    });
    expect(confirmed.status).toBe(400);
    expect(confirmed.body.code).toBe('invalid_token');
    // Nothing was set through the dead links: the invited person still has no password.
    const rows = await h.database.db
      .selectFrom('users')
      .select(['id', 'password_hash', 'activated_at'])
      .where('id', '=', invited.body.id)
      .executeTakeFirstOrThrow();
    expect(rows.password_hash).toBeNull();
    expect(rows.activated_at).toBeNull();
  });
});
