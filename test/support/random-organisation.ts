import fc from 'fast-check';
import { can, holdsActiveRole, viewerOf } from '../../src/access/decide.ts';
import { incidentReadable, incidentReaders } from '../../src/access/incidents.ts';
import { loadPrincipal } from '../../src/access/principal.ts';
import { readerOf } from '../../src/access/readers.ts';
import { type GrantableRole, grantableRoles } from '../../src/access/roles.ts';
import { studentVisibleTo } from '../../src/access/visibility.ts';
import type { Sensitivity } from '../../src/db/tables.ts';
import { HavenError } from '../../src/lib/errors.ts';
import { runChange } from '../../src/modules/audit/change.ts';
import { addSchool, login, mfaEnrolmentNotRequired, uniqueEmail } from './factories.ts';
import { type Reply, STRONG_PASSWORD, type TestHaven } from './haven.ts';

/**
 * Random small organisations for property tests of the record layer: two schools (a "Hub"
 * school group holding the first, sometimes both), a handful of children, users holding random
 * roles at random scopes (some none), user groups with random members, grants, links and
 * clearances, direct links, blocks, and incidents of each sensitivity with random children,
 * reporters, assignees, allegation subjects and exclusions; and random changes to make to them
 * (`ChangeSpec`). Everything is made through Haven's own commands: the API, or the service
 * command where the route costs too much (reports written by other users than the Owner, and
 * assignments, which the route reads back in full after each one).
 *
 * The organisation's first Owner (the "caller") belongs to both schools' Safeguarding Teams and
 * to "Leadership", a group holding both clearances and linked to every child of both schools; the
 * two-factor step-up is switched off at both schools.
 */

export type ScopeRef =
  | { type: 'organisation' }
  | { type: 'school'; school: 0 | 1 }
  | { type: 'school_group' };
export interface GrantSpec {
  role: GrantableRole;
  scope: ScopeRef;
}
/** A user of the scenario by index, or the organisation's first Owner. */
export type PersonRef = number | 'caller';
/** A student group (0, 1: All students of each school; then the manual ones) or one child. */
export type LinkRef = { studentGroup: number } | { student: number };
/** Groups by index: 0, 1 the Safeguarding Teams, 2 Leadership, then the random ones. */
export type AssigneeRef = { type: 'user'; who: PersonRef } | { type: 'user_group'; group: number };
export const fixedGroups = 3;
export const sensitivities: readonly Sensitivity[] = ['standard', 'child_protection', 'allegation'];
export type ClearanceName = 'child_protection' | 'allegations';

export interface OrganisationSpec {
  hubHasBothSchools: boolean;
  /** Children; one now and then left the school (off roll) or was deleted after the reports. */
  students: { school: 0 | 1; onRoll: boolean; deleted: boolean }[];
  manualGroups: { members: number[] }[];
  users: { grants: GrantSpec[]; disabled: boolean }[];
  /** Extra members of the Safeguarding Teams and Leadership. */
  fixedGroupMembers: [number[], number[], number[]];
  groups: {
    members: number[];
    grants: GrantSpec[];
    links: LinkRef[];
    clearances: ClearanceName[];
  }[];
  directLinks: [number, number][];
  blocks: [number, number][];
  incidents: {
    school: 0 | 1;
    students: number[];
    sensitivity: Sensitivity;
    reporter: PersonRef;
    subject: PersonRef;
    assignees: AssigneeRef[];
    exclusions: PersonRef[];
  }[];
}

export type BatchOpSpec =
  | { op: 'addMembers'; users: PersonRef[] }
  | { op: 'removeMembers'; users: PersonRef[] }
  | { op: 'addStudentLink'; target: LinkRef }
  | { op: 'setClearances'; clearances: ClearanceName[] };

/** A user who makes an incident change in place of the Owner (given Deputy DSL or higher). */
export interface ActorSpec {
  user: number;
  role: 'deputy_dsl' | 'dsl' | 'owner';
  scope: ScopeRef;
}

/**
 * A change. With `aim`, its indices choose among the targets where it could widen (records the
 * previewing caller reads, people holding a role who do not read them yet...), resolved against
 * the organisation as built; without, among everything. Both are drawn, so refusals, no-ops and
 * widenings all occur.
 */
export type ChangeSpec =
  | { kind: 'assign'; aim: boolean; incident: number; to: AssigneeRef; byActor: boolean }
  | {
      kind: 'reclassify';
      aim: boolean;
      incident: number;
      /** The new sensitivity is `shift` places on from the current one (always another one). */
      shift: 1 | 2;
      subject: PersonRef;
      clearSubject: boolean;
      children: 'keep' | { add: number } | 'drop_one';
      status: 'closed' | 'in_progress' | null;
      moveSchool: boolean;
      byActor: boolean;
    }
  | { kind: 'link'; aim: boolean; group: number; target: LinkRef }
  | { kind: 'members'; aim: boolean; group: number; users: PersonRef[] }
  | {
      kind: 'clearances';
      aim: boolean;
      group: number;
      clearances: ClearanceName[];
      via: 'put' | 'batch';
    }
  | { kind: 'batch'; aim: boolean; group: number; operations: BatchOpSpec[] }
  | {
      kind: 'grant';
      aim: boolean;
      subject: { type: 'user'; who: PersonRef } | { type: 'user_group'; group: number };
      role: GrantableRole;
      scope: ScopeRef;
    }
  | { kind: 'unblock'; aim: boolean; block: number }
  | { kind: 'direct_link'; aim: boolean; user: number; student: number };

/**
 * An organisation and one to four changes made to it one after the other. Assignments and reclassifications are made by the actor when there is one and `byActor` says
 * so, by the organisation's first Owner otherwise; every other change by the Owner.
 */
export interface Case {
  organisation: OrganisationSpec;
  actor: ActorSpec | null;
  changes: ChangeSpec[];
}

// ---------- generators ----------

export const scopeRef: fc.Arbitrary<ScopeRef> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ type: 'organisation' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(0 as const, 1 as const)
      .map((school) => ({ type: 'school' as const, school })),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'school_group' as const }) },
);
export const grantSpec: fc.Arbitrary<GrantSpec> = fc.record({
  role: fc.oneof(
    { weight: 4, arbitrary: fc.constant<GrantableRole>('viewer') },
    { weight: 1, arbitrary: fc.constantFrom<GrantableRole>(...grantableRoles) },
  ),
  scope: scopeRef,
});
const clearanceSet = fc.subarray<ClearanceName>(['child_protection', 'allegations']);
/** A random group's clearances: child protection most often. */
const groupClearances = fc.constantFrom<ClearanceName[]>(
  [],
  ['child_protection'],
  ['child_protection'],
  ['allegations'],
  ['child_protection', 'allegations'],
);

export const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    nStudents: fc.integer({ min: 2, max: 5 }),
    nUsers: fc.integer({ min: 2, max: 6 }),
    nManual: fc.integer({ min: 0, max: 2 }),
    nGroups: fc.integer({ min: 1, max: 3 }),
    nIncidents: fc.integer({ min: 2, max: 5 }),
    nBlocks: fc.integer({ min: 1, max: 3 }),
  })
  .chain(({ nStudents, nUsers, nManual, nGroups, nIncidents, nBlocks }) => {
    const student = fc.integer({ min: 0, max: nStudents - 1 });
    const user = fc.integer({ min: 0, max: nUsers - 1 });
    const person: fc.Arbitrary<PersonRef> = fc.oneof(
      { weight: 6, arbitrary: user },
      { weight: 1, arbitrary: fc.constant('caller' as const) },
    );
    const group = fc.integer({ min: 0, max: fixedGroups + nGroups - 1 });
    const linkRef: fc.Arbitrary<LinkRef> = fc.oneof(
      {
        weight: 2,
        arbitrary: fc
          .integer({ min: 0, max: 1 + nManual })
          .map((studentGroup) => ({ studentGroup })),
      },
      { weight: 1, arbitrary: student.map((s) => ({ student: s })) },
    );
    const assignee: fc.Arbitrary<AssigneeRef> = fc.oneof(
      { weight: 2, arbitrary: person.map((who) => ({ type: 'user' as const, who })) },
      { weight: 1, arbitrary: group.map((g) => ({ type: 'user_group' as const, group: g })) },
    );
    const actor: fc.Arbitrary<ActorSpec | null> = fc.oneof(
      { weight: 1, arbitrary: fc.constant(null) },
      {
        weight: 1,
        arbitrary: fc.record({
          user,
          role: fc.constantFrom('deputy_dsl' as const, 'dsl' as const, 'owner' as const),
          scope: fc.oneof(fc.constant({ type: 'organisation' as const }), scopeRef),
        }),
      },
    );
    const byActor = fc.constantFrom(false, false, true);
    const people = fc.uniqueArray(person, { minLength: 1, maxLength: 3 });
    const batchOp: fc.Arbitrary<BatchOpSpec> = fc.oneof(
      { weight: 2, arbitrary: people.map((users) => ({ op: 'addMembers' as const, users })) },
      { weight: 1, arbitrary: people.map((users) => ({ op: 'removeMembers' as const, users })) },
      {
        weight: 2,
        arbitrary: linkRef.map((target) => ({ op: 'addStudentLink' as const, target })),
      },
      {
        weight: 2,
        arbitrary: clearanceSet.map((clearances) => ({ op: 'setClearances' as const, clearances })),
      },
    );
    const aim = fc.constantFrom(true, true, true, false);
    const change: fc.Arbitrary<ChangeSpec> = fc.oneof(
      fc.record({
        kind: fc.constant('assign' as const),
        aim,
        incident: fc.integer({ min: 0, max: nIncidents - 1 }),
        to: assignee,
        byActor,
      }),
      fc.record({
        kind: fc.constant('reclassify' as const),
        aim,
        incident: fc.integer({ min: 0, max: nIncidents - 1 }),
        shift: fc.constantFrom(1 as const, 2 as const),
        subject: person,
        clearSubject: fc.boolean(),
        children: fc.oneof(
          { weight: 3, arbitrary: fc.constant('keep' as const) },
          { weight: 1, arbitrary: student.map((add) => ({ add })) },
          { weight: 1, arbitrary: fc.constant('drop_one' as const) },
        ),
        status: fc.constantFrom(null, null, 'closed' as const, 'in_progress' as const),
        moveSchool: fc.constantFrom(false, false, false, true),
        byActor,
      }),
      fc.record({ kind: fc.constant('link' as const), aim, group, target: linkRef }),
      fc.record({ kind: fc.constant('members' as const), aim, group, users: people }),
      fc.record({
        kind: fc.constant('clearances' as const),
        aim,
        group,
        clearances: clearanceSet,
        via: fc.constantFrom('put' as const, 'batch' as const),
      }),
      fc.record({
        kind: fc.constant('batch' as const),
        aim,
        group,
        operations: fc.array(batchOp, { minLength: 1, maxLength: 3 }),
      }),
      fc.record({
        kind: fc.constant('grant' as const),
        aim,
        subject: fc.oneof(
          { weight: 2, arbitrary: person.map((who) => ({ type: 'user' as const, who })) },
          { weight: 1, arbitrary: group.map((g) => ({ type: 'user_group' as const, group: g })) },
        ),
        role: grantSpec.map((g) => g.role),
        scope: scopeRef,
      }),
      fc.record({
        kind: fc.constant('unblock' as const),
        aim,
        block: fc.integer({ min: 0, max: nBlocks - 1 }),
      }),
      fc.record({ kind: fc.constant('direct_link' as const), aim, user, student }),
    );
    const organisation: fc.Arbitrary<OrganisationSpec> = fc.record({
      hubHasBothSchools: fc.boolean(),
      students: fc.array(
        fc.record({
          school: fc.constantFrom(0 as const, 1 as const),
          onRoll: fc.constantFrom(true, true, true, true, true, false),
          deleted: fc.constantFrom(false, false, false, false, false, false, false, true),
        }),
        { minLength: nStudents, maxLength: nStudents },
      ),
      manualGroups: fc.array(fc.record({ members: fc.uniqueArray(student, { maxLength: 3 }) }), {
        minLength: nManual,
        maxLength: nManual,
      }),
      users: fc.array(
        fc.record({
          grants: fc.oneof(
            { weight: 1, arbitrary: fc.constant<GrantSpec[]>([]) },
            { weight: 5, arbitrary: fc.array(grantSpec, { minLength: 1, maxLength: 2 }) },
          ),
          disabled: fc.constantFrom(false, false, false, false, false, false, false, true),
        }),
        { minLength: nUsers, maxLength: nUsers },
      ),
      fixedGroupMembers: fc.tuple(
        fc.uniqueArray(user, { maxLength: 2 }),
        fc.uniqueArray(user, { maxLength: 2 }),
        fc.uniqueArray(user, { maxLength: 1 }),
      ),
      groups: fc.array(
        fc.record({
          members: fc.uniqueArray(user, { minLength: 1, maxLength: 3 }),
          grants: fc.oneof(
            { weight: 1, arbitrary: fc.constant<GrantSpec[]>([]) },
            { weight: 4, arbitrary: grantSpec.map((g) => [g]) },
          ),
          links: fc.uniqueArray(linkRef, {
            minLength: 1,
            maxLength: 2,
            selector: (l) => JSON.stringify(l),
          }),
          clearances: groupClearances,
        }),
        { minLength: nGroups, maxLength: nGroups },
      ),
      directLinks: fc.uniqueArray(fc.tuple(user, student), {
        maxLength: 2,
        selector: ([u, s]) => `${u}:${s}`,
      }),
      blocks: fc.uniqueArray(fc.tuple(user, student), {
        minLength: nBlocks,
        maxLength: nBlocks,
        selector: ([u, s]) => `${u}:${s}`,
      }),
      incidents: fc.array(
        fc.record({
          school: fc.constantFrom(0 as const, 1 as const),
          students: fc.uniqueArray(student, { minLength: 1, maxLength: 3 }),
          sensitivity: fc.constantFrom<Sensitivity>(
            'standard',
            'child_protection',
            'child_protection',
            'allegation',
          ),
          reporter: person,
          subject: fc.oneof({ weight: 4, arbitrary: user }, { weight: 1, arbitrary: person }),
          assignees: fc.array(assignee, { maxLength: 2 }),
          exclusions: fc.oneof(
            { weight: 3, arbitrary: fc.constant<PersonRef[]>([]) },
            { weight: 1, arbitrary: person.map((p) => [p]) },
          ),
        }),
        { minLength: nIncidents, maxLength: nIncidents },
      ),
    });
    return fc.record({
      organisation,
      actor,
      changes: fc.array(change, { minLength: 1, maxLength: 4 }),
    });
  });

// ---------- building an organisation through Haven's commands ----------

/** A link to an "All students" group is made only when confirmed with a reason (issue 14, item 6). */
export const allStudentsConfirmed = { confirm: true, rationale: 'Property test' } as const;

export async function ok<T = any>(reply: Reply<T>, what: string): Promise<T> {
  if (reply.status >= 300)
    throw new Error(`${what}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export interface BuiltOrganisation {
  organisationId: string;
  callerId: string;
  callerToken: string;
  schools: [string, string];
  hub: string;
  students: string[];
  /** All students of school A, of school B, then the manual groups. */
  studentGroups: string[];
  users: string[];
  /** Safeguarding Team A, Safeguarding Team B, Leadership, then the random groups. */
  groups: string[];
  blocks: string[];
  incidents: string[];
  categories: Record<string, Record<Sensitivity, string>>;
  /** The user acting in place of the Owner for an incident change, signed in. */
  actor: { id: string; token: string } | null;
  /** Readable names for ids, for describing a case. */
  labels: Map<string, string>;
  /** What the organisation holds, one line each, in those names. */
  description: string[];
}

export async function buildOrganisation(
  h: TestHaven,
  spec: OrganisationSpec,
  actor: ActorSpec | null,
  run: number,
): Promise<BuiltOrganisation> {
  const labels = new Map<string, string>();
  const lines: string[] = [];
  const email = uniqueEmail('widening-owner');
  const created = await h.services.organisations.createOrganisation(
    {
      organisationName: `Widening Trust ${run}`,
      schoolName: 'School A',
      owner: { email, name: 'Caller', password: STRONG_PASSWORD },
    },
    { organisationId: null, userId: null, via: 'cli' },
  );
  await mfaEnrolmentNotRequired(h, created.schoolId);
  const t = await login(h, email);
  const org = created.organisationId;
  labels.set(created.ownerId, 'caller');
  const schoolB = await addSchool(h, t, 'School B');
  const schools: [string, string] = [created.schoolId, schoolB];
  labels.set(schools[0], 'school A');
  labels.set(schools[1], 'school B');
  for (const school of schools)
    await ok(
      await h.patch(`/api/v1/schools/${school}/settings`, t, { requireMfaForSensitive: false }),
      'step-up off',
    );
  const hub = (
    await ok(
      await h.post('/api/v1/school-groups', t, {
        name: 'Hub',
        schoolIds: spec.hubHasBothSchools ? schools : [schools[0]],
      }),
      'school group',
    )
  ).id as string;
  labels.set(hub, 'Hub');
  lines.push(`schools A and B; Hub holds ${spec.hubHasBothSchools ? 'A and B' : 'A'}`);
  const scopeOf = (s: ScopeRef) =>
    s.type === 'organisation'
      ? { type: 'organisation', id: org }
      : s.type === 'school'
        ? { type: 'school', id: schools[s.school] }
        : { type: 'school_group', id: hub };

  // What each school was created with, looked up by the keys the defaults are made with.
  const db = h.database.db;
  const categories: BuiltOrganisation['categories'] = {};
  const groups: string[] = [];
  const studentGroups: string[] = [];
  for (const [index, schoolId] of schools.entries()) {
    const team = await db
      .selectFrom('user_groups')
      .select('id')
      .where('system_key', '=', `safeguarding_team:${schoolId}`)
      .executeTakeFirstOrThrow();
    groups.push(team.id);
    labels.set(team.id, `Team ${'AB'[index]}`);
    const all = await db
      .selectFrom('student_groups')
      .select('id')
      .where('system_key', '=', `all_students:${schoolId}`)
      .executeTakeFirstOrThrow();
    studentGroups.push(all.id);
    labels.set(all.id, `All ${'AB'[index]}`);
    const items = await db
      .selectFrom('categories')
      .select(['id', 'sensitivity'])
      .where('school_id', '=', schoolId)
      .where('deleted_at', 'is', null)
      .orderBy('name')
      .execute();
    const bySensitivity = {} as Record<Sensitivity, string>;
    for (const s of sensitivities) {
      const found = items.find((c) => c.sensitivity === s);
      if (!found) throw new Error(`no ${s} category at school ${'AB'[index]}`);
      bySensitivity[s] = found.id;
    }
    categories[schoolId] = bySensitivity;
  }

  const students: string[] = [];
  for (const [index, s] of spec.students.entries()) {
    const id = (
      await ok(
        await h.post('/api/v1/students', t, {
          schoolId: schools[s.school],
          givenName: 'Kid',
          familyName: `S${index}`,
          onRoll: s.onRoll,
        }),
        'student',
      )
    ).id as string;
    students.push(id);
    labels.set(id, `S${index}`);
  }
  lines.push(
    `children: ${spec.students
      .map(
        (s, i) =>
          `S${i}@${'AB'[s.school]}${s.onRoll ? '' : ' (off roll)'}${s.deleted ? ' (deleted)' : ''}`,
      )
      .join(', ')}`,
  );
  for (const [index, g] of spec.manualGroups.entries()) {
    const id = (
      await ok(
        await h.post('/api/v1/student-groups', t, {
          name: `M${index}`,
          schoolId: null,
          kind: 'manual',
          studentIds: g.members.map((i) => students[i]),
        }),
        'manual group',
      )
    ).id as string;
    studentGroups.push(id);
    labels.set(id, `M${index}`);
    lines.push(`manual student group M${index} = {${g.members.map((i) => `S${i}`).join(', ')}}`);
  }

  const users: string[] = [];
  for (const index of spec.users.keys()) {
    const acting = actor?.user === index;
    const id = (
      await ok(
        await h.post('/api/v1/users', t, {
          email: uniqueEmail(acting ? 'widening-actor' : 'widening'),
          name: `U${index}`,
          ...(acting ? { password: STRONG_PASSWORD } : {}),
        }),
        'user',
      )
    ).id as string;
    users.push(id);
    labels.set(id, `U${index}`);
  }
  const grantText = (g: GrantSpec) =>
    `${g.role}@${g.scope.type === 'school' ? `school ${'AB'[g.scope.school]}` : g.scope.type === 'school_group' ? 'Hub' : 'organisation'}`;
  for (const [index, u] of spec.users.entries()) {
    const grants = [...u.grants];
    if (actor?.user === index) grants.push({ role: actor.role, scope: actor.scope });
    const granted = new Set<string>();
    for (const g of grants) {
      const key = JSON.stringify(g);
      if (granted.has(key)) continue;
      granted.add(key);
      await ok(
        await h.post('/api/v1/role-grants', t, {
          subject: { type: 'user', id: users[index] },
          role: g.role,
          scope: scopeOf(g.scope),
        }),
        'user grant',
      );
    }
    lines.push(
      `U${index}: ${grants.length ? [...granted].map((k) => grantText(JSON.parse(k))).join(', ') : 'no role'}${u.disabled && actor?.user !== index ? ' (disabled)' : ''}${actor?.user === index ? ' (the actor)' : ''}`,
    );
  }

  // Each group is set up in one batch (links, clearances, members), as an Admin would.
  const setUp = async (groupId: string, operations: object[]) => {
    if (operations.length > 0)
      await ok(await h.post(`/api/v1/user-groups/${groupId}/batch`, t, { operations }), 'batch');
  };
  const addMembers = (members: number[]) =>
    members.length ? [{ op: 'addMembers', userIds: members.map((i) => users[i]) }] : [];
  for (const [index, members] of spec.fixedGroupMembers.slice(0, 2).entries())
    await setUp(groups[index]!, addMembers(members));
  // Leadership: the caller's group, both clearances, every child of both schools.
  const leadership = (await ok(await h.post('/api/v1/user-groups', t, { name: 'Leadership' }), 'g'))
    .id as string;
  groups.push(leadership);
  labels.set(leadership, 'Leadership');
  await setUp(leadership, [
    { op: 'setClearances', clearances: ['child_protection', 'allegations'] },
    ...studentGroups
      .slice(0, 2)
      .map((sg) => ({ op: 'addStudentLink', studentGroupId: sg, ...allStudentsConfirmed })),
    {
      op: 'addMembers',
      userIds: [created.ownerId, ...spec.fixedGroupMembers[2].map((i) => users[i])],
    },
  ]);
  for (const [index, g] of spec.groups.entries()) {
    const id = (
      await ok(await h.post('/api/v1/user-groups', t, { name: `G${index}` }), 'user group')
    ).id as string;
    groups.push(id);
    labels.set(id, `G${index}`);
    for (const grant of g.grants)
      await ok(
        await h.post('/api/v1/role-grants', t, {
          subject: { type: 'user_group', id },
          role: grant.role,
          scope: scopeOf(grant.scope),
        }),
        'group grant',
      );
    await setUp(id, [
      ...g.links.map((link) =>
        'student' in link
          ? { op: 'addStudentLink', studentId: students[link.student] }
          : {
              op: 'addStudentLink',
              studentGroupId: studentGroups[link.studentGroup],
              ...allStudentsConfirmed,
            },
      ),
      ...(g.clearances.length ? [{ op: 'setClearances', clearances: g.clearances }] : []),
      ...addMembers(g.members),
    ]);
  }
  const linkText = (l: LinkRef) =>
    'student' in l ? `S${l.student}` : labels.get(studentGroups[l.studentGroup]!)!;
  lines.push(
    `Team A: child_protection; All A; members caller${spec.fixedGroupMembers[0].map((i) => `, U${i}`).join('')}`,
    `Team B: child_protection; All B; members caller${spec.fixedGroupMembers[1].map((i) => `, U${i}`).join('')}`,
    `Leadership: child_protection, allegations; All A, All B; members caller${spec.fixedGroupMembers[2].map((i) => `, U${i}`).join('')}`,
    ...spec.groups.map(
      (g, i) =>
        `G${i}: ${g.grants.map(grantText).join(', ') || 'no role'}; clearances [${g.clearances.join(', ')}]; links [${g.links.map(linkText).join(', ')}]; members [${g.members.map((m) => `U${m}`).join(', ')}]`,
    ),
  );

  for (const [u, s] of spec.directLinks)
    await ok(
      await h.post(`/api/v1/users/${users[u]}/student-links`, t, { studentId: students[s] }),
      'direct link',
    );
  if (spec.directLinks.length)
    lines.push(`direct links: ${spec.directLinks.map(([u, s]) => `U${u}->S${s}`).join(', ')}`);
  const blocks: string[] = [];
  for (const [index, [u, s]] of spec.blocks.entries()) {
    const id = (
      await ok(
        await h.post('/api/v1/blocks', t, {
          userId: users[u],
          studentId: students[s],
          reason: 'relative',
        }),
        'block',
      )
    ).id as string;
    blocks.push(id);
    labels.set(id, `B${index}`);
  }
  const blocked = new Set(spec.blocks.map(([u, s]) => `${users[u]} ${students[s]}`));
  lines.push(`blocks: ${spec.blocks.map(([u, s], i) => `B${i} U${u}/S${s}`).join(', ')}`);

  // Incidents, each reported by its reporter where they may report about its children.
  const person = (p: PersonRef) => (p === 'caller' ? created.ownerId : users[p]!);
  const incidents: string[] = [];
  const callerSubjectOf = new Set<number>();
  for (const [index, spec_] of spec.incidents.entries()) {
    const schoolId = schools[spec_.school];
    let reporter = person(spec_.reporter);
    let childIds = spec_.students.map((i) => students[i]!);
    if (reporter !== created.ownerId) {
      const principal = await loadPrincipal(db, org, reporter);
      const seen = new Set(
        (
          await db
            .selectFrom('students as s')
            .select('s.id')
            .where('s.id', 'in', childIds)
            .where((eb) => studentVisibleTo(db, eb, { organisationId: org }, viewerOf(principal)))
            .execute()
        ).map((r) => r.id),
      );
      const kept = childIds.filter((c) => seen.has(c));
      if (
        kept.length === 0 ||
        !can(principal, 'incidents.create', { type: 'school', id: schoolId })
      )
        reporter = created.ownerId;
      else childIds = kept;
    }
    const subject = spec_.sensitivity === 'allegation' ? person(spec_.subject) : undefined;
    if (subject === created.ownerId) callerSubjectOf.add(index);
    let id: string;
    try {
      const view = await h.services.incidents.create(
        { principal: await loadPrincipal(db, org, reporter), mfaAt: null },
        {
          schoolId,
          studentIds: childIds,
          categoryId: categories[schoolId]![spec_.sensitivity],
          occurredAt: '2026-11-20T10:15:00Z',
          description: `Concern ${index}`,
          ...(subject ? { subjectUserId: subject } : {}),
        },
        { organisationId: org, userId: reporter, via: 'api' },
      );
      id = view.id;
    } catch (error) {
      if (error instanceof HavenError)
        throw new Error(`incident ${index}: ${error.status} ${error.message}`);
      throw error;
    }
    incidents.push(id);
    labels.set(id, `I${index}`);
    const parts = [
      `I${index}: ${spec_.sensitivity} @${'AB'[spec_.school]}`,
      `children ${childIds.map((c) => labels.get(c)).join(', ')}`,
      `reporter ${labels.get(reporter)}`,
      ...(subject ? [`subject ${labels.get(subject)}`] : []),
    ];
    // The caller assigns and excludes; a record about the caller is not theirs to handle.
    if (!callerSubjectOf.has(index)) {
      // The assignment command itself, all of a record's assignees in one change (the route
      // would read the whole record back after each, which costs more than the rest of a case).
      const targets = new Map<string, { type: 'user' | 'user_group'; id: string }>();
      for (const a of spec_.assignees) {
        const target =
          a.type === 'user'
            ? { type: 'user' as const, id: person(a.who) }
            : { type: 'user_group' as const, id: groups[a.group]! };
        // A person blocked from one of its children is never given the record (409).
        if (target.type === 'user' && childIds.some((c) => blocked.has(`${target.id} ${c}`)))
          continue;
        targets.set(`${target.type}:${target.id}`, target);
      }
      if (targets.size > 0) {
        const owner = { principal: await loadPrincipal(db, org, created.ownerId), mfaAt: null };
        await runChange(
          h.database,
          { organisationId: org, userId: created.ownerId, via: 'api' },
          async (change) => {
            for (const target of targets.values())
              await h.services.incidents.assignIn(change, owner, id, target);
          },
        );
        for (const target of targets.values()) parts.push(`assigned ${labels.get(target.id)}`);
      }
    }
    lines.push(parts.join('; '));
  }
  for (const [index, spec_] of spec.incidents.entries()) {
    if (callerSubjectOf.has(index) || spec_.exclusions.length === 0) continue;
    const userIds = [...new Set(spec_.exclusions.map(person))];
    await ok(
      await h.put(`/api/v1/incidents/${incidents[index]}/exclusions`, t, { userIds }),
      'exclusions',
    );
    lines.push(`I${index} excludes ${userIds.map((u) => labels.get(u)).join(', ')}`);
  }
  for (const [index, s] of spec.students.entries())
    if (s.deleted) await ok(await h.delete(`/api/v1/students/${students[index]}`, t), 'delete');
  for (const [index, u] of spec.users.entries()) {
    if (!u.disabled || actor?.user === index) continue;
    await ok(await h.patch(`/api/v1/users/${users[index]}`, t, { disabled: true }), 'disable');
  }
  let actorLogin: BuiltOrganisation['actor'] = null;
  if (actor) {
    const row = await db
      .selectFrom('users')
      .select('email')
      .where('id', '=', users[actor.user]!)
      .executeTakeFirstOrThrow();
    actorLogin = { id: users[actor.user]!, token: await login(h, row.email) };
  }
  return {
    organisationId: org,
    callerId: created.ownerId,
    callerToken: t,
    schools,
    hub,
    students,
    studentGroups,
    users,
    groups,
    blocks,
    incidents,
    categories,
    actor: actorLogin,
    labels,
    description: lines,
  };
}

// ---------- who reads what ----------

export interface ReadState {
  /** For every user of the organisation, the incidents they read (a step-up assumed). */
  reads: Map<string, Set<string>>;
  /** Users who can sign in: live, holding a role. */
  active: Set<string>;
  /** Live users holding a clearance (with or without a role). */
  cleared: Set<string>;
  /** The incidents that are child-protection or allegation records. */
  sensitive: Set<string>;
}

/**
 * Every user's reads, asked the caller's way: the user's principal as a request would load it,
 * the reader built from it, and the incident policy as the filter of a query over incidents. A
 * user who holds no role, or is disabled, cannot sign in and reads nothing.
 */
export async function readState(h: TestHaven, organisationId: string): Promise<ReadState> {
  const db = h.database.db;
  const t = { organisationId };
  const users = await db
    .selectFrom('users')
    .select(['id', 'disabled_at', 'removed_at'])
    .where('organisation_id', '=', organisationId)
    .orderBy('id')
    .execute();
  const reads = new Map<string, Set<string>>();
  const active = new Set<string>();
  const cleared = new Set<string>();
  for (const u of users) {
    const principal = await loadPrincipal(db, organisationId, u.id);
    const live = u.disabled_at === null && u.removed_at === null;
    if (live && principal.clearances.size > 0) cleared.add(u.id);
    if (!live || !holdsActiveRole(principal)) {
      reads.set(u.id, new Set());
      continue;
    }
    active.add(u.id);
    const reader = await readerOf(db, { principal, mfaAt: null }, h.config.mfaWindowMs, 'assume');
    const rows = await db
      .selectFrom('incidents as i')
      .select('i.id')
      .where((eb) => incidentReadable(db, eb, t, { kind: 'caller', reader }))
      .execute();
    reads.set(u.id, new Set(rows.map((r) => r.id)));
  }
  const sensitive = await db
    .selectFrom('incidents')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('deleted_at', 'is', null)
    .where('sensitivity', '!=', 'standard')
    .execute();
  return { reads, active, cleared, sensitive: new Set(sensitive.map((r) => r.id)) };
}

/** The same reads asked from the users' side (`incidentReaders`), as the preview counts them. */
export async function readStateFromUsersSide(
  h: TestHaven,
  organisationId: string,
): Promise<Map<string, Set<string>>> {
  const db = h.database.db;
  const users = (
    await db
      .selectFrom('users')
      .select('id')
      .where('organisation_id', '=', organisationId)
      .execute()
  ).map((u) => u.id);
  const incidents = (
    await db
      .selectFrom('incidents')
      .select('id')
      .where('organisation_id', '=', organisationId)
      .execute()
  ).map((i) => i.id);
  const pairs = await incidentReaders(db, { organisationId }, incidents, users);
  const reads = new Map<string, Set<string>>(users.map((u) => [u, new Set()]));
  for (const p of pairs) reads.get(p.user_id)!.add(p.incident_id);
  return reads;
}

/**
 * Who newly reads which sensitive record after a change: among the records the previewing
 * caller read before it that are child-protection or allegation records before or after it,
 * those each user reads after and did not read before.
 */
export function gainedReads(
  before: ReadState,
  after: ReadState,
  callerId: string,
): Map<string, string[]> {
  const records = [...(before.reads.get(callerId) ?? [])].filter(
    (id) => before.sensitive.has(id) || after.sensitive.has(id),
  );
  const gained = new Map<string, string[]>();
  for (const [user, now] of after.reads) {
    const had = before.reads.get(user) ?? new Set();
    const fresh = records.filter((id) => now.has(id) && !had.has(id)).sort();
    if (fresh.length > 0) gained.set(user, fresh);
  }
  return gained;
}

/** A digest of every row the changes under test write, to show that a preview wrote nothing. */
export async function fingerprint(h: TestHaven, organisationId: string): Promise<string> {
  const db = h.database.db;
  const count = async (
    table:
      | 'role_grants'
      | 'user_group_members'
      | 'user_group_clearances'
      | 'student_links'
      | 'blocks',
  ) => {
    const row = await db
      .selectFrom(table)
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.count<number>('valid_to').as('closed'),
      ])
      .where('organisation_id', '=', organisationId)
      .executeTakeFirstOrThrow();
    return `${table}:${Number(row.n)}/${Number(row.closed)}`;
  };
  const incidents = await db
    .selectFrom('incidents')
    .select(['id', 'revision', 'sensitivity', 'school_id', 'status', 'subject_user_id'])
    .where('organisation_id', '=', organisationId)
    .orderBy('id')
    .execute();
  const ids = incidents.map((i) => i.id);
  const related = async (
    table: 'incident_assignees' | 'incident_students' | 'incident_revisions',
  ) =>
    ids.length === 0
      ? 0
      : Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('incident_id', 'in', ids)
              .executeTakeFirstOrThrow()
          ).n,
        );
  return JSON.stringify([
    await count('role_grants'),
    await count('user_group_members'),
    await count('user_group_clearances'),
    await count('student_links'),
    await count('blocks'),
    incidents,
    await related('incident_assignees'),
    await related('incident_students'),
    await related('incident_revisions'),
  ]);
}
