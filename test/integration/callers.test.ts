import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { epochTables } from '../../src/db/migrations/0025_access_epochs.ts';
import { buildApp } from '../../src/server/app.ts';
import type { HavenApp } from '../../src/server/http.ts';
import { addMembers, createUser, grantRole } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

// Each `haven serve` process keeps the callers it has worked out, by session, while their
// organisation's access epoch holds (src/access/callers.ts). A second app on the same database
// stands for a second process: it has its own kept callers, and every change is made through the
// first. Each check reads through the second app twice first, so what it answers is kept.

async function secondProcess(h: TestHaven): Promise<HavenApp> {
  return buildApp({ config: h.config, database: h.database, services: h.services });
}

async function get(app: HavenApp, url: string, token: string) {
  const reply = await app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: reply.statusCode, body: reply.json() };
}

async function epochOf(h: TestHaven, organisationId: string): Promise<number> {
  const row = await h.database.db
    .selectFrom('access_epochs')
    .select('epoch')
    .where('organisation_id', '=', organisationId)
    .executeTakeFirstOrThrow();
  return Number(row.epoch);
}

describe('callers kept by session', () => {
  const haven = useHaven();

  /** A school, and a second process on its database that is closed when `check` ends. */
  async function inTwoProcesses(
    check: (h: TestHaven, s: School, other: HavenApp) => Promise<void>,
  ): Promise<void> {
    const h = haven();
    const s = await school(h);
    const other = await secondProcess(h);
    try {
      await check(h, s, other);
    } finally {
      await other.close();
    }
  }

  it('a change made through one process restricts and widens the open sessions of another at their next request', () =>
    inTwoProcesses(async (h, s, other) => {
      const viewer = s.users.viewer.token!;
      const child = `/api/v1/students/${s.students.a}`;
      for (let i = 0; i < 2; i++) expect((await get(other, child, viewer)).status).toBe(200);

      // Out of the group linked to Year 9: the child is gone at once.
      const removed = await h.delete(
        `/api/v1/user-groups/${s.team}/members/${s.users.viewer.id}`,
        s.t,
      );
      expect(removed.status).toBe(204);
      expect((await get(other, child, viewer)).status).toBe(404);
      await addMembers(h, s.t, s.team, [s.users.viewer.id]);
      expect((await get(other, child, viewer)).status).toBe(200);

      // A role granted elsewhere shows in /me, and its end takes it away.
      const before = await get(other, '/api/v1/me', viewer);
      expect(before.body.roles).toHaveLength(1);
      const grantId = await grantRole(
        h,
        s.t,
        { type: 'user', id: s.users.viewer.id },
        'dsl',
        s.atSchool,
      );
      const widened = await get(other, '/api/v1/me', viewer);
      expect(widened.body.roles.map((r: any) => r.role).sort()).toEqual(['dsl', 'viewer']);
      expect((await h.delete(`/api/v1/role-grants/${grantId}`, s.t)).status).toBe(204);
      expect((await get(other, '/api/v1/me', viewer)).body.roles).toHaveLength(1);

      // A school renamed: the scope's name in /me follows.
      const renamed = await h.patch(`/api/v1/schools/${s.org.schoolId}`, s.t, {
        name: 'Northgate Academy',
      });
      expect(renamed.status).toBe(200);
      const me = await get(other, '/api/v1/me', viewer);
      expect(me.body.roles[0].scope.name).toBe('Northgate Academy');
    }));

  it('a school asking for two-factor enrolment stops a cleared user at their next request in every process', () =>
    inTwoProcesses(async (h, s, other) => {
      const dsl = s.users.dsl.token!;
      const list = '/api/v1/students';
      const off = await h.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, {
        requireMfaEnrolment: false,
      });
      expect(off.status).toBe(200);
      for (let i = 0; i < 2; i++) expect((await get(other, list, dsl)).status).toBe(200);
      const on = await h.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, {
        requireMfaEnrolment: true,
      });
      expect(on.status).toBe(200);
      const refused = await get(other, list, dsl);
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('mfa_enrolment_required');
      expect((await get(other, '/api/v1/me', dsl)).body.mfaEnrolmentRequired).toBe(true);
    }));

  it('a clearance taken from a group ends child-protection reading in the other process', () =>
    inTwoProcesses(async (h, s, other) => {
      const dsl = s.users.dsl.token!;
      // Reported by the Owner: the DSL reads it through the team's clearance alone.
      const reported = await h.post('/api/v1/incidents', s.t, {
        schoolId: s.org.schoolId,
        studentIds: [s.students.a],
        categoryId: s.category('child_protection'),
        occurredAt: '2026-11-20T12:40:00Z',
        description: 'Said an adult at home hurt them.',
      });
      expect(reported.status).toBe(201);
      const concern = `/api/v1/incidents/${reported.body.id}`;
      for (let i = 0; i < 2; i++) expect((await get(other, concern, dsl)).status).toBe(200);
      const cleared = await h.put(`/api/v1/user-groups/${s.safeguardingTeamId}/clearances`, s.t, {
        clearances: [],
      });
      expect(cleared.status).toBe(200);
      expect((await get(other, concern, dsl)).status).toBe(404);
    }));

  it('a signed-out or disabled session is refused at once, whatever was kept', () =>
    inTwoProcesses(async (h, s, other) => {
      const colleague = s.users.colleague.token!;
      for (let i = 0; i < 2; i++)
        expect((await get(other, '/api/v1/me', colleague)).status).toBe(200);
      expect((await h.post('/api/v1/auth/logout', colleague)).status).toBe(204);
      expect((await get(other, '/api/v1/me', colleague)).status).toBe(401);

      const outsider = s.users.outsider.token!;
      for (let i = 0; i < 2; i++)
        expect((await get(other, '/api/v1/me', outsider)).status).toBe(200);
      const disabled = await h.patch(`/api/v1/users/${s.users.outsider.id}`, s.t, {
        disabled: true,
      });
      expect(disabled.status).toBe(200);
      expect((await get(other, '/api/v1/me', outsider)).status).toBe(401);
    }));

  it('every table a caller rests on raises its organisation’s epoch; PostgreSQL raises it once per transaction', async () => {
    const h = haven();
    const s = await school(h);
    const orgId = s.org.organisationId;
    const postgres = h.database.engine === 'postgres';

    // Three members added in one request: one transaction.
    const a = await createUser(h, s.t, { name: 'Ann' });
    const b = await createUser(h, s.t, { name: 'Ben' });
    const c = await createUser(h, s.t, { name: 'Cal' });
    const before = await epochOf(h, orgId);
    await addMembers(h, s.t, s.team, [a.id, b.id, c.id]);
    const after = await epochOf(h, orgId);
    expect(after).toBeGreaterThan(before);
    if (postgres) expect(after).toBe(before + 1);

    // Every table: a row changed by hand raises it too (no writer can forget).
    for (const { table, organisationColumn } of epochTables) {
      const was = await epochOf(h, orgId);
      await sql`update ${sql.table(table)} set ${sql.ref(organisationColumn)} = ${sql.ref(organisationColumn)} where ${sql.ref(organisationColumn)} = ${orgId}`.execute(
        h.database.db,
      );
      const count = await sql<{
        n: number | string;
      }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(organisationColumn)} = ${orgId}`.execute(
        h.database.db,
      );
      if (Number(count.rows[0]!.n) === 0) continue;
      expect(await epochOf(h, orgId), table).toBeGreaterThan(was);
    }
  });
});
