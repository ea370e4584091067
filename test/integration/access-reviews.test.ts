import { describe, expect, it } from 'vitest';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  schoolDefaults,
} from '../support/factories.ts';
import { startHaven, type TestHaven, useHaven } from '../support/haven.ts';
import { school } from '../support/school.ts';
import { TestSmtpServer } from '../support/smtp.ts';

const DAY = 24 * 60 * 60 * 1000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

/** The live groups homed at a scope, straight from the database (what a review must hold). */
async function groupsHomedAt(h: TestHaven, organisationId: string, schoolId?: string) {
  let query = h.database.db
    .selectFrom('user_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null);
  if (schoolId)
    query = query.where('home_scope_type', '=', 'school').where('home_scope_id', '=', schoolId);
  return (await query.execute()).map((g) => g.id).sort();
}

/** A school with a second school, a school Admin of the first, and an owner of its Year 9 team. */
async function world(h: TestHaven) {
  const s = await school(h);
  const t = s.t;
  const otherSchoolId = await addSchool(h, t, 'Elm Academy');
  const admin = await createUser(h, t, { name: 'Ada Admin', role: 'admin', scope: s.atSchool });
  // Owen owns the Year 9 team without being in it (a member, whom it gives Year 9, may not review it).
  const owner = await createUser(h, t, { name: 'Owen Owner', role: 'viewer', scope: s.atSchool });
  const owned = await h.post(`/api/v1/user-groups/${s.team}/owners`, t, {
    userIds: [owner.id],
  });
  expect(owned.status).toBe(200);
  return { ...s, otherSchoolId, admin, owner };
}

const start = (h: TestHaven, token: string | undefined, scope: object, extra: object = {}) =>
  h.post('/api/v1/access-reviews', token, { scope, dueAt: inDays(14), ...extra });

const itemOf = (review: any, groupId: string) =>
  review.items.find((i: any) => i.userGroup.id === groupId);

describe('termly access reviews', () => {
  const haven = useHaven();

  it('starts a review with one item per group homed in its scope, seen only by who may', async () => {
    const h = haven();
    const w = await world(h);
    const adminToken = w.admin.token!;

    const ofSchool = await start(h, adminToken, w.atSchool, { title: 'Autumn term' });
    expect(ofSchool.status).toBe(201);
    expect(ofSchool.body).toMatchObject({
      title: 'Autumn term',
      status: 'open',
      scope: { type: 'school', id: w.org.schoolId, name: 'Oak Primary' },
      abilities: { close: true },
    });
    const schoolGroups = await groupsHomedAt(h, w.org.organisationId, w.org.schoolId);
    expect(ofSchool.body.items.map((i: any) => i.userGroup.id).sort()).toEqual(schoolGroups);
    expect(ofSchool.body.progress).toEqual({ decided: 0, total: schoolGroups.length });
    // An Access Audit Report run of the scope was taken as it started.
    expect(ofSchool.body.auditRuns).toEqual({ start: expect.any(String), close: null });
    // A group homed at the organisation is not the school's to review.
    const orgGroup = await createUserGroup(h, w.t, 'Trust IT');
    expect(schoolGroups).not.toContain(orgGroup);

    // A school's Admin neither starts the organisation's review nor sees another school's.
    const ofOrganisation = { type: 'organisation', id: w.org.organisationId };
    expect((await start(h, adminToken, ofOrganisation)).status).toBe(403);
    const elsewhere = await start(h, w.t, { type: 'school', id: w.otherSchoolId });
    expect(elsewhere.status).toBe(201);
    expect((await h.get(`/api/v1/access-reviews/${elsewhere.body.id}`, adminToken)).status).toBe(
      404,
    );
    expect((await start(h, adminToken, { type: 'school', id: w.otherSchoolId })).status).toBe(403);
    const listed = await h.get('/api/v1/access-reviews', adminToken);
    expect(listed.body.items.map((r: any) => r.id)).toEqual([ofSchool.body.id]);

    const whole = await start(h, w.t, ofOrganisation);
    expect(whole.status).toBe(201);
    expect(whole.body.items.map((i: any) => i.userGroup.id).sort()).toEqual(
      await groupsHomedAt(h, w.org.organisationId),
    );
    // In the organisation's review, the school's Admin sees just the groups homed at their school.
    const partial = await h.get(`/api/v1/access-reviews/${whole.body.id}`, adminToken);
    expect(partial.status).toBe(200);
    expect(partial.body.items.map((i: any) => i.userGroup.id).sort()).toEqual(schoolGroups);
    expect(partial.body.abilities.close).toBe(false);
    expect(
      (await h.post(`/api/v1/access-reviews/${whole.body.id}/close`, adminToken, { summary: 'x' }))
        .status,
    ).toBe(403);
    // Someone who neither owns nor administers a group in it does not know it exists.
    const outsider = w.users.outsider.token!;
    expect((await h.get(`/api/v1/access-reviews/${whole.body.id}`, outsider)).status).toBe(404);
    expect((await h.get('/api/v1/access-reviews', outsider)).body.items).toEqual([]);
  });

  it("is decided by a group's owners, never by those it gives access to, and counts progress", async () => {
    const h = haven();
    const w = await world(h);
    const review = (await start(h, w.t, w.atSchool)).body;
    const team = itemOf(review, w.team);
    const url = `/api/v1/access-reviews/${review.id}/items/${team.id}`;

    // The owner sees just their group's item, and decides it.
    const asOwner = await h.get(`/api/v1/access-reviews/${review.id}`, w.owner.token);
    expect(asOwner.body.items.map((i: any) => i.id)).toEqual([team.id]);
    expect(asOwner.body.items[0].abilities.decide).toBe(true);
    expect(asOwner.body.toDecide).toBe(1);
    // A member who does not own it, and a Viewer in no way related, may not.
    for (const token of [w.users.colleague.token, w.users.outsider.token]) {
      expect((await h.get(url, token)).status).toBe(404);
      expect(
        (await h.post(`${url}/decision`, token, { outcome: 'confirmed', note: 'fine' })).status,
      ).toBe(404);
    }
    const decided = await h.post(`${url}/decision`, w.owner.token, {
      outcome: 'confirmed',
      note: 'Both members still teach Year 9',
    });
    expect(decided.status).toBe(200);
    expect(itemOf(decided.body, w.team)).toMatchObject({
      status: 'confirmed',
      decision: {
        outcome: 'confirmed',
        note: 'Both members still teach Year 9',
        decidedBy: { id: w.owner.id, name: 'Owen Owner' },
      },
    });
    const full = (await h.get(`/api/v1/access-reviews/${review.id}`, w.t)).body;
    expect(full.progress).toEqual({ decided: 1, total: review.items.length });
    expect(full.decisions).toHaveLength(1);
    expect(
      (await h.post(`${url}/decision`, w.owner.token, { outcome: 'confirmed', note: ' ' })).status,
    ).toBe(400);

    // The DSL is in the Safeguarding Team (child-protection clearance): made its owner, they still
    // may not confirm their own access; an Admin at the school may.
    await h.post(`/api/v1/user-groups/${w.safeguardingTeamId}/owners`, w.t, {
      userIds: [w.users.dsl.id],
    });
    const team2 = itemOf(review, w.safeguardingTeamId);
    const own = await h.post(
      `/api/v1/access-reviews/${review.id}/items/${team2.id}/decision`,
      w.users.dsl.token,
      { outcome: 'confirmed', note: 'All as it should be' },
    );
    expect(own.status).toBe(403);
    expect(own.body.code).toBe('review_own_access');
    const byAdmin = await h.post(
      `/api/v1/access-reviews/${review.id}/items/${team2.id}/decision`,
      w.admin.token,
      { outcome: 'changed', note: 'Removed a leaver' },
    );
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.progress.decided).toBe(2);

    const log = await h.get('/api/v1/audit-log', w.t, { targetId: review.id });
    expect(log.body.items.map((r: any) => r.action)).toEqual(
      expect.arrayContaining(['access_review.start', 'access_review.decide']),
    );
  });

  it('makes changes through an item, with the review on every audit row of the change', async () => {
    const h = haven();
    const w = await world(h);
    const review = (await start(h, w.t, w.atSchool)).body;
    const team = itemOf(review, w.team);
    const other = itemOf(review, w.safeguardingTeamId);
    const batch = (token: string | undefined, itemId: string, groupId = w.team) =>
      h.post(`/api/v1/user-groups/${groupId}/batch`, token, {
        operations: [{ op: 'removeMembers', userIds: [w.users.colleague.id] }],
        accessReviewId: review.id,
        accessReviewItemId: itemId,
      });

    // Another group's item, or one the caller does not review, does not carry a change.
    expect((await batch(w.owner.token, other.id)).status).toBe(404);
    expect((await batch(w.t, other.id)).status).toBe(400);
    const made = await batch(w.owner.token, team.id);
    expect(made.status).toBe(200);

    const log = await h.get('/api/v1/audit-log', w.t, { targetId: w.team });
    const removal = log.body.items.find((r: any) => r.action === 'user_group.members.remove');
    expect(removal.meta).toMatchObject({ accessReviewId: review.id, accessReviewItemId: team.id });
    expect(removal.actor.id).toBe(w.owner.id);
    const detail = await h.get(`/api/v1/access-reviews/${review.id}/items/${team.id}`, w.t);
    // Never reviewed: everything since the group was made, newest first, the removal on top.
    const memberChanges = detail.body.changes.filter((c: any) => c.kind === 'member');
    expect(memberChanges.map((c: any) => `${c.user.id} ${c.change}`).sort()).toEqual(
      [
        `${w.users.colleague.id} removed`,
        `${w.users.colleague.id} added`,
        `${w.users.viewer.id} added`,
      ].sort(),
    );
    const change = memberChanges[0];
    expect(change).toMatchObject({
      user: { id: w.users.colleague.id },
      by: { id: w.owner.id },
      accessReviewId: review.id,
    });

    // Once the review is closed, nothing more is made through it.
    const closed = await h.post(`/api/v1/access-reviews/${review.id}/close`, w.t, {
      summary: 'Done',
      force: true,
    });
    expect(closed.status).toBe(200);
    const late = await h.post(`/api/v1/user-groups/${w.team}/batch`, w.t, {
      operations: [{ op: 'addMembers', userIds: [w.users.colleague.id] }],
      accessReviewId: review.id,
      accessReviewItemId: team.id,
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('review_closed');
  });

  it('closes with a summary, and the next review shows what changed since', async () => {
    const h = haven();
    const w = await world(h);
    const first = (await start(h, w.t, w.atSchool)).body;
    const team = itemOf(first, w.team);
    const closeUrl = `/api/v1/access-reviews/${first.id}/close`;
    await h.post(`/api/v1/access-reviews/${first.id}/items/${team.id}/decision`, w.t, {
      outcome: 'confirmed',
      note: 'Still right',
    });

    const refused = await h.post(closeUrl, w.t, { summary: 'Termly review done' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('review_undecided');
    const closed = await h.post(closeUrl, w.t, { summary: 'Termly review done', force: true });
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: 'closed',
      summary: 'Termly review done',
      closedBy: { id: w.org.ownerId },
    });
    expect(itemOf(closed.body, w.safeguardingTeamId).status).toBe('not_decided');
    expect(closed.body.auditRuns.close).toEqual(expect.any(String));
    expect(closed.body.auditRuns.close).not.toBe(closed.body.auditRuns.start);
    expect((await h.post(closeUrl, w.t, { summary: 'again', force: true })).status).toBe(409);

    // The decided group was reviewed when the review closed; the undecided one never was.
    const group = (await h.get(`/api/v1/user-groups/${w.team}`, w.t)).body;
    expect(group).toMatchObject({ lastReviewedAt: closed.body.closedAt, lastReviewId: first.id });
    const listed = (await h.get('/api/v1/user-groups', w.t, { limit: 200 })).body.items;
    expect(listed.find((g: any) => g.id === w.team).lastReviewedAt).toBe(closed.body.closedAt);
    expect(listed.find((g: any) => g.id === w.safeguardingTeamId).lastReviewedAt).toBeNull();

    await pause();
    await addMembers(h, w.t, w.team, [w.users.outsider.id]);
    const left = await h.delete(
      `/api/v1/user-groups/${w.team}/members/${w.users.colleague.id}`,
      w.t,
    );
    expect(left.status).toBe(204);
    const second = (await start(h, w.t, w.atSchool)).body;
    const next = itemOf(second, w.team);
    expect(next.since).toBe(closed.body.closedAt);
    const detail = (await h.get(`/api/v1/access-reviews/${second.id}/items/${next.id}`, w.t)).body;
    const joined = detail.changes.filter((c: any) => c.kind === 'member');
    // Olga joined after the last review and Colin left; Vera and Colin joined long before it.
    expect(joined.map((c: any) => [c.user.id, c.change])).toEqual([
      [w.users.colleague.id, 'removed'],
      [w.users.outsider.id, 'added'],
    ]);
    expect(joined[1].by).toEqual({ id: w.org.ownerId, name: 'Olive Owner' });
    expect(detail.members.filter((m: any) => m.new).map((m: any) => m.id)).toEqual([
      w.users.outsider.id,
    ]);
    expect(detail.members).toHaveLength(2);
    expect(detail.studentLinks).toHaveLength(1);
    expect(detail.studentLinks[0].new).toBe(false);
    // A group never reviewed shows everything since it was made, its DSL's joining too.
    const safeguarding = itemOf(second, w.safeguardingTeamId);
    const never = (await h.get(`/api/v1/access-reviews/${second.id}/items/${safeguarding.id}`, w.t))
      .body;
    expect(never.changes.map((c: any) => c.user?.id)).toContain(w.users.dsl.id);
  });

  it('reminds the reviewers of undecided items once at the start, once when due soon', async () => {
    const h = haven();
    const w = await world(h);
    const { safeguardingTeamId } = await schoolDefaults(h, w.t, w.otherSchoolId);
    expect(safeguardingTeamId).toBeTruthy();
    const review = (await start(h, w.admin.token, w.atSchool)).body;
    const alertsOf = async (token: string | undefined) =>
      ((await h.get('/api/v1/alerts', token)).body.items as any[]).filter(
        (a) => a.kind === 'access_review',
      );
    const worker = h.services.worker;

    expect(await worker.raiseReviewReminders(new Date())).toBeGreaterThan(0);
    expect(await worker.raiseReviewReminders(new Date())).toBe(0);
    const told = await alertsOf(w.owner.token);
    expect(told).toHaveLength(1);
    expect(told[0].message).toContain('1 user group awaits your decision');
    // Groups with no owner who may decide them fall to whoever started the review.
    expect(await alertsOf(w.admin.token)).toHaveLength(1);
    expect(await alertsOf(w.users.outsider.token)).toHaveLength(0);

    // Due within three days: one reminder more, to those still undecided.
    await h.post(
      `/api/v1/access-reviews/${review.id}/items/${itemOf(review, w.team).id}/decision`,
      w.owner.token,
      {
        outcome: 'confirmed',
        note: 'Fine',
      },
    );
    const soon = new Date(Date.parse(review.dueAt) - 2 * DAY);
    expect(await worker.raiseReviewReminders(soon)).toBe(1);
    expect(await worker.raiseReviewReminders(soon)).toBe(0);
    expect(await alertsOf(w.owner.token)).toHaveLength(1);
    const adminAlerts = await alertsOf(w.admin.token);
    expect(adminAlerts).toHaveLength(2);
    expect(adminAlerts[0].message).toMatch(/is due on/);
    const late = new Date(Date.parse(review.dueAt) + DAY);
    expect(await worker.raiseReviewReminders(late)).toBe(1);
    expect(await worker.raiseReviewReminders(late)).toBe(0);
  });

  it('emails the reminder when email is on, naming no group, no person and no child', async () => {
    const smtp = await new TestSmtpServer().start();
    const h = await startHaven({
      HAVEN_SMTP_URL: smtp.url,
      HAVEN_MAIL_FROM: 'Haven <haven@school.example>',
      HAVEN_PUBLIC_URL: 'https://haven.school.example',
    });
    try {
      const w = await world(h);
      const review = (await start(h, w.admin.token, w.atSchool, { title: 'Year 9 check' })).body;
      await h.services.worker.runOnce();
      const mail = smtp.to(w.owner.email);
      expect(mail).toHaveLength(1);
      expect(mail[0]!.text).toContain(`https://haven.school.example/access-reviews/${review.id}`);
      expect(mail[0]!.text).toContain('Oak Primary');
      for (const word of ['Year 9', 'Adams', 'Vera', 'Colin'])
        expect(mail[0]!.text).not.toContain(word);
      // Once: a second pass sends nothing more.
      await h.services.worker.runOnce();
      expect(smtp.to(w.owner.email)).toHaveLength(1);
    } finally {
      await h.close();
      await smtp.close();
    }
  });
});
