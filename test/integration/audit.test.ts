import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runHaven, spawnHaven } from '../support/cli.ts';
import { createUser, setupOrganisation, type TestOrg } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

/** A little history: an organisation, a renamed school, two users, a grant. */
async function someHistory(h: TestHaven): Promise<TestOrg> {
  const org = await setupOrganisation(h);
  await h.patch(`/api/v1/schools/${org.schoolId}`, org.ownerToken, { name: 'Oak Primary School' });
  await createUser(h, org.ownerToken, { role: 'viewer', organisationId: org.organisationId });
  await createUser(h, org.ownerToken, { name: 'Second Teacher' });
  return org;
}

async function orgChainRows(h: TestHaven, org: TestOrg) {
  return h.database.db
    .selectFrom('audit_events')
    .select(['id', 'seq', 'action'])
    .where('chain_id', '=', org.organisationId)
    .orderBy('seq')
    .execute();
}

describe('audit log', () => {
  const haven = useHaven();

  it('records every change with actor, UTC time, action, target, before and after', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const user = await createUser(h, org.ownerToken, { name: 'Ann Teacher' });
    await h.patch(`/api/v1/users/${user.id}`, org.ownerToken, { name: 'Ann Smith' });
    const log = await h.get('/api/v1/audit-log', org.ownerToken, { targetId: user.id });
    expect(log.status).toBe(200);
    const [update, create] = log.body.items;
    expect(update).toMatchObject({
      category: 'change',
      action: 'user.update',
      actor: { id: org.ownerId, name: 'Olive Owner' },
      target: { type: 'user', id: user.id },
      before: { name: 'Ann Teacher', disabledAt: null },
      after: { name: 'Ann Smith', disabledAt: null },
    });
    expect(update.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(update.meta.requestId).toEqual(expect.any(String));
    expect(create.action).toBe('user.create');
    expect(JSON.stringify(log.body)).not.toMatch(/argon2|password_hash/);
  });

  it('records refused requests (401 and 403) with who asked and for what', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const viewer = await createUser(h, org.ownerToken, {
      role: 'viewer',
      organisationId: org.organisationId,
    });
    await h.get('/api/v1/users');
    await h.post('/api/v1/schools', viewer.token, { name: 'Sneaky School' });
    const denied = await h.get('/api/v1/audit-log', org.ownerToken, { category: 'denied' });
    expect(denied.body.items).toEqual([
      expect.objectContaining({
        action: 'request.forbidden',
        actor: expect.objectContaining({ id: viewer.id }),
        meta: expect.objectContaining({ method: 'POST', route: '/api/v1/schools', status: 403 }),
      }),
    ]);
    const anonymous = await h.database.db
      .selectFrom('audit_events')
      .select(['chain_id', 'meta_json'])
      .where('action', '=', 'request.unauthorized')
      .execute();
    expect(anonymous).toHaveLength(1);
    expect(anonymous[0]!.chain_id).toBe('installation');
    expect(JSON.parse(anonymous[0]!.meta_json!)).toMatchObject({
      path: '/api/v1/users',
      status: 401,
    });
  });

  it('writes nothing, change or audit, when a change is refused half-way', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const grants = await h.get('/api/v1/role-grants', org.ownerToken, { userId: org.ownerId });
    const reply = await h.delete(`/api/v1/role-grants/${grants.body.items[0].id}`, org.ownerToken);
    expect(reply.status).toBe(409);
    const revokes = await h.get('/api/v1/audit-log', org.ownerToken, {
      action: 'role_grant.revoke',
    });
    expect(revokes.body.items).toEqual([]);
    expect(
      (await h.get('/api/v1/role-grants', org.ownerToken, { userId: org.ownerId })).body.items,
    ).toHaveLength(1);
  });

  it('pages newest first with a cursor', async () => {
    const h = haven();
    const org = await someHistory(h);
    const first = await h.get('/api/v1/audit-log', org.ownerToken, { limit: 3 });
    expect(first.body.items).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await h.get('/api/v1/audit-log', org.ownerToken, {
      limit: 3,
      cursor: first.body.nextCursor,
    });
    const ids = [...first.body.items, ...second.body.items].map((e: { id: string }) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort().reverse()).toEqual(ids);
  });

  it('verifies an untouched chain', async () => {
    const h = haven();
    await someHistory(h);
    const result = await runHaven(h, ['audit', 'verify']);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^OK: 2 chains, \d+ rows/);
  });

  it('names a row whose contents were edited', async () => {
    const h = haven();
    const org = await someHistory(h);
    const rows = await orgChainRows(h, org);
    const target = rows[2]!;
    await h.database.db
      .updateTable('audit_events')
      .set({ after_json: '{"name":"Nothing to see"}' })
      .where('id', '=', target.id)
      .execute();
    const result = await runHaven(h, ['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`row ${target.seq} (${target.id}, ${target.action}) was edited`);
  });

  it('names where a row was deleted from the middle and from the end', async () => {
    const h = haven();
    const org = await someHistory(h);
    const rows = await orgChainRows(h, org);
    const gone = rows[3]!;
    const next = rows[4]!;
    await h.database.db.deleteFrom('audit_events').where('id', '=', gone.id).execute();
    const middle = await runHaven(h, ['audit', 'verify']);
    expect(middle.code).toBe(1);
    expect(middle.out).toContain(
      `row ${next.seq} (${next.id}) has lost its predecessor: rows ${gone.seq} to ${gone.seq} were deleted`,
    );

    // Cutting the last row of the other chain is caught by its head.
    const installation = await h.database.db
      .selectFrom('audit_events')
      .select(['id', 'seq'])
      .where('chain_id', '=', 'installation')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    await h.database.db.deleteFrom('audit_events').where('id', '=', installation.id).execute();
    const end = await runHaven(h, ['audit', 'verify']);
    expect(end.out).toContain(
      `BROKEN chain installation: rows ${installation.seq} to ${installation.seq} at the end of the chain were deleted`,
    );
  });

  it('names a row that was reordered', async () => {
    const h = haven();
    const org = await someHistory(h);
    const rows = await orgChainRows(h, org);
    const [a, b] = [rows[2]!, rows[3]!];
    await sql`update audit_events set seq = -1 where id = ${a.id}`.execute(h.database.db);
    await sql`update audit_events set seq = ${a.seq} where id = ${b.id}`.execute(h.database.db);
    await sql`update audit_events set seq = ${b.seq} where id = ${a.id}`.execute(h.database.db);
    const result = await runHaven(h, ['audit', 'verify']);
    expect(result.code).toBe(1);
    expect(result.out).toContain(`row ${a.seq} (${b.id}) was reordered`);
  });

  it('runs as the real haven command', async () => {
    const h = haven();
    const org = await someHistory(h);
    const ok = await spawnHaven(h, ['audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('OK: 2 chains');
    const rows = await orgChainRows(h, org);
    await h.database.db
      .updateTable('audit_events')
      .set({ action: 'tea.break' })
      .where('id', '=', rows[1]!.id)
      .execute();
    const broken = await spawnHaven(h, ['audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`row ${rows[1]!.seq} (${rows[1]!.id}, tea.break) was edited`);
  });
});
