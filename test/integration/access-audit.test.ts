import { describe, expect, it } from 'vitest';
import {
  type AccessAuditFlag,
  type AccessAuditRequest,
  type AccessAuditRow,
  accessAuditRows,
  accessAuditScopeAllowed,
  requireAccessAuditScope,
} from '../../src/access/access-audit.ts';
import { loadPrincipal } from '../../src/access/principal.ts';
import type { Scope } from '../../src/access/scopes.ts';
import { HavenError } from '../../src/lib/errors.ts';
import {
  addMembers,
  addSchool,
  blockStudent,
  createStudent,
  createStudentGroup,
  createUser,
  createUserGroup,
  grantRole,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import type { TestHaven } from '../support/haven.ts';
import { enrolTotp, useHavenWithTotpClock } from '../support/two-factor.ts';

/**
 * The Access Audit Report's flags (each produced, and not produced, at the edge of its rule),
 * a school's report holding nothing of another school, and who may run it for which scope
 * (issue 14, item 1).
 */

const DAY = 24 * 60 * 60 * 1000;
const confirmed = { confirm: true, rationale: 'The team sees the whole school' };

async function report(
  h: TestHaven,
  org: TestOrg,
  options: Partial<AccessAuditRequest> = {},
): Promise<AccessAuditRow[]> {
  const rows: AccessAuditRow[] = [];
  for await (const row of accessAuditRows(h.database.db, {
    organisationId: org.organisationId,
    scope: { type: 'organisation', id: org.organisationId },
    now: new Date().toISOString(),
    ...options,
  }))
    rows.push(row);
  return rows;
}

function rowOf(rows: AccessAuditRow[], userId: string): AccessAuditRow {
  const row = rows.find((r) => r.userId === userId);
  if (!row) throw new Error(`no row for ${userId}`);
  return row;
}

const flagged = (rows: AccessAuditRow[], userId: string, flag: AccessAuditFlag) =>
  rowOf(rows, userId).flags.includes(flag);

async function link(
  h: TestHaven,
  token: string,
  groupId: string,
  target: { studentGroupId: string; confirm?: boolean; rationale?: string } | { studentId: string },
) {
  const reply = await h.post(`/api/v1/user-groups/${groupId}/student-links`, token, target);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
}

async function allStudentsOf(h: TestHaven, schoolId: string): Promise<string> {
  return (
    await h.database.db
      .selectFrom('student_groups')
      .select('id')
      .where('system_key', '=', `all_students:${schoolId}`)
      .executeTakeFirstOrThrow()
  ).id;
}

describe('Access Audit Report: flags', () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('no user group: flagged for a person in none, not for a person in one', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const alone = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const teamed = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const group = await createUserGroup(h, org.ownerToken, 'Exams Office');
    await addMembers(h, org.ownerToken, group, [teamed.id]);
    const rows = await report(h, org);
    expect(flagged(rows, alone.id, 'no_user_group')).toBe(true);
    expect(rowOf(rows, alone.id).userGroups).toEqual([]);
    expect(flagged(rows, teamed.id, 'no_user_group')).toBe(false);
    expect(rowOf(rows, teamed.id).userGroups).toEqual([{ id: group, name: 'Exams Office' }]);
  });

  it('DSL reaching no child: flagged with none, not with one', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    const idle = await createUser(h, org.ownerToken, { role: 'dsl', scope: atSchool });
    const deputy = await createUser(h, org.ownerToken, { role: 'deputy_dsl', scope: atSchool });
    const group = await createUserGroup(h, org.ownerToken, 'Case team', { homeScope: atSchool });
    await link(h, org.ownerToken, group, { studentId: child });
    await addMembers(h, org.ownerToken, group, [deputy.id]);
    const rows = await report(h, org);
    expect(rowOf(rows, idle.id).reachableStudents).toBe(0);
    expect(flagged(rows, idle.id, 'dsl_reaches_no_child')).toBe(true);
    expect(rowOf(rows, deputy.id).reachableStudents).toBe(1);
    expect(rowOf(rows, deputy.id).directStudentLinks).toBe(1);
    expect(flagged(rows, deputy.id, 'dsl_reaches_no_child')).toBe(false);
    // A block takes the one child away again: flagged.
    await blockStudent(h, org.ownerToken, deputy.id, child);
    const after = await report(h, org);
    expect(rowOf(after, deputy.id).blocks).toBe(1);
    expect(flagged(after, deputy.id, 'dsl_reaches_no_child')).toBe(true);
  });

  it('clearance without two-factor: flagged until the person enrols, and as of before it', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const person = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const uncleared = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const group = await createUserGroup(h, org.ownerToken, 'Child protection');
    expect(
      (
        await h.put(`/api/v1/user-groups/${group}/clearances`, org.ownerToken, {
          clearances: ['child_protection'],
        })
      ).status,
    ).toBe(200);
    await addMembers(h, org.ownerToken, group, [person.id]);
    await addMembers(h, org.ownerToken, await createUserGroup(h, org.ownerToken, 'Plain'), [
      uncleared.id,
    ]);
    let rows = await report(h, org);
    expect(rowOf(rows, person.id).clearances).toEqual([
      { clearance: 'child_protection', via: { id: group, name: 'Child protection' } },
    ]);
    expect(flagged(rows, person.id, 'clearance_without_two_factor')).toBe(true);
    expect(rowOf(rows, uncleared.id).clearances).toEqual([]);
    expect(flagged(rows, uncleared.id, 'clearance_without_two_factor')).toBe(false);

    const before = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await enrolTotp(h, person.token!, clock);
    rows = await report(h, org);
    expect(rowOf(rows, person.id).twoFactor).toBe(true);
    expect(flagged(rows, person.id, 'clearance_without_two_factor')).toBe(false);
    const then = await report(h, org, { asOf: before });
    expect(rowOf(then, person.id).twoFactor).toBe(false);
    expect(flagged(then, person.id, 'clearance_without_two_factor')).toBe(true);
  });

  it('"All students" link: flagged through a group linked to one, not through a manual group', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const child = await createStudent(h, org.ownerToken, { schoolId: org.schoolId });
    const manual = await createStudentGroup(h, org.ownerToken, {
      name: 'Nurture group',
      schoolId: org.schoolId,
      kind: 'manual',
      studentIds: [child],
    });
    const wide = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const narrow = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const wideGroup = await createUserGroup(h, org.ownerToken, 'Pastoral', { homeScope: atSchool });
    const narrowGroup = await createUserGroup(h, org.ownerToken, 'Nurture', {
      homeScope: atSchool,
    });
    await link(h, org.ownerToken, wideGroup, {
      studentGroupId: await allStudentsOf(h, org.schoolId),
      ...confirmed,
    });
    await link(h, org.ownerToken, narrowGroup, { studentGroupId: manual });
    await addMembers(h, org.ownerToken, wideGroup, [wide.id]);
    await addMembers(h, org.ownerToken, narrowGroup, [narrow.id]);
    const rows = await report(h, org);
    expect(flagged(rows, wide.id, 'all_students_link')).toBe(true);
    expect(rowOf(rows, wide.id).studentGroups).toEqual([
      {
        id: await allStudentsOf(h, org.schoolId),
        name: 'All students (Oak Primary)',
        kind: 'all',
        via: [{ id: wideGroup, name: 'Pastoral' }],
      },
    ]);
    expect(flagged(rows, narrow.id, 'all_students_link')).toBe(false);
    expect(rowOf(rows, narrow.id).reachableStudents).toBe(1);
  });

  it('dormant: not at exactly 90 days since the last sign-in, flagged a moment later; likewise for a never-used account', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const signedIn = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const never = await createUser(h, org.ownerToken, {});
    const db = h.database.db;
    const users = await db
      .selectFrom('users')
      .select(['id', 'last_sign_in_at', 'created_at'])
      .where('id', 'in', [signedIn.id, never.id])
      .execute();
    const lastIn = users.find((u) => u.id === signedIn.id)!.last_sign_in_at!;
    const created = users.find((u) => u.id === never.id)!.created_at;
    expect(users.find((u) => u.id === never.id)!.last_sign_in_at).toBeNull();

    const at = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();
    let rows = await report(h, org, { now: at(lastIn, 90 * DAY) });
    expect(rowOf(rows, signedIn.id).lastSignInAt).toBe(lastIn);
    expect(flagged(rows, signedIn.id, 'dormant')).toBe(false);
    rows = await report(h, org, { now: at(lastIn, 90 * DAY + 1) });
    expect(flagged(rows, signedIn.id, 'dormant')).toBe(true);

    rows = await report(h, org, { now: at(created, 90 * DAY) });
    expect(rowOf(rows, never.id).status).toBe('active');
    expect(flagged(rows, never.id, 'dormant')).toBe(false);
    rows = await report(h, org, { now: at(created, 90 * DAY + 1) });
    expect(flagged(rows, never.id, 'dormant')).toBe(true);
  });

  it('as of a past time, the last sign-in is the latest one by then', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atSchool = { type: 'school' as const, id: org.schoolId };
    const person = await createUser(h, org.ownerToken, { role: 'viewer', scope: atSchool });
    const db = h.database.db;
    const first = (
      await db
        .selectFrom('users')
        .select('last_sign_in_at')
        .where('id', '=', person.id)
        .executeTakeFirstOrThrow()
    ).last_sign_in_at!;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(
      (
        await h.post('/api/v1/auth/login', undefined, {
          email: person.email,
          password: 'copper-Kettle-41-harbour',
        })
      ).status,
    ).toBe(200);
    const now = await report(h, org);
    expect(rowOf(now, person.id).lastSignInAt! > between).toBe(true);
    const then = await report(h, org, { asOf: between });
    expect(rowOf(then, person.id).lastSignInAt).toBe(first);
    const before = await report(h, org, { asOf: new Date(Date.parse(first) - 1).toISOString() });
    expect(rowOf(before, person.id).lastSignInAt).toBeNull();
  });

  it('more than two Owners: not with two, on every Owner with three, not when the third is disabled', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const atOrg = { type: 'organisation' as const, id: org.organisationId };
    const second = await createUser(h, org.ownerToken, { role: 'owner', scope: atOrg });
    const admin = await createUser(h, org.ownerToken, { role: 'admin', scope: atOrg });
    let rows = await report(h, org);
    for (const id of [org.ownerId, second.id, admin.id])
      expect(flagged(rows, id, 'more_than_two_owners')).toBe(false);

    // The third Owner through a group: people are counted once, whatever the path.
    const board = await createUserGroup(h, org.ownerToken, 'Trust board');
    await grantRole(h, org.ownerToken, { type: 'user_group', id: board }, 'owner', atOrg);
    const third = await createUser(h, org.ownerToken, {});
    await addMembers(h, org.ownerToken, board, [third.id, second.id]);
    rows = await report(h, org);
    for (const id of [org.ownerId, second.id, third.id])
      expect(flagged(rows, id, 'more_than_two_owners'), id).toBe(true);
    expect(flagged(rows, admin.id, 'more_than_two_owners')).toBe(false);
    expect(rowOf(rows, third.id).roles).toMatchObject([
      { role: 'owner', scope: { type: 'organisation', name: 'Oak Trust' }, via: { id: board } },
    ]);

    expect(
      (await h.patch(`/api/v1/users/${third.id}`, org.ownerToken, { disabled: true })).status,
    ).toBe(200);
    rows = await report(h, org);
    for (const id of [org.ownerId, second.id, third.id])
      expect(flagged(rows, id, 'more_than_two_owners')).toBe(false);
    expect(rowOf(rows, third.id).status).toBe('disabled');
  });

  it('a role carries its scope, source and reason', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const person = await createUser(h, org.ownerToken, {});
    const reply = await h.post('/api/v1/role-grants', org.ownerToken, {
      subject: { type: 'user', id: person.id },
      role: 'admin',
      scope: { type: 'school', id: org.schoolId },
      reason: 'Business manager',
    });
    expect(reply.status).toBe(201);
    const rows = await report(h, org);
    expect(rowOf(rows, person.id).roles).toEqual([
      {
        grantId: reply.body.id,
        role: 'admin',
        scope: { type: 'school', id: org.schoolId, name: 'Oak Primary' },
        via: null,
        reason: 'Business manager',
      },
    ]);
  });
});

describe('Access Audit Report: a school sees its own', () => {
  const { haven } = useHavenWithTotpClock();

  it("a school's report holds nothing of the other school, and never a child's name or id", async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const schoolA = org.schoolId;
    const schoolB = await addSchool(h, t, 'Birch Academy');
    const atA = { type: 'school' as const, id: schoolA };
    const atB = { type: 'school' as const, id: schoolB };
    const childA = await createStudent(h, t, { schoolId: schoolA, familyName: 'Ashworth' });
    const childB = await createStudent(h, t, { schoolId: schoolB, familyName: 'Brocklehurst' });
    const childB2 = await createStudent(h, t, { schoolId: schoolB, familyName: 'Bellingham' });

    // Someone of both schools: roles, groups, links and a block at each.
    const both = await createUser(h, t, { name: 'Bo Both', role: 'viewer', scope: atA });
    await grantRole(h, t, { type: 'user', id: both.id }, 'deputy_dsl', atB);
    const teamA = await createUserGroup(h, t, 'Oak Wellbeing', { homeScope: atA });
    const teamB = await createUserGroup(h, t, 'Birch Nurture Crew', { homeScope: atB });
    await link(h, t, teamA, { studentId: childA });
    await link(h, t, teamB, { studentId: childB });
    await link(h, t, teamB, { studentId: childB2 });
    await addMembers(h, t, teamA, [both.id]);
    await addMembers(h, t, teamB, [both.id]);
    await blockStudent(h, t, both.id, childB2);
    // Someone of school B only.
    const onlyB = await createUser(h, t, { name: 'Bea Birchonly', role: 'viewer', scope: atB });
    await addMembers(h, t, teamB, [onlyB.id]);
    const admin = await createUser(h, t, { name: 'Ada Admin', role: 'admin', scope: atA });

    const principal = await loadPrincipal(h.database.db, org.organisationId, admin.id);
    expect(accessAuditScopeAllowed(principal, atA)).toBe(true);
    const rows = await report(h, org, { scope: atA });
    const text = JSON.stringify(rows);
    for (const secret of [
      schoolB,
      'Birch Academy',
      teamB,
      'Birch Nurture Crew',
      onlyB.id,
      'Bea Birchonly',
      childA,
      childB,
      childB2,
      'Ashworth',
      'Brocklehurst',
    ])
      expect(text, secret).not.toContain(secret);
    const row = rowOf(rows, both.id);
    expect(row.roles.map((r) => [r.role, r.scope.id])).toEqual([['viewer', schoolA]]);
    expect(row.userGroups).toEqual([{ id: teamA, name: 'Oak Wellbeing' }]);
    expect(row.reachableStudents).toBe(1);
    expect(row.directStudentLinks).toBe(1);
    expect(row.blocks).toBe(0);
    // No deputy DSL in school A's report, so no flag from school B's role.
    expect(row.flags).not.toContain('dsl_reaches_no_child');
    // The Owner is in school B's Safeguarding Team: school A's report does not say so.
    expect(rowOf(rows, org.ownerId).userGroups.map((g) => g.name)).not.toContain(
      'Safeguarding Team (Birch Academy)',
    );

    // The organisation's report holds both schools, and the school group's holds what is inside it.
    const whole = await report(h, org);
    const wholeRow = rowOf(whole, both.id);
    expect(wholeRow.roles.map((r) => r.scope.id).sort()).toEqual([schoolA, schoolB].sort());
    expect(wholeRow.reachableStudents).toBe(2);
    expect(wholeRow.blocks).toBe(1);
    const ofB = await report(h, org, { scope: atB });
    expect(rowOf(ofB, both.id).reachableStudents).toBe(1);
    expect(rowOf(ofB, both.id).blocks).toBe(1);
    expect(ofB.find((r) => r.userId === admin.id)).toBeUndefined();
  });
});

describe('Access Audit Report: who may run it', () => {
  const { haven } = useHavenWithTotpClock();

  it('an Admin at a school runs it for that school only; a Viewer for none; an Owner for all', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const schoolB = await addSchool(h, t, 'Birch Academy');
    const hub = (
      await h.post('/api/v1/school-groups', t, { name: 'Hub', schoolIds: [org.schoolId] })
    ).body.id as string;
    const atA: Scope = { type: 'school', id: org.schoolId };
    const atB: Scope = { type: 'school', id: schoolB };
    const atHub: Scope = { type: 'school_group', id: hub };
    const atOrg: Scope = { type: 'organisation', id: org.organisationId };
    const admin = await createUser(h, t, { role: 'admin', scope: atA });
    const viewer = await createUser(h, t, { role: 'viewer', scope: atA });
    const hubAdmin = await createUser(h, t, { role: 'admin', scope: atHub });
    const load = (id: string) => loadPrincipal(h.database.db, org.organisationId, id);

    const a = await load(admin.id);
    expect(accessAuditScopeAllowed(a, atA)).toBe(true);
    expect(accessAuditScopeAllowed(a, atB)).toBe(false);
    expect(accessAuditScopeAllowed(a, atHub)).toBe(false);
    expect(accessAuditScopeAllowed(a, atOrg)).toBe(false);
    expect(() => requireAccessAuditScope(a, atA)).not.toThrow();
    for (const scope of [atB, atOrg]) {
      let error: unknown;
      try {
        requireAccessAuditScope(a, scope);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HavenError);
      expect((error as HavenError).status).toBe(403);
      expect((error as HavenError).code).toBe('forbidden');
    }

    const v = await load(viewer.id);
    for (const scope of [atA, atB, atHub, atOrg])
      expect(accessAuditScopeAllowed(v, scope)).toBe(false);

    const ha = await load(hubAdmin.id);
    expect(accessAuditScopeAllowed(ha, atHub)).toBe(true);
    expect(accessAuditScopeAllowed(ha, atA)).toBe(true);
    expect(accessAuditScopeAllowed(ha, atB)).toBe(false);
    expect(accessAuditScopeAllowed(ha, atOrg)).toBe(false);

    const owner = await load(org.ownerId);
    for (const scope of [atA, atB, atHub, atOrg])
      expect(accessAuditScopeAllowed(owner, scope)).toBe(true);
    // Another organisation's scope is never covered.
    expect(accessAuditScopeAllowed(owner, { type: 'organisation', id: 'another' })).toBe(false);
  });
});
