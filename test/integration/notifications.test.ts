import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { londonDate, londonInstant } from '../../src/lib/london-time.ts';
import {
  addMembers,
  addSchool,
  blockStudent,
  createUser,
  grantRole,
  login,
} from '../support/factories.ts';
import { startHaven, type TestHaven } from '../support/haven.ts';
import { logConcern, school } from '../support/school.ts';
import { TestSmtpServer } from '../support/smtp.ts';

let smtp: TestSmtpServer;
let h: TestHaven;

beforeEach(async () => {
  smtp = await new TestSmtpServer().start();
  h = await startHaven({
    HAVEN_SMTP_URL: smtp.url,
    HAVEN_MAIL_FROM: 'Haven <haven@school.example>',
    HAVEN_PUBLIC_URL: 'https://haven.school.example',
    HAVEN_MAIL_RETRY_BASE_MS: '1000',
    HAVEN_MAIL_MAX_ATTEMPTS: '2',
  });
});

afterEach(async () => {
  await h.close();
  await smtp.close();
});

/** One pass of the worker, as `haven serve` runs every few seconds. */
const work = (at?: Date) => h.services.worker.runOnce(at);

const alertsOf = async (token: string) =>
  (await h.get('/api/v1/alerts', token)).body.items as any[];

describe('a concern tells the people its category names, and only those who may read it', () => {
  it('a teacher in no group reports about a child; the DSL gets an email without the child, and an alert', async () => {
    const s = await school(h);
    // Setting the school up raised security alerts; start from an empty mailbox.
    await work();
    smtp.received.length = 0;
    // The lunchtime supervisor: a role at the school, in no user group, sees no child.
    const supervisor = s.users.outsider;
    const reported = await h.post('/api/v1/incidents', supervisor.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.c],
      categoryId: s.category('child_protection'),
      occurredAt: '2026-11-20T12:40:00Z',
      description: 'Bruising on both wrists; said not to tell anyone.',
    });
    expect(reported.status).toBe(201);
    expect(reported.body.receipt.delivery).toBe('immediate');
    const id = reported.body.id as string;

    // The alert is there at once, before any email.
    expect(
      (await alertsOf(s.users.dsl.token!)).some(
        (a) => a.kind === 'incident_logged' && a.incidentId === id,
      ),
    ).toBe(true);

    const pass = await work();
    expect(pass.sent).toBeGreaterThanOrEqual(2); // the DSL and the Owner, both in the team
    const mail = smtp.to(s.users.dsl.email);
    expect(mail).toHaveLength(1);
    const [email] = mail;
    expect(email!.subject).toContain('child-protection');
    expect(email!.subject).toContain('Oak Primary');
    expect(email!.text).toContain(`https://haven.school.example/incidents/${id}`);
    // Neither the child nor what happened.
    for (const secret of ['Clark', 'Bruising', 'wrists', 'tell anyone'])
      expect(`${email!.subject}\n${email!.text}`).not.toContain(secret);
    expect(email!.from).toBe('haven@school.example');

    // The supervisor is not told about their own report, and still cannot see the child.
    expect(smtp.to(supervisor.email)).toHaveLength(0);
    expect((await h.get(`/api/v1/students/${s.students.c}`, supervisor.token)).status).toBe(404);
    // A second pass sends nothing again.
    await work();
    expect(smtp.to(s.users.dsl.email)).toHaveLength(1);
  });

  it('a blocked, an excluded or an uncleared member of the named group is told nothing', async () => {
    const s = await school(h);
    const blocked = await createUser(h, s.t, {
      name: 'Bea Blocked',
      role: 'dsl',
      scope: s.atSchool,
    });
    const excluded = await createUser(h, s.t, {
      name: 'Ed Excluded',
      role: 'dsl',
      scope: s.atSchool,
    });
    await addMembers(h, s.t, s.safeguardingTeamId, [blocked.id, excluded.id]);
    await blockStudent(h, s.t, blocked.id, s.students.a, 'Parent of the child');
    // The Year 9 team (no clearance) is told of child-protection concerns too.
    const rules = await h.put(
      `/api/v1/categories/${s.category('child_protection')}/notifications`,
      s.t,
      {
        rules: [
          {
            recipient: { type: 'user_group', id: s.safeguardingTeamId },
            channel: 'immediate_email',
          },
          { recipient: { type: 'user_group', id: s.safeguardingTeamId }, channel: 'alert' },
          { recipient: { type: 'user_group', id: s.team }, channel: 'immediate_email' },
          { recipient: { type: 'user_group', id: s.team }, channel: 'alert' },
        ],
      },
    );
    expect(rules.status).toBe(200);
    await work();
    smtp.received.length = 0;

    const id = await logConcern(h, s, s.users.dsl.token!, { sensitivity: 'child_protection' });
    // Excluded after logging but before the worker sends: decided when sent.
    expect(
      (await h.put(`/api/v1/incidents/${id}/exclusions`, s.t, { userIds: [excluded.id] })).status,
    ).toBe(200);
    await work();

    const told = new Set(smtp.received.flatMap((m) => m.to));
    expect(told.has(s.org.ownerEmail)).toBe(true);
    for (const nobody of [blocked, excluded, s.users.viewer, s.users.colleague])
      expect(told.has(nobody.email), nobody.name).toBe(false);
    for (const nobody of [blocked, excluded, s.users.viewer]) {
      const token = nobody.token ?? (await login(h, nobody.email));
      expect((await alertsOf(token)).filter((a) => a.incidentId === id)).toEqual([]);
    }
  });

  it('the subject of an allegation is never told, even in the group the rule names', async () => {
    const s = await school(h);
    const subject = await createUser(h, s.t, {
      name: 'Sam Subject',
      role: 'dsl',
      scope: s.atSchool,
    });
    await addMembers(h, s.t, s.safeguardingTeamId, [subject.id]);
    const allegation = s.category('allegation');
    await h.put(`/api/v1/categories/${allegation}/notifications`, s.t, {
      rules: [
        { recipient: { type: 'user_group', id: s.safeguardingTeamId }, channel: 'immediate_email' },
        { recipient: { type: 'user_group', id: s.safeguardingTeamId }, channel: 'alert' },
      ],
    });
    await work();
    smtp.received.length = 0;
    const id = await logConcern(h, s, s.users.viewer.token!, {
      sensitivity: 'allegation',
      subjectUserId: subject.id,
    });
    await work();
    expect(smtp.to(subject.email)).toEqual([]);
    expect((await alertsOf(subject.token!)).filter((a) => a.incidentId === id)).toEqual([]);
  });
});

describe('an allegation about the allegations manager', () => {
  it('goes to another Owner, told at once, and never to the manager', async () => {
    const s = await school(h);
    const chair = await createUser(h, s.t, {
      name: 'Cho Chair',
      role: 'owner',
      scope: { type: 'organisation', id: s.org.organisationId },
    });
    await work();
    smtp.received.length = 0;
    const owner = s.org.ownerId;
    const id = await logConcern(h, s, s.users.viewer.token!, {
      sensitivity: 'allegation',
      subjectUserId: owner,
    });
    await work();
    expect(smtp.to(s.org.ownerEmail)).toEqual([]);
    expect((await alertsOf(s.t)).filter((a) => a.incidentId === id)).toEqual([]);
    expect((await h.get(`/api/v1/incidents/${id}`, s.t)).status).toBe(404);
    expect(smtp.to(chair.email).map((m) => m.text.includes(id))).toEqual([true]);
    expect((await alertsOf(chair.token!)).some((a) => a.incidentId === id)).toBe(true);
    expect((await h.get(`/api/v1/incidents/${id}`, chair.token)).status).toBe(200);
  });
});

describe('the daily digest', () => {
  it("collects the day's standard concerns at the school's digest time, once", async () => {
    const s = await school(h);
    expect(
      (await h.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, { digestTime: '07:30' }))
        .status,
    ).toBe(200);
    await work();
    smtp.received.length = 0;
    const first = await logConcern(h, s, s.users.viewer.token!, {
      description: 'Pushed in the lunch queue.',
    });
    const second = await logConcern(h, s, s.users.viewer.token!, {
      studentIds: [s.students.b],
      description: 'Name-calling in class.',
    });
    // Tomorrow (London), a minute before the digest time: nothing yet.
    const tomorrow = londonDate(new Date(Date.now() + 24 * 3_600_000));
    const before = new Date(londonInstant(tomorrow, '07:30').getTime() - 60_000);
    expect((await work(before)).digests).toBe(0);
    expect(smtp.to(s.users.dsl.email)).toEqual([]);

    const at = londonInstant(tomorrow, '07:30');
    expect((await work(at)).digests).toBeGreaterThanOrEqual(1);
    const digest = smtp.to(s.users.dsl.email);
    expect(digest).toHaveLength(1);
    expect(digest[0]!.subject).toContain('2 new concerns');
    expect(digest[0]!.text).toContain(first);
    expect(digest[0]!.text).toContain(second);
    for (const secret of ['Adams', 'Baker', 'lunch queue', 'Name-calling'])
      expect(digest[0]!.text).not.toContain(secret);
    // The Year 9 team is not in the digest rule: nothing for them.
    expect(smtp.to(s.users.viewer.email)).toEqual([]);

    // Later the same day: no second digest.
    expect((await work(new Date(at.getTime() + 3_600_000))).digests).toBe(0);
    expect(smtp.to(s.users.dsl.email)).toHaveLength(1);
  });

  it('a digest time is a 24-hour HH:MM; anything else is refused and changes nothing', async () => {
    const s = await school(h);
    for (const digestTime of ['7:30', '24:00', '12:60', 'noon']) {
      const reply = await h.patch(`/api/v1/schools/${s.org.schoolId}/settings`, s.t, {
        digestTime,
      });
      expect(reply.status, digestTime).toBe(400);
    }
  });
});

describe('security alerts', () => {
  it('granting DSL alerts the Owners and DSLs in the app and by email, naming no child', async () => {
    const s = await school(h);
    const elm = await addSchool(h, s.t, 'Elm Academy');
    const elsewhere = await createUser(h, s.t, {
      name: 'Elsie Elsewhere',
      role: 'dsl',
      scope: { type: 'school', id: elm },
    });
    await work();
    smtp.received.length = 0;
    const promoted = await createUser(h, s.t, { name: 'Pat Promoted' });
    await grantRole(h, s.t, { type: 'user', id: promoted.id }, 'dsl', s.atSchool);
    await work();
    for (const watcher of [s.org.ownerEmail, s.users.dsl.email]) {
      const mail = smtp.to(watcher).filter((m) => m.subject === 'Haven security alert');
      expect(mail, watcher).toHaveLength(1);
      expect(mail[0]!.text).toContain('Pat Promoted');
      expect(mail[0]!.text).toContain('DSL');
    }
    // A Viewer is no watcher, nor is the DSL of another school.
    expect(smtp.to(s.users.viewer.email)).toEqual([]);
    expect(smtp.to(elsewhere.email)).toEqual([]);
    expect(
      (await alertsOf(elsewhere.token!)).some((a) => a.message?.includes('Pat Promoted')),
    ).toBe(false);
    const alerts = await alertsOf(s.users.dsl.token!);
    const security = alerts.find((a) => a.kind === 'security');
    expect(security.message).toContain('Pat Promoted');
    expect(security.incidentId).toBeNull();
    expect((await alertsOf(s.users.viewer.token!)).some((a) => a.kind === 'security')).toBe(false);
  });

  it('lifting a block and changing a group’s clearances alert too; granting Admin does not', async () => {
    const s = await school(h);
    const block = await blockStudent(h, s.t, s.users.viewer.id, s.students.a, 'Relative');
    const admin = await createUser(h, s.t, { name: 'Ann Admin' });
    await grantRole(h, s.t, { type: 'user', id: admin.id }, 'admin', s.atSchool);
    await work();
    smtp.received.length = 0;
    expect((await h.delete(`/api/v1/blocks/${block}`, s.t)).status).toBe(204);
    expect(
      (
        await h.put(`/api/v1/user-groups/${s.team}/clearances`, s.t, {
          clearances: ['child_protection'],
        })
      ).status,
    ).toBe(200);
    await work();
    const texts = smtp.to(s.users.dsl.email).map((m) => m.text);
    expect(texts.some((t) => t.includes('lifted a block') && t.includes('Vera Viewer'))).toBe(true);
    expect(texts.some((t) => t.includes('Year 9 team') && t.includes('child_protection'))).toBe(
      true,
    );
    expect(texts.join('\n')).not.toContain('Adams');
    expect(texts.some((t) => t.includes('Ann Admin'))).toBe(false);
  });
});

describe('notification rules', () => {
  it('a new school tells its Safeguarding Team at once of child protection, and in the digest of the rest', async () => {
    const s = await school(h);
    const cp = await h.get(
      `/api/v1/categories/${s.category('child_protection')}/notifications`,
      s.t,
    );
    expect(cp.status).toBe(200);
    expect(cp.body.rules.map((r: any) => [r.recipient.id, r.channel]).sort()).toEqual(
      [
        [s.safeguardingTeamId, 'alert'],
        [s.safeguardingTeamId, 'immediate_email'],
      ].sort(),
    );
    const standard = await h.get(`/api/v1/categories/${s.category('standard')}/notifications`, s.t);
    expect(standard.body.rules.map((r: any) => [r.recipient.id, r.channel])).toEqual([
      [s.safeguardingTeamId, 'digest_email'],
    ]);
    const allegation = await h.get(
      `/api/v1/categories/${s.category('allegation')}/notifications`,
      s.t,
    );
    expect(allegation.body.rules).toHaveLength(2);
    expect(allegation.body.rules.every((r: any) => r.recipient.type === 'user_group')).toBe(true);
    expect(allegation.body.rules[0].recipient.name).toMatch(/^Allegations/);
  });

  it('Admin changes them; a Viewer may not; an unknown recipient is refused and changes nothing', async () => {
    const s = await school(h);
    const admin = await createUser(h, s.t, { name: 'Ann Admin', role: 'admin', scope: s.atSchool });
    const url = `/api/v1/categories/${s.category('standard')}/notifications`;
    const before = (await h.get(url, s.t)).body;
    const body = {
      rules: [{ recipient: { type: 'user', id: s.users.dsl.id }, channel: 'immediate_email' }],
    };
    expect((await h.put(url, s.users.viewer.token, body)).status).toBe(403);
    expect((await h.get(url, s.users.viewer.token)).status).toBe(403);
    const unknown = await h.put(url, admin.token, {
      rules: [
        { recipient: { type: 'user_group', id: '01JAAAAAAAAAAAAAAAAAAAAAAA' }, channel: 'alert' },
      ],
    });
    expect(unknown.status).toBe(404);
    expect((await h.get(url, s.t)).body).toEqual(before);
    const bad = await h.put(url, admin.token, {
      rules: [{ recipient: { type: 'user', id: s.users.dsl.id }, channel: 'pigeon' }],
    });
    expect(bad.status).toBe(400);
    const saved = await h.put(url, admin.token, body);
    expect(saved.status).toBe(200);
    expect(saved.body.rules).toEqual([
      {
        recipient: { type: 'user', id: s.users.dsl.id, name: 'Dina DSL' },
        channel: 'immediate_email',
      },
    ]);
    // Now a standard concern reaches the DSL at once, not in the digest.
    await work();
    smtp.received.length = 0;
    const id = await logConcern(h, s, s.users.viewer.token!);
    await work();
    expect(smtp.to(s.users.dsl.email).map((m) => m.text.includes(id))).toEqual([true]);
  });

  it('a category can be renamed and retired; a retired one takes no new concerns', async () => {
    const s = await school(h);
    const id = s.category('standard');
    const renamed = await h.patch(`/api/v1/categories/${id}`, s.t, {
      name: 'Behaviour (low level)',
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Behaviour (low level)');
    expect(
      (await h.patch(`/api/v1/categories/${id}`, s.users.viewer.token, { retired: true })).status,
    ).toBe(403);
    expect((await h.patch(`/api/v1/categories/${id}`, s.t, { retired: true })).body.retired).toBe(
      true,
    );
    const listed = (await h.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId })).body
      .items;
    expect(listed.some((c: any) => c.id === id)).toBe(false);
    const all = (
      await h.get('/api/v1/categories', s.t, { schoolId: s.org.schoolId, includeRetired: 'true' })
    ).body.items;
    expect(all.find((c: any) => c.id === id).retired).toBe(true);
    const refused = await h.post('/api/v1/incidents', s.users.viewer.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.students.a],
      categoryId: id,
      occurredAt: '2026-11-20T10:00:00Z',
      description: 'x',
    });
    expect(refused.status).toBe(404);
  });
});

describe('delivery', () => {
  it('a refused email is retried with backoff, then shown to Admins as failed, and can be sent again', async () => {
    const s = await school(h);
    await work();
    smtp.received.length = 0;
    smtp.refuse = true;
    const id = await logConcern(h, s, s.users.viewer.token!, { sensitivity: 'child_protection' });
    const start = new Date();
    expect((await work(start)).failed).toBe(0);
    // Not again before the backoff is over.
    expect((await work(new Date(start.getTime() + 500))).failed).toBe(0);
    expect((await work(new Date(start.getTime() + 5_000))).failed).toBeGreaterThan(0);
    const failed = await h.get('/api/v1/outbox', s.t, { status: 'failed' });
    expect(failed.status).toBe(200);
    const mine = failed.body.items.find((e: any) => e.to.address === s.users.dsl.email);
    expect(mine.attempts).toBe(2);
    expect(mine.lastError).toMatch(/451|Try again/);
    expect(JSON.stringify(failed.body)).not.toContain('Adams');
    expect((await h.get('/api/v1/outbox', s.users.viewer.token)).status).toBe(403);

    smtp.refuse = false;
    expect((await h.post(`/api/v1/outbox/${mine.id}/retry`, s.t)).status).toBe(204);
    expect((await h.post(`/api/v1/outbox/${mine.id}/retry`, s.t)).status).toBe(409);
    await work(new Date(start.getTime() + 6_000));
    expect(smtp.to(s.users.dsl.email).map((m) => m.text.includes(id))).toEqual([true]);
  });

  it('a due action reminds its assignee when it falls due, without anyone opening their alerts', async () => {
    const s = await school(h);
    const incident = await logConcern(h, s, s.users.viewer.token!);
    const action = await h.post(`/api/v1/incidents/${incident}/actions`, s.t, {
      title: 'Call the family of Adams',
      dueAt: new Date(Date.now() + 3_600_000).toISOString(),
      assignee: { type: 'user', id: s.users.dsl.id },
    });
    expect(action.status).toBe(201);
    await work();
    smtp.received.length = 0;
    expect((await work()).dueActions).toBe(0);
    expect((await work(new Date(Date.now() + 2 * 3_600_000))).dueActions).toBe(1);
    const reminder = smtp.to(s.users.dsl.email).filter((m) => m.subject.includes('due'));
    expect(reminder).toHaveLength(1);
    expect(reminder[0]!.text).not.toContain('Adams');
    expect(
      (await alertsOf(s.users.dsl.token!)).filter((a) => a.kind === 'action_due'),
    ).toHaveLength(1);
    expect((await work(new Date(Date.now() + 3 * 3_600_000))).dueActions).toBe(0);
  });
});

describe('without SMTP', () => {
  it('alerts still arrive and nothing waits in the outbox', async () => {
    const quiet = await startHaven();
    try {
      const s = await school(quiet);
      const id = await logConcern(quiet, s, s.users.viewer.token!, {
        sensitivity: 'child_protection',
      });
      await quiet.services.worker.runOnce();
      const alerts = (await quiet.get('/api/v1/alerts', s.users.dsl.token)).body.items;
      expect(alerts.some((a: any) => a.incidentId === id)).toBe(true);
      expect((await quiet.get('/api/v1/outbox', s.t)).body.items).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
