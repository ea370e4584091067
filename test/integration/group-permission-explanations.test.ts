import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AccessAuditRow, accessAuditRows } from '../../src/access/access-audit.ts';
import type { Scope } from '../../src/access/scopes.ts';
import { readDocument } from '../../src/modules/compliance/document.ts';
import { pdfPages } from '../support/downloads.ts';
import {
  addMembers,
  addSchool,
  createUser,
  createUserGroup,
  setupOrganisation,
  type TestOrg,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

/**
 * Issue 15, item 3: permission sets in every explanation. Effective permissions (now and as of a
 * past time) list each set a person holds on a user group and through which assignment; a reader
 * who may not see a group learns nothing of it; the Access Audit Report shows delegated
 * administrators, and a school's report names no group homed outside it.
 */

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

type SetKind = 'members' | 'everyone' | 'custom';

/** A set's new version, as the set service writes it (the fixed sets' earlier version ends). */
async function putSet(
  h: TestHaven,
  org: TestOrg,
  groupId: string,
  set: { kind: SetKind; name?: string; permissions: string; setId?: string },
): Promise<string> {
  const db = h.database.db;
  const at = new Date().toISOString();
  const setId = set.setId ?? (set.kind === 'custom' ? randomUUID() : set.kind);
  await db
    .updateTable('user_group_permission_sets')
    .set({ valid_to: at })
    .where('user_group_id', '=', groupId)
    .where('set_id', '=', setId)
    .where('valid_to', 'is', null)
    .execute();
  await db
    .insertInto('user_group_permission_sets')
    .values({
      id: randomUUID(),
      organisation_id: org.organisationId,
      set_id: setId,
      user_group_id: groupId,
      kind: set.kind,
      name: set.name ?? (set.kind === 'members' ? 'Members' : 'Everyone'),
      permissions: set.permissions,
      changed_by: org.ownerId,
      valid_from: at,
      valid_to: null,
    })
    .execute();
  return setId;
}

async function assign(
  h: TestHaven,
  org: TestOrg,
  groupId: string,
  setId: string,
  assignee: { type: 'user' | 'user_group'; id: string },
) {
  await h.database.db
    .insertInto('user_group_set_assignees')
    .values({
      id: randomUUID(),
      organisation_id: org.organisationId,
      user_group_id: groupId,
      set_id: setId,
      assignee_type: assignee.type,
      assignee_id: assignee.id,
      added_by: org.ownerId,
      removed_by: null,
      valid_from: new Date().toISOString(),
      valid_to: null,
    })
    .execute();
}

async function unassign(h: TestHaven, org: TestOrg, groupId: string, setId: string, id: string) {
  await h.database.db
    .updateTable('user_group_set_assignees')
    .set({ valid_to: new Date().toISOString(), removed_by: org.ownerId })
    .where('user_group_id', '=', groupId)
    .where('set_id', '=', setId)
    .where('assignee_id', '=', id)
    .where('valid_to', 'is', null)
    .execute();
}

/** The text of a PDF, its pages in order. */
async function pdfText(bytes: Buffer): Promise<string> {
  return (await pdfPages(bytes)).join(' ');
}

async function addOwner(h: TestHaven, token: string, groupId: string, userId: string) {
  const reply = await h.post(`/api/v1/user-groups/${groupId}/owners`, token, {
    userIds: [userId],
  });
  expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(300);
}

async function effective(h: TestHaven, token: string, userId: string, asOf?: string) {
  const reply = await h.get(
    `/api/v1/users/${userId}/effective-permissions`,
    token,
    asOf ? { asOf } : {},
  );
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body;
}

async function report(h: TestHaven, org: TestOrg, scope?: Scope, asOf?: string) {
  const rows: AccessAuditRow[] = [];
  for await (const row of accessAuditRows(h.database.db, {
    organisationId: org.organisationId,
    scope: scope ?? { type: 'organisation', id: org.organisationId },
    asOf,
    now: new Date().toISOString(),
  }))
    rows.push(row);
  return rows;
}

function rowOf(rows: AccessAuditRow[], userId: string): AccessAuditRow {
  const row = rows.find((r) => r.userId === userId);
  if (!row) throw new Error(`no row for ${userId}`);
  return row;
}

/**
 * Pat holds a set on Exams Office in each way a set is held: as a member (its Members set now
 * lets members see who is in it), directly (Editors), and as a member of Pastoral leads
 * (Membership editors); Everyone may edit Form tutors' details; Pat owns Trips.
 */
async function delegations(h: TestHaven) {
  const org = await setupOrganisation(h);
  const t = org.ownerToken;
  const pat = await createUser(h, t, { name: 'Pat Delegate' });
  const exams = await createUserGroup(h, t, 'Exams Office');
  const pastoral = await createUserGroup(h, t, 'Pastoral leads');
  const tutors = await createUserGroup(h, t, 'Form tutors');
  const trips = await createUserGroup(h, t, 'Trips');
  await addMembers(h, t, exams, [pat.id]);
  await addMembers(h, t, pastoral, [pat.id]);
  await putSet(h, org, exams, { kind: 'members', permissions: 'view,view_members' });
  const editors = await putSet(h, org, exams, {
    kind: 'custom',
    name: 'Editors',
    permissions: 'view,edit_details',
  });
  await assign(h, org, exams, editors, { type: 'user', id: pat.id });
  const membership = await putSet(h, org, exams, {
    kind: 'custom',
    name: 'Membership editors',
    permissions: 'view,view_members,manage_members',
  });
  await assign(h, org, exams, membership, { type: 'user_group', id: pastoral });
  await putSet(h, org, tutors, { kind: 'everyone', permissions: 'view,edit_details' });
  await addOwner(h, t, trips, pat.id);
  return { org, t, pat, exams, pastoral, tutors, trips, editors, membership };
}

describe('effective permissions list the permission sets held', () => {
  const haven = useHaven();

  it('held directly, through an assignee group, through Members, through Everyone and as owner', async () => {
    const h = haven();
    const w = await delegations(h);
    const held = await effective(h, w.t, w.pat.id);
    expect(held.groupPermissions).toEqual([
      {
        userGroup: { id: w.exams, name: 'Exams Office' },
        set: { id: 'members', kind: 'members', name: 'Members' },
        permissions: ['view', 'view_members'],
        via: { type: 'member' },
      },
      {
        userGroup: { id: w.exams, name: 'Exams Office' },
        set: { id: w.editors, kind: 'custom', name: 'Editors' },
        permissions: ['view', 'edit_details'],
        via: { type: 'direct' },
      },
      {
        userGroup: { id: w.exams, name: 'Exams Office' },
        set: { id: w.membership, kind: 'custom', name: 'Membership editors' },
        permissions: ['view', 'view_members', 'manage_members'],
        via: { type: 'user_group', userGroupId: w.pastoral, userGroupName: 'Pastoral leads' },
      },
      {
        userGroup: { id: w.tutors, name: 'Form tutors' },
        set: { id: 'everyone', kind: 'everyone', name: 'Everyone' },
        permissions: ['view', 'edit_details'],
        via: { type: 'everyone' },
      },
      // Pastoral leads' Members set holds its default.
      {
        userGroup: { id: w.pastoral, name: 'Pastoral leads' },
        set: { id: 'members', kind: 'members', name: 'Members' },
        permissions: ['view'],
        via: { type: 'member' },
      },
      {
        userGroup: { id: w.trips, name: 'Trips' },
        set: { id: 'owners', kind: 'owners', name: 'Owners' },
        permissions: ['view', 'view_members', 'edit_details', 'manage_members', 'delete'],
        via: { type: 'owner' },
      },
    ]);

    // Someone in no group, owning nothing, holds Everyone alone.
    const other = await createUser(h, w.t, { name: 'Olu Other' });
    expect((await effective(h, w.t, other.id)).groupPermissions).toEqual([
      {
        userGroup: { id: w.tutors, name: 'Form tutors' },
        set: { id: 'everyone', kind: 'everyone', name: 'Everyone' },
        permissions: ['view', 'edit_details'],
        via: { type: 'everyone' },
      },
    ]);
    // A Members set changed to nothing, and a set that holds nothing, are not held.
    await putSet(h, w.org, w.pastoral, { kind: 'members', permissions: '' });
    await putSet(h, w.org, w.tutors, { kind: 'everyone', permissions: '' });
    const after = await effective(h, w.t, w.pat.id);
    expect(
      after.groupPermissions.map((s: { userGroup: { name: string } }) => s.userGroup.name),
    ).toEqual(['Exams Office', 'Exams Office', 'Exams Office', 'Trips']);
    expect((await effective(h, w.t, other.id)).groupPermissions).toEqual([]);
  });

  it('as of a time before a set was assigned, and after it was removed, answers the then-state', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const pat = await createUser(h, t, { name: 'Pat Delegate' });
    const exams = await createUserGroup(h, t, 'Exams Office');
    const pastoral = await createUserGroup(h, t, 'Pastoral leads');
    await addMembers(h, t, pastoral, [pat.id]);
    const editors = await putSet(h, org, exams, {
      kind: 'custom',
      name: 'Editors',
      permissions: 'view,edit_details',
    });
    await tick();
    const before = new Date().toISOString();
    await tick();
    await assign(h, org, exams, editors, { type: 'user', id: pat.id });
    await assign(h, org, exams, editors, { type: 'user_group', id: pastoral });
    await tick();
    const during = new Date().toISOString();
    await tick();
    await unassign(h, org, exams, editors, pat.id);
    // Renamed and widened later: the past answers the set as it was then.
    await putSet(h, org, exams, {
      kind: 'custom',
      setId: editors,
      name: 'Membership editors',
      permissions: 'view,manage_members',
    });
    await tick();
    const renamed = new Date().toISOString();
    await tick();
    await unassign(h, org, exams, editors, pastoral);

    const names = (body: { groupPermissions: { userGroup: { name: string } }[] }) =>
      body.groupPermissions.map((s) => s.userGroup.name);
    expect(names(await effective(h, t, pat.id, before))).toEqual(['Pastoral leads']);
    const then = await effective(h, t, pat.id, during);
    expect(then.asOf).toBe(during);
    expect(
      then.groupPermissions.filter((s: { userGroup: { id: string } }) => s.userGroup.id === exams),
    ).toEqual([
      {
        userGroup: { id: exams, name: 'Exams Office' },
        set: { id: editors, kind: 'custom', name: 'Editors' },
        permissions: ['view', 'edit_details'],
        via: { type: 'direct' },
      },
      {
        userGroup: { id: exams, name: 'Exams Office' },
        set: { id: editors, kind: 'custom', name: 'Editors' },
        permissions: ['view', 'edit_details'],
        via: { type: 'user_group', userGroupId: pastoral, userGroupName: 'Pastoral leads' },
      },
    ]);
    expect(
      (await effective(h, t, pat.id, renamed)).groupPermissions.filter(
        (s: { userGroup: { id: string } }) => s.userGroup.id === exams,
      ),
    ).toEqual([
      {
        userGroup: { id: exams, name: 'Exams Office' },
        set: { id: editors, kind: 'custom', name: 'Membership editors' },
        permissions: ['view', 'manage_members'],
        via: { type: 'user_group', userGroupId: pastoral, userGroupName: 'Pastoral leads' },
      },
    ]);
    expect(names(await effective(h, t, pat.id))).toEqual(['Pastoral leads']);

    // The report as of the same times agrees.
    const administers = async (asOf?: string) =>
      rowOf(await report(h, org, undefined, asOf), pat.id).groupAdministration.map(
        (a) => `${a.set.name}/${a.via.type}`,
      );
    expect(await administers(before)).toEqual([]);
    expect(await administers(during)).toEqual(['Editors/direct', 'Editors/user_group']);
    expect(await administers(renamed)).toEqual(['Membership editors/user_group']);
    expect(await administers()).toEqual([]);
  });

  it('a member who leaves an assignee group loses the set at once, and held it until then', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const atSchool: Scope = { type: 'school', id: org.schoolId };
    const pat = await createUser(h, t, { name: 'Pat Delegate', role: 'viewer', scope: atSchool });
    const newcomer = await createUser(h, t, { name: 'Nia Newcomer' });
    const later = await createUser(h, t, { name: 'Lee Later' });
    const exams = await createUserGroup(h, t, 'Exams Office');
    const leaders = await createUserGroup(h, t, 'Team leaders');
    await addMembers(h, t, leaders, [pat.id]);
    const created = await h.post(`/api/v1/user-groups/${exams}/permission-sets`, t, {
      name: 'Membership editors',
      permissions: ['manage_members'],
      assignees: [{ type: 'user_group', id: leaders }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const setId = created.body.id as string;
    const addTo = (userId: string) =>
      h.post(`/api/v1/user-groups/${exams}/members`, pat.token, { userIds: [userId] });
    expect((await addTo(newcomer.id)).status).toBe(200);
    await tick();
    const during = new Date().toISOString();
    await tick();
    const left = await h.delete(`/api/v1/user-groups/${leaders}/members/${pat.id}`, t);
    expect(left.status).toBe(204);

    // The next request is refused: Pat no longer sees the group at all.
    expect((await addTo(later.id)).status).toBe(404);
    expect((await effective(h, t, pat.id)).groupPermissions).toEqual([]);
    // As of before leaving: the set, held as a member of Team leaders (and Team leaders' Members set).
    const then = await effective(h, t, pat.id, during);
    expect(then.groupPermissions).toEqual([
      {
        userGroup: { id: exams, name: 'Exams Office' },
        set: { id: setId, kind: 'custom', name: 'Membership editors' },
        permissions: ['view', 'manage_members'],
        via: { type: 'user_group', userGroupId: leaders, userGroupName: 'Team leaders' },
      },
      {
        userGroup: { id: leaders, name: 'Team leaders' },
        set: { id: 'members', kind: 'members', name: 'Members' },
        permissions: ['view'],
        via: { type: 'member' },
      },
    ]);
    // The report agrees, then and now.
    const administers = async (asOf?: string) =>
      (await report(h, org, undefined, asOf))
        .find((r) => r.userId === pat.id)
        ?.groupAdministration.map((a) => `${a.userGroup.name}/${a.set.name}/${a.via.type}`);
    expect(await administers(during)).toEqual(['Exams Office/Membership editors/user_group']);
    expect(await administers()).toEqual([]);
    // The assignment itself is untouched: Team leaders' members still hold the set.
    const sets = await h.get(`/api/v1/user-groups/${exams}/permission-sets`, t);
    expect(sets.body.items.find((s: { id: string }) => s.id === setId).assignees).toEqual([
      { type: 'user_group', id: leaders, name: 'Team leaders', memberCount: 0 },
    ]);
    const members = await h.get(`/api/v1/user-groups/${exams}/members`, t);
    expect(members.body.items.map((m: { id: string }) => m.id)).toEqual([newcomer.id]);
  });

  it('a reader who may not see a group gets no trace of it; a via group unseen is not named', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const t = org.ownerToken;
    const birch = await addSchool(h, t, 'Birch Academy');
    const atOak: Scope = { type: 'school', id: org.schoolId };
    const atBirch: Scope = { type: 'school', id: birch };
    const oakAdmin = await createUser(h, t, { name: 'Ada OakAdmin', role: 'admin', scope: atOak });
    const pat = await createUser(h, t, { name: 'Pat Delegate' });
    const wellbeing = await createUserGroup(h, t, 'Oak Wellbeing', { homeScope: atOak });
    const nurture = await createUserGroup(h, t, 'Birch Nurture Crew', { homeScope: atBirch });
    const readers = await createUserGroup(h, t, 'Birch Readers', { homeScope: atBirch });
    await addMembers(h, t, readers, [pat.id]);
    const hidden = await putSet(h, org, nurture, {
      kind: 'custom',
      name: 'Crew editors',
      permissions: 'view,edit_details',
    });
    await assign(h, org, nurture, hidden, { type: 'user', id: pat.id });
    const shown = await putSet(h, org, wellbeing, {
      kind: 'custom',
      name: 'Wellbeing membership',
      permissions: 'view,manage_members',
    });
    await assign(h, org, wellbeing, shown, { type: 'user_group', id: readers });

    const seenByAdmin = await effective(h, oakAdmin.token!, pat.id);
    expect(seenByAdmin.groupPermissions).toEqual([
      {
        userGroup: { id: wellbeing, name: 'Oak Wellbeing' },
        set: { id: shown, kind: 'custom', name: 'Wellbeing membership' },
        permissions: ['view', 'manage_members'],
        via: { type: 'user_group', userGroupId: null, userGroupName: null },
      },
    ]);
    const text = JSON.stringify(seenByAdmin);
    for (const secret of [
      nurture,
      readers,
      hidden,
      'Birch Nurture Crew',
      'Birch Readers',
      'Crew editors',
    ])
      expect(text, secret).not.toContain(secret);

    // The Owner sees every group: all three sets, the via group named.
    const seenByOwner = await effective(h, t, pat.id);
    expect(
      seenByOwner.groupPermissions.map(
        (s: {
          userGroup: { name: string };
          set: { name: string };
          via: { userGroupName?: string };
        }) => `${s.userGroup.name}/${s.set.name}/${s.via.userGroupName ?? '-'}`,
      ),
    ).toEqual([
      'Birch Nurture Crew/Crew editors/-',
      'Birch Readers/Members/-',
      'Oak Wellbeing/Wellbeing membership/Birch Readers',
    ]);

    // A school's report: the Oak group with its via group withheld, nothing of Birch's groups;
    // Pat is in it for administering an Oak group alone.
    const oakRows = await report(h, org, atOak);
    expect(rowOf(oakRows, pat.id).groupAdministration).toEqual([
      {
        userGroup: { id: wellbeing, name: 'Oak Wellbeing' },
        set: { id: shown, kind: 'custom', name: 'Wellbeing membership' },
        permissions: ['view', 'manage_members'],
        via: {
          type: 'user_group',
          userGroup: { id: '', name: 'a user group outside this report' },
        },
      },
    ]);
    const oakText = JSON.stringify(oakRows);
    for (const secret of [
      nurture,
      readers,
      hidden,
      'Birch Nurture Crew',
      'Birch Readers',
      'Crew editors',
    ])
      expect(oakText, secret).not.toContain(secret);
    // Birch's report: its own group, and not Oak's.
    const birchRow = rowOf(await report(h, org, atBirch), pat.id);
    expect(
      birchRow.groupAdministration.map((a) => `${a.userGroup.name}/${a.set.name}/${a.via.type}`),
    ).toEqual(['Birch Nurture Crew/Crew editors/direct']);
    // Without any set on a group of its scope, Pat is not in Oak's report at all.
    await unassign(h, org, wellbeing, shown, readers);
    expect((await report(h, org, atOak)).find((r) => r.userId === pat.id)).toBeUndefined();
  });
});

describe('the Access Audit Report shows delegated administrators', () => {
  const haven = useHaven();

  it('each row lists the groups administered beyond viewing, with set, permissions and assignment (JSON, CSV and PDF)', async () => {
    const h = haven();
    const w = await delegations(h);
    const viewerOnly = await createUser(h, w.t, { name: 'Val Viewsonly' });
    const watchers = await putSet(h, w.org, w.exams, {
      kind: 'custom',
      name: 'Watchers',
      permissions: 'view,view_members',
    });
    await assign(h, w.org, w.exams, watchers, { type: 'user', id: viewerOnly.id });

    const rows = await report(h, w.org);
    expect(rowOf(rows, w.pat.id).groupAdministration).toEqual([
      {
        userGroup: { id: w.exams, name: 'Exams Office' },
        set: { id: w.editors, kind: 'custom', name: 'Editors' },
        permissions: ['view', 'edit_details'],
        via: { type: 'direct' },
      },
      {
        userGroup: { id: w.exams, name: 'Exams Office' },
        set: { id: w.membership, kind: 'custom', name: 'Membership editors' },
        permissions: ['view', 'view_members', 'manage_members'],
        via: { type: 'user_group', userGroup: { id: w.pastoral, name: 'Pastoral leads' } },
      },
      {
        userGroup: { id: w.tutors, name: 'Form tutors' },
        set: { id: 'everyone', kind: 'everyone', name: 'Everyone' },
        permissions: ['view', 'edit_details'],
        via: { type: 'everyone' },
      },
      {
        userGroup: { id: w.trips, name: 'Trips' },
        set: { id: 'owners', kind: 'owners', name: 'Owners' },
        permissions: ['view', 'view_members', 'edit_details', 'manage_members', 'delete'],
        via: { type: 'owner' },
      },
    ]);
    // Viewing alone (Watchers, Members with view_members) administers nothing; Everyone still does.
    expect(rowOf(rows, viewerOnly.id).groupAdministration.map((a) => a.userGroup.name)).toEqual([
      'Form tutors',
    ]);
    // A Members set beyond viewing: every member administers the group.
    await putSet(h, w.org, w.pastoral, { kind: 'members', permissions: 'view,delete' });
    const later = await report(h, w.org);
    expect(
      rowOf(later, w.pat.id).groupAdministration.map((a) => `${a.userGroup.name}/${a.via.type}`),
    ).toEqual([
      'Exams Office/direct',
      'Exams Office/user_group',
      'Form tutors/everyone',
      'Pastoral leads/member',
      'Trips/owner',
    ]);

    // A saved run: the JSON holds the field, the CSV and the PDF say it in words.
    const saved = await h.post('/api/v1/reports/access-audit', w.t, {});
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const download = async (format: string) =>
      (
        await h.app.inject({
          method: 'GET',
          url: `/api/v1/reports/access-audit/${saved.body.id}`,
          query: { format },
          headers: { authorization: `Bearer ${w.t}` },
        })
      ).rawPayload;
    const savedRows: AccessAuditRow[] = [];
    for await (const part of readDocument([await download('json')]))
      if (part.kind === 'row') savedRows.push(part.row);
    expect(rowOf(savedRows, w.pat.id).groupAdministration).toEqual(
      rowOf(later, w.pat.id).groupAdministration,
    );
    const csv = (await download('csv')).toString('utf8').trim().split('\n');
    const header = csv[0]!.split(',');
    const column = header.indexOf('Group administration');
    expect(column).toBeGreaterThan(0);
    const patLine = csv.find((l) => l.startsWith('Pat Delegate,'))!;
    expect(patLine).toContain(
      'Exams Office: Editors [View the group, edit its details] assigned directly; ' +
        'Exams Office: Membership editors [View the group, see its members, add and remove members] as a member of Pastoral leads; ' +
        'Form tutors: Everyone [View the group, edit its details] everyone; ' +
        'Pastoral leads: Members [View the group, delete the group] as a member; ' +
        'Trips: Owners [View the group, see its members, edit its details, add and remove members, delete the group] as owner',
    );
    const valLine = csv.find((l) => l.startsWith('Val Viewsonly,'))!;
    expect(valLine).toContain('Form tutors: Everyone [View the group, edit its details] everyone');
    expect(valLine).not.toContain('Watchers');
    // The printable report has the column, in the same words (its text read back by pdf.js).
    const pdf = (await pdfText(await download('pdf'))).replace(/\s+/g, ' ');
    expect(pdf).toContain('Group administration');
    for (const words of [
      'Exams Office: Editors [View the group, edit its details] assigned directly',
      'Exams Office: Membership editors [View the group, see its members, add and remove members] as a member of Pastoral leads',
      'Trips: Owners [View the group, see its members, edit its details, add and remove members, delete the group] as owner',
    ])
      expect(pdf).toContain(words);
    expect(pdf).not.toContain('Watchers');
  });
});

describe('a saved run from before delegated administration was reported', () => {
  it('reads back with none', async () => {
    const line = JSON.stringify({ userId: 'u1', name: 'Old Row', roles: [] });
    const parts = [];
    for await (const part of readDocument([
      Buffer.from(`{"report":{"id":"r"},"rows":[\n${line}\n],"totals":{"people":1}}\n`),
    ]))
      parts.push(part);
    expect(parts[1]).toMatchObject({
      kind: 'row',
      row: { name: 'Old Row', groupAdministration: [] },
    });
  });
});
