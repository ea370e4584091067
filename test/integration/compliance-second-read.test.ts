import { describe, expect, it } from 'vitest';
import { type AccessAuditRow, accessAuditRows } from '../../src/access/access-audit.ts';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  grantRole,
  setupOrganisation,
} from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';
import { school } from '../support/school.ts';

/**
 * A second, hostile read of issue 14's compliance change: each case failed before its fix
 * (docs/decisions.md, "2026-11-30: Second read of the compliance change").
 */

const DAY = 24 * 60 * 60 * 1000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

describe('compliance, second read', () => {
  const haven = useHaven();

  it("a school's report does not name another school's group through which a role is held", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const schoolB = await addSchool(h, t, 'Birch Academy');
    const atA = { type: 'school' as const, id: org.schoolId };
    const atB = { type: 'school' as const, id: schoolB };
    const atOrg = { type: 'organisation' as const, id: org.organisationId };
    // A group homed at school B holds a role at the organisation (so it concerns school A too).
    const birchLeads = await createUserGroup(h, t, 'Birch Secret Leads', { homeScope: atB });
    await grantRole(h, t, { type: 'user_group', id: birchLeads }, 'viewer', atOrg);
    const lead = await createUser(h, t, { name: 'Lee Lead' });
    await addMembers(h, t, birchLeads, [lead.id]);

    const rows: AccessAuditRow[] = [];
    for await (const row of accessAuditRows(h.database.db, {
      organisationId: org.organisationId,
      scope: atA,
      now: new Date().toISOString(),
    }))
      rows.push(row);
    const row = rows.find((r) => r.userId === lead.id);
    // The role at the organisation is school A's business; the group of school B is not.
    expect(row?.roles.map((r) => [r.role, r.scope.id])).toEqual([['viewer', org.organisationId]]);
    expect(row?.roles[0]?.via).not.toBeNull();
    const text = JSON.stringify(rows);
    expect(text).not.toContain('Birch Secret Leads');
    expect(text).not.toContain(birchLeads);

    // Through the API too, in every download.
    const admin = await createUser(h, t, { role: 'admin', scope: atA });
    const run = await h.post('/api/v1/reports/access-audit', admin.token, { scope: atA });
    expect(run.status).toBe(201);
    for (const format of ['json', 'csv']) {
      const got = await h.get(`/api/v1/reports/access-audit/${run.body.id}`, admin.token, {
        format,
      });
      expect(got.status).toBe(200);
      const body = typeof got.body === 'string' ? got.body : JSON.stringify(got.body);
      expect(body).not.toContain('Birch Secret Leads');
    }
    // The organisation's report still names it.
    const whole: AccessAuditRow[] = [];
    for await (const r of accessAuditRows(h.database.db, {
      organisationId: org.organisationId,
      scope: atOrg,
      now: new Date().toISOString(),
    }))
      whole.push(r);
    expect(whole.find((r) => r.userId === lead.id)?.roles[0]?.via?.name).toBe('Birch Secret Leads');
  });

  it('a member of a group that reaches children does not review it, and is not reminded to', async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { name: 'Ada Admin', role: 'admin', scope: s.atSchool });
    // Vera is a member of the Year 9 team (linked to Year 9: no role, no clearance) and owns it.
    const owned = await h.post(`/api/v1/user-groups/${s.team}/owners`, s.t, {
      userIds: [s.users.viewer.id],
    });
    expect(owned.status).toBe(200);
    const started = await h.post('/api/v1/access-reviews', admin.token, {
      scope: s.atSchool,
      dueAt: inDays(14),
    });
    expect(started.status).toBe(201);
    const review = started.body;
    const item = review.items.find((i: any) => i.userGroup.id === s.team);
    const url = `/api/v1/access-reviews/${review.id}/items/${item.id}`;

    // She sees her group's item, but confirming her own access to Year 9 is refused.
    const seen = await h.get(`/api/v1/access-reviews/${review.id}`, s.users.viewer.token);
    expect(seen.status).toBe(200);
    expect(seen.body.items[0].abilities.decide).toBe(false);
    expect(seen.body.toDecide).toBe(0);
    const own = await h.post(`${url}/decision`, s.users.viewer.token, {
      outcome: 'confirmed',
      note: 'Looks right to me',
    });
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('review_own_access');
    // Nor can she change it "through the review".
    const batch = await h.post(`/api/v1/user-groups/${s.team}/batch`, s.users.viewer.token, {
      operations: [{ op: 'removeMembers', userIds: [s.users.colleague.id] }],
      accessReviewId: review.id,
      accessReviewItemId: item.id,
    });
    expect(batch.status).toBe(403);
    const item0 = await h.database.db
      .selectFrom('access_review_items')
      .select('outcome')
      .where('id', '=', item.id)
      .executeTakeFirstOrThrow();
    expect(item0.outcome).toBeNull();

    // The reminder goes to whoever started the review instead.
    await h.services.worker.raiseReviewReminders(new Date());
    const alertsOf = async (token: string | undefined) =>
      ((await h.get('/api/v1/alerts', token)).body.items as any[]).filter(
        (a) => a.kind === 'access_review',
      );
    expect(await alertsOf(s.users.viewer.token)).toHaveLength(0);
    expect((await alertsOf(admin.token)).length).toBe(1);

    // An owner who is not a member decides it.
    const owen = await createUser(h, s.t, {
      name: 'Owen Owner',
      role: 'viewer',
      scope: s.atSchool,
    });
    await h.post(`/api/v1/user-groups/${s.team}/owners`, s.t, { userIds: [owen.id] });
    const decided = await h.post(`${url}/decision`, owen.token, {
      outcome: 'confirmed',
      note: 'Both still teach Year 9',
    });
    expect(decided.status).toBe(200);
  });

  it("a school's Admin seeing their items of the organisation's review is not shown its summary", async () => {
    const h = haven();
    const s = await school(h);
    const admin = await createUser(h, s.t, { role: 'admin', scope: s.atSchool });
    const whole = await h.post('/api/v1/access-reviews', s.t, {
      scope: { type: 'organisation', id: s.org.organisationId },
      dueAt: inDays(14),
    });
    expect(whole.status).toBe(201);
    const closed = await h.post(`/api/v1/access-reviews/${whole.body.id}/close`, s.t, {
      summary: 'Removed two leavers from the Elm Secret Panel',
      force: true,
    });
    expect(closed.status).toBe(200);
    expect(closed.body.summary).toContain('Elm Secret Panel');
    const partial = await h.get(`/api/v1/access-reviews/${whole.body.id}`, admin.token);
    expect(partial.status).toBe(200);
    expect(partial.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(partial.body)).not.toContain('Elm Secret Panel');
    expect(partial.body.auditRuns).toEqual({ start: null, close: null });
  });
});
