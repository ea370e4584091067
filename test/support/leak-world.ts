import type { Config } from '../../src/config.ts';
import { AuthService } from '../../src/modules/auth/service.ts';
import type { Services } from '../../src/server/app.ts';
import type { TestDatabase } from './database.ts';
import {
  addSchool,
  confirmedLink,
  grantRole,
  login,
  setupOrganisation,
  type TestOrg,
} from './factories.ts';
import { STRONG_PASSWORD, startHavenWith, type TestHaven } from './haven.ts';
import { enrolTotp, TotpClock } from './two-factor.ts';

/**
 * The leak hunt's world (issue 11, deliverable 9): every kind of record, each out of reach of a
 * signed-in prober in one way, each carrying a unique marker in every text field it has. Built
 * through the API as a school would, once per engine.
 */

/** The ways a record can be out of reach (spec sections 1, 3 and 4). */
export const proberKeys = [
  'otherOrganisation',
  'otherSchool',
  'noPath',
  'blocked',
  'excluded',
  'noClearance',
  'allegationSubject',
  'noStepUp',
  'adminWithoutClearance',
] as const;
export type ProberKey = (typeof proberKeys)[number];

export interface Prober {
  key: ProberKey;
  /** Who the prober is, in the school's words. */
  description: string;
  id: string;
  token: string;
}

/** A record the world holds, with every id and marker that identifies it, and who must not reach it. */
export interface WorldRecord {
  kind: string;
  label: string;
  ids: string[];
  markers: string[];
  hiddenFrom: ProberKey[];
  /** What each id names, where the record's ids are not all of its own kind. */
  idKinds?: Record<string, IdKind>;
}

/** What an id names: the hunt puts ids of a route's own kind in its parameters. */
export type IdKind =
  | 'organisation'
  | 'school'
  | 'school_group'
  | 'user'
  | 'category'
  | 'student'
  | 'upn'
  | 'student_group'
  | 'user_group'
  | 'link'
  | 'block'
  | 'incident'
  | 'action'
  | 'document'
  | 'alert'
  | 'permission_set'
  | 'import_run';

/** The kind of each id of a record. */
export function idKinds(r: WorldRecord): [string, IdKind][] {
  const own: IdKind | undefined =
    r.kind.startsWith('incident') || r.kind.startsWith('revision')
      ? 'incident'
      : r.kind === 'user_group_link'
        ? 'link'
        : (r.kind as IdKind);
  return r.ids.map((id) => [
    id,
    r.idKinds?.[id] ?? (r.kind === 'student' && id.length === 13 ? 'upn' : own),
  ]);
}

export interface LeakWorld {
  haven: TestHaven;
  clock: TotpClock;
  probers: Record<ProberKey, Prober>;
  records: WorldRecord[];
  /** Ids by name, for positive controls and notes. */
  ids: Record<string, string>;
  /** Organisation A's Owner (never stepped up), for reading what exists. */
  ownerToken: string;
  /** Steps of the world the API refused (the record kind then does not exist; reported, not hidden). */
  notes: string[];
}

// Who cannot reach school A1's children at all.
const OUTSIDE_A1: ProberKey[] = ['otherOrganisation', 'otherSchool', 'noPath'];
// Who cannot read a child-protection record about a child they see.
const NO_CP: ProberKey[] = ['noClearance', 'noStepUp', 'adminWithoutClearance'];
const ORG_A_PROBERS: ProberKey[] = proberKeys.filter((k) => k !== 'otherOrganisation');

let markerCount = 0;
/** A unique marker; the trailing `x` keeps one marker from being the start of another. */
export function marker(slug: string): string {
  markerCount += 1;
  return `LEAK-${slug}-${markerCount}x`;
}
/** A marker that fits a lower-case label (flags, tags, e-mail addresses). */
function label(slug: string): string {
  return marker(slug).toLowerCase();
}
let upnCount = 0;
function upn(): string {
  upnCount += 1;
  return `L${String(Date.now() % 1e7).padStart(7, '0')}${String(upnCount).padStart(4, '0')}X`;
}

async function ok<T = any>(
  reply: Promise<{ status: number; body: any }>,
  what: string,
  expected = [200, 201],
): Promise<T> {
  const r = await reply;
  if (!expected.includes(r.status))
    throw new Error(`leak world: ${what} answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body as T;
}

/** Starts a Haven whose TOTP checks read a test clock, and builds the world in it. */
export async function buildLeakWorld(): Promise<LeakWorld> {
  const clock = new TotpClock();
  const haven = await startHavenWith(
    (services: Services, config: Config, database: TestDatabase['database']) => {
      services.auth = new AuthService(database, config, { clock: () => clock.ms });
    },
  );
  try {
    return await populate(haven, clock);
  } catch (error) {
    await haven.close();
    throw error;
  }
}

async function populate(h: TestHaven, clock: TotpClock): Promise<LeakWorld> {
  const records: WorldRecord[] = [];
  const ids: Record<string, string> = {};
  const notes: string[] = [];
  const record = (r: WorldRecord) => {
    records.push(r);
    return r;
  };

  // ---- Organisation A: a trust with schools A1 (where the records live) and A2.
  const orgA = await setupOrganisation(h, {
    organisation: marker('organisation-a'),
    school: marker('school-a1'),
  });
  const t = orgA.ownerToken;
  const a1 = orgA.schoolId;
  const [orgName, a1Name] = await Promise.all([
    h.get('/api/v1/organisation', t).then((r) => r.body?.name as string),
    h.get(`/api/v1/schools/${a1}`, t).then((r) => r.body?.name as string),
  ]);
  const a2Name = marker('school-a2');
  const a2 = await addSchool(h, t, a2Name);
  record({
    kind: 'organisation',
    label: 'organisation A and its schools',
    ids: [orgA.organisationId, a1, a2, orgA.ownerId],
    markers: [orgName, a1Name, a2Name].filter((m) => m?.startsWith('LEAK-')),
    hiddenFrom: ['otherOrganisation'],
    idKinds: {
      [orgA.organisationId]: 'organisation',
      [a1]: 'school',
      [a2]: 'school',
      [orgA.ownerId]: 'user',
    },
  });
  Object.assign(ids, { organisationA: orgA.organisationId, schoolA1: a1, schoolA2: a2 });

  const schoolGroupName = marker('school-group');
  const schoolGroup = await ok(
    h.post('/api/v1/school-groups', t, { name: schoolGroupName, schoolIds: [a1, a2] }),
    'school group',
  );
  record({
    kind: 'school_group',
    label: 'school group of A1 and A2',
    ids: [schoolGroup.id],
    markers: [schoolGroupName],
    hiddenFrom: ['otherOrganisation'],
  });

  // Categories of school A1 (and A2), one per sensitivity, named with markers.
  const category: Record<string, string> = {};
  for (const [key, schoolId, sensitivity] of [
    ['standard', a1, 'standard'],
    ['child_protection', a1, 'child_protection'],
    ['allegation', a1, 'allegation'],
    ['a2standard', a2, 'standard'],
  ] as const) {
    const name = marker(`category-${key}`);
    const created = await ok(
      h.post('/api/v1/categories', t, { schoolId, name, sensitivity }),
      `category ${key}`,
    );
    category[key] = created.id;
    record({
      kind: 'category',
      label: `category ${key}`,
      ids: [created.id],
      markers: [name],
      hiddenFrom: ['otherOrganisation'],
    });
  }

  // ---- Users of organisation A. Every name and address carries a marker (organisation B must never see them).
  async function staff(
    slug: string,
    role: 'owner' | 'dsl' | 'deputy_dsl' | 'admin' | 'viewer',
    scope: { type: 'organisation' | 'school'; id: string },
  ) {
    const name = marker(`user-${slug}`);
    const email = `${label(`user-${slug}`)}@school.test`;
    const created = await ok(
      h.post('/api/v1/users', t, { email, name, password: STRONG_PASSWORD }),
      `user ${slug}`,
    );
    await grantRole(h, t, { type: 'user', id: created.id }, role, scope);
    const token = await login(h, email);
    record({
      kind: 'user',
      label: `user ${slug}`,
      ids: [created.id],
      markers: [name, email],
      hiddenFrom: ['otherOrganisation'],
    });
    return { id: created.id as string, token, name };
  }
  const atA1 = { type: 'school' as const, id: a1 };
  const atA2 = { type: 'school' as const, id: a2 };
  const atOrgA = { type: 'organisation' as const, id: orgA.organisationId };
  const dora = await staff('dsl-reporter', 'dsl', atA1);
  const partner = await staff('external-partner', 'viewer', atA1);
  const p = {
    otherSchool: await staff('prober-other-school', 'dsl', atA2),
    noPath: await staff('prober-no-path', 'viewer', atA1),
    blocked: await staff('prober-blocked', 'deputy_dsl', atOrgA),
    excluded: await staff('prober-excluded', 'dsl', atOrgA),
    noClearance: await staff('prober-no-clearance', 'viewer', atA1),
    allegationSubject: await staff('prober-allegation-subject', 'deputy_dsl', atOrgA),
    noStepUp: await staff('prober-no-step-up', 'dsl', atOrgA),
    adminWithoutClearance: await staff('prober-admin', 'admin', atOrgA),
  };
  ids.dora = dora.id;
  ids.partner = partner.id;

  // ---- Students. V is seen by every prober of school A1 with a path; H is the child the blocked
  // prober is blocked from; W is at school A2.
  async function student(slug: string, schoolId: string, hiddenFrom: ProberKey[]) {
    const fields = {
      givenName: marker(`student-${slug}-given`),
      familyName: marker(`student-${slug}-family`),
      preferredName: marker(`student-${slug}-preferred`),
      house: marker(`student-${slug}-house`),
      upn: upn(),
    };
    const flags = [label(`student-${slug}-flag`)];
    const tags = [label(`student-${slug}-tag`)];
    const created = await ok(
      h.post('/api/v1/students', t, {
        schoolId,
        ...fields,
        flags,
        tags,
        yearGroup: 9,
        dateOfBirth: '2012-03-04',
      }),
      `student ${slug}`,
    );
    record({
      kind: 'student',
      label: `student ${slug}`,
      ids: [created.id, fields.upn],
      markers: [
        fields.givenName,
        fields.familyName,
        fields.preferredName,
        fields.house,
        ...flags,
        ...tags,
      ],
      hiddenFrom,
    });
    return created.id as string;
  }
  const V = await student('V', a1, OUTSIDE_A1);
  const H = await student('H', a1, [...OUTSIDE_A1, 'blocked']);
  const W = await student(
    'W',
    a2,
    ORG_A_PROBERS.filter((k) => k !== 'otherSchool').concat('otherOrganisation'),
  );
  Object.assign(ids, { V, H, W });

  // ---- Student groups and user groups.
  const studentGroups = (await ok(h.get('/api/v1/student-groups', t, {}), 'student groups')).items;
  const allA1 = studentGroups.find((g: any) => g.kind === 'all' && g.schoolId === a1)?.id;
  const allA2 = studentGroups.find((g: any) => g.kind === 'all' && g.schoolId === a2)?.id;
  if (!allA1 || !allA2) throw new Error('leak world: no "All students" group for A1 or A2');
  const nurtureName = marker('student-group-nurture');
  const nurture = (
    await ok(
      h.post('/api/v1/student-groups', t, {
        name: nurtureName,
        schoolId: a1,
        kind: 'manual',
        studentIds: [V, H],
      }),
      'manual student group',
    )
  ).id as string;
  record({
    kind: 'student_group',
    label: 'student groups of organisation A',
    ids: [allA1, allA2, nurture],
    markers: [nurtureName],
    hiddenFrom: ['otherOrganisation'],
  });

  const userGroups = (await ok(h.get('/api/v1/user-groups', t, { limit: 200 }), 'user groups'))
    .items;
  const defaultTeam = (school: string) =>
    userGroups.find((g: any) => g.name === `Safeguarding Team (${school})`)?.id as string;
  const teamA1 = defaultTeam(a1Name);
  const teamA2 = defaultTeam(a2Name);
  if (!teamA1 || !teamA2) throw new Error('leak world: no Safeguarding Team for A1 or A2');
  // A user group homed at a school is administered, and seen, by Admins and above there (or
  // wider) and by its own members (spec section 5); the default teams are homed at their school.
  const notAdminsOfA1: ProberKey[] = ['otherOrganisation', 'otherSchool', 'noPath', 'noClearance'];
  let homed = true;
  async function userGroup(slug: string, hiddenFrom: ProberKey[]) {
    const fields = {
      name: marker(`user-group-${slug}`),
      description: marker(`user-group-${slug}-description`),
      rationale: marker(`user-group-${slug}-rationale`),
    };
    let reply = await h.post(
      '/api/v1/user-groups',
      t,
      homed ? { ...fields, homeScope: atA1 } : fields,
    );
    if (homed && reply.status === 400) reply = await h.post('/api/v1/user-groups', t, fields);
    const id = (await ok(Promise.resolve(reply), `user group ${slug}`)).id as string;
    if (homed && reply.body.homeScope?.id !== a1) {
      // This Haven has no group homes: the group's name is then the organisation's to see.
      homed = false;
      notes.push(
        'user groups are not homed at a school: their names are hidden from organisation B only',
      );
    }
    record({
      kind: 'user_group',
      label: `user group ${slug}`,
      ids: [id],
      markers: Object.values(fields),
      hiddenFrom: homed ? hiddenFrom : ['otherOrganisation'],
    });
    return id;
  }
  const heads = await userGroup('heads', notAdminsOfA1);
  const yearTeam = await userGroup('year-team', ['otherOrganisation', 'otherSchool', 'noPath']);
  const caseTeam = await userGroup('case-team', notAdminsOfA1);
  const mentors = await userGroup('mentors', notAdminsOfA1);
  const defaultsHomed = homed && userGroups.some((g: any) => g.homeScope?.type === 'school');
  record({
    kind: 'user_group',
    label: 'default Safeguarding Team of A1',
    ids: [teamA1],
    markers: [],
    hiddenFrom: defaultsHomed ? notAdminsOfA1 : ['otherOrganisation'],
  });
  record({
    kind: 'user_group',
    label: 'default Safeguarding Team of A2',
    ids: [teamA2],
    markers: [],
    hiddenFrom: defaultsHomed
      ? ['otherOrganisation', 'noPath', 'noClearance']
      : ['otherOrganisation'],
  });
  Object.assign(ids, { heads, yearTeam, caseTeam, mentors, teamA1, teamA2, nurture, allA1, allA2 });

  const members = (group: string, userIds: string[]) =>
    ok(h.post(`/api/v1/user-groups/${group}/members`, t, { userIds }), `members of ${group}`);
  const link = async (group: string, target: object, what: string) => {
    const body = 'studentGroupId' in target ? { ...target, ...confirmedLink } : target;
    return (await ok(h.post(`/api/v1/user-groups/${group}/student-links`, t, body), what))
      .id as string;
  };
  await ok(
    h.put(`/api/v1/user-groups/${heads}/clearances`, t, {
      clearances: ['child_protection', 'allegations'],
    }),
    'clearances of heads',
  );
  const links = [
    await link(heads, { studentGroupId: allA1 }, 'heads -> all A1'),
    await link(yearTeam, { studentGroupId: allA1 }, 'year team -> all A1'),
    await link(mentors, { studentId: H }, 'mentors -> H'),
  ];
  await members(teamA1, [dora.id, p.noStepUp.id]);
  await members(teamA2, [p.otherSchool.id]);
  await members(heads, [
    dora.id,
    p.blocked.id,
    p.excluded.id,
    p.allegationSubject.id,
    p.noStepUp.id,
  ]);
  await members(yearTeam, [p.noClearance.id, p.adminWithoutClearance.id]);
  await members(caseTeam, [p.excluded.id, p.allegationSubject.id]);
  await members(mentors, [partner.id]);
  // Permission sets (spec section 5): a set on Heads, named with a marker, is known only to those
  // who see Heads; a set on A2's team naming Heads as its assignee shows those who see the team
  // (the other school's prober among its members) nothing of Heads.
  const headsSetName = marker('permission-set-heads');
  const headsSet = await ok(
    h.post(`/api/v1/user-groups/${heads}/permission-sets`, t, {
      name: headsSetName,
      permissions: ['view', 'view_members'],
      assignees: [{ type: 'user', id: dora.id }],
    }),
    'permission set on heads',
  );
  record({
    kind: 'permission_set',
    label: 'permission set on heads',
    ids: [headsSet.id],
    markers: [headsSetName],
    hiddenFrom: homed ? notAdminsOfA1 : ['otherOrganisation'],
  });
  await ok(
    h.post(`/api/v1/user-groups/${teamA2}/permission-sets`, t, {
      name: 'Heads of A1 help',
      permissions: ['view'],
      assignees: [{ type: 'user_group', id: heads }],
    }),
    'permission set on the team of A2',
  );
  const partnerLink = (
    await ok(
      h.post(`/api/v1/users/${partner.id}/student-links`, t, { studentId: H }),
      'partner -> H',
    )
  ).id as string;
  record({
    kind: 'user_group_link',
    label: 'student links of organisation A',
    ids: [...links, partnerLink],
    markers: [],
    hiddenFrom: ['otherOrganisation'],
  });

  // The blocked prober is a member of Heads (linked to every child of A1) and blocked from H.
  const blockReason = marker('block-reason');
  const block = await ok(
    h.post('/api/v1/blocks', t, { userId: p.blocked.id, studentId: H, reason: blockReason }),
    'block',
  );
  record({
    kind: 'block',
    label: 'block of the blocked prober from H',
    ids: [block.id],
    markers: [blockReason],
    hiddenFrom: [...OUTSIDE_A1, 'blocked'],
  });

  // ---- Two-factor: everyone who must reach sensitive records passes a step-up; the no-step-up
  // prober holds the clearances but never does.
  await enrolTotp(h, dora.token, clock);
  for (const key of Object.keys(p) as (keyof typeof p)[])
    if (key !== 'noStepUp') await enrolTotp(h, p[key].token, clock);

  // ---- Incidents at A1, all reported by Dora (DSL, Safeguarding Team and Heads, stepped up).
  async function incident(
    slug: string,
    sensitivity: 'standard' | 'child_protection' | 'allegation',
    studentIds: string[],
    extra: object = {},
  ) {
    const fields = {
      description: marker(`incident-${slug}-r1-description`),
      location: marker(`incident-${slug}-r1-location`),
    };
    const created = await ok(
      h.post('/api/v1/incidents', dora.token, {
        schoolId: a1,
        studentIds,
        categoryId: category[sensitivity],
        occurredAt: '2026-11-20T10:15:00Z',
        ...fields,
        ...extra,
      }),
      `incident ${slug}`,
    );
    return { id: created.id as string, r1: Object.values(fields) };
  }
  /** An edit, so the record has an earlier revision; `patch` may change more than the text. */
  async function edit(slug: string, id: string, patch: object = {}) {
    const current = await ok(h.get(`/api/v1/incidents/${id}`, dora.token), `read ${slug}`);
    const fields = {
      description: marker(`incident-${slug}-r2-description`),
      location: marker(`incident-${slug}-r2-location`),
    };
    await ok(
      h.patch(`/api/v1/incidents/${id}`, dora.token, {
        revision: current.revision,
        ...fields,
        ...patch,
      }),
      `edit ${slug}`,
    );
    return Object.values(fields);
  }
  const NO_AL: ProberKey[] = [...NO_CP, 'allegationSubject'];
  const incidentSpecs: {
    slug: string;
    sensitivity: 'standard' | 'child_protection' | 'allegation';
    students: string[];
    hiddenFrom: ProberKey[];
    extra?: object;
  }[] = [
    { slug: 'std-v', sensitivity: 'standard', students: [V], hiddenFrom: OUTSIDE_A1 },
    {
      slug: 'std-h',
      sensitivity: 'standard',
      students: [H],
      hiddenFrom: [...OUTSIDE_A1, 'blocked'],
    },
    // Seen by the blocked prober through V, with H redacted.
    { slug: 'std-vh', sensitivity: 'standard', students: [V, H], hiddenFrom: OUTSIDE_A1 },
    {
      slug: 'std-x',
      sensitivity: 'standard',
      students: [V],
      hiddenFrom: [...OUTSIDE_A1, 'excluded'],
    },
    {
      slug: 'cp-v',
      sensitivity: 'child_protection',
      students: [V],
      hiddenFrom: [...OUTSIDE_A1, ...NO_CP],
    },
    {
      slug: 'cp-h',
      sensitivity: 'child_protection',
      students: [H],
      hiddenFrom: [...OUTSIDE_A1, ...NO_CP, 'blocked'],
    },
    {
      slug: 'cp-x',
      sensitivity: 'child_protection',
      students: [V],
      hiddenFrom: [...OUTSIDE_A1, ...NO_CP, 'excluded'],
    },
    {
      slug: 'allegation',
      sensitivity: 'allegation',
      students: [V],
      hiddenFrom: [...OUTSIDE_A1, ...NO_AL],
      extra: { subjectUserId: p.allegationSubject.id },
    },
  ];
  const incidents: Record<string, { id: string; hiddenFrom: ProberKey[] }> = {};
  for (const spec of incidentSpecs) {
    const created = await incident(spec.slug, spec.sensitivity, spec.students, spec.extra);
    const r2 = await edit(spec.slug, created.id);
    incidents[spec.slug] = { id: created.id, hiddenFrom: spec.hiddenFrom };
    ids[spec.slug] = created.id;
    record({
      kind: `incident (${spec.sensitivity})`,
      label: `incident ${spec.slug}, with its earlier revision`,
      ids: [created.id],
      markers: [...created.r1, ...r2],
      hiddenFrom: spec.hiddenFrom,
    });
  }
  // Revisions whose earlier version is more hidden than the record now: a child-protection concern
  // lowered to standard, and a concern about V and H from which H was removed.
  {
    const lowered = await incident('lowered', 'child_protection', [V]);
    const now = await edit('lowered', lowered.id, { categoryId: category.standard });
    incidents.lowered = { id: lowered.id, hiddenFrom: OUTSIDE_A1 };
    ids.lowered = lowered.id;
    record({
      kind: 'incident (standard)',
      label: 'incident lowered from child protection to standard (current version)',
      ids: [lowered.id],
      markers: now,
      hiddenFrom: OUTSIDE_A1,
    });
    record({
      kind: 'revision (child_protection)',
      label: 'incident lowered: its child-protection revision 1',
      ids: [],
      markers: lowered.r1,
      hiddenFrom: [...OUTSIDE_A1, ...NO_CP],
    });
    const removed = await incident('child-removed', 'standard', [V, H]);
    const after = await edit('child-removed', removed.id, { studentIds: [V] });
    incidents['child-removed'] = { id: removed.id, hiddenFrom: OUTSIDE_A1 };
    ids['child-removed'] = removed.id;
    // H's id and names (in the earlier revision) are H's markers, hidden from the blocked prober.
    record({
      kind: 'revision (child removed)',
      label: 'incident from which H was removed (both revisions)',
      ids: [removed.id],
      markers: [...removed.r1, ...after],
      hiddenFrom: OUTSIDE_A1,
    });
  }

  // Exclusions, then assignment of the excluded and the allegation records to the Case team (whose
  // members are the excluded prober and the allegation's subject): denials win over assignment, and
  // nobody may be told of a record they cannot read.
  for (const slug of ['std-x', 'cp-x'])
    await ok(
      h.put(`/api/v1/incidents/${incidents[slug]!.id}/exclusions`, dora.token, {
        userIds: [p.excluded.id],
      }),
      `exclusions of ${slug}`,
    );
  for (const slug of ['cp-x', 'allegation']) {
    const reply = await h.post(`/api/v1/incidents/${incidents[slug]!.id}/assignees`, dora.token, {
      type: 'user_group',
      id: caseTeam,
    });
    if (reply.status !== 200)
      notes.push(
        `assigning ${slug} to the Case team answered ${reply.status} (${reply.body?.code})`,
      );
  }

  // ---- Actions, on every incident. Dora's are overdue (so "due" alerts exist too); the excluded
  // and allegation records' actions go to the Case team.
  for (const [slug, inc] of Object.entries(incidents)) {
    if (slug === 'child-removed') continue;
    const title = marker(`action-${slug}`);
    const toCase = slug === 'cp-x' || slug === 'allegation';
    const created = await ok(
      h.post(`/api/v1/incidents/${inc.id}/actions`, dora.token, {
        title,
        ...(toCase ? {} : { dueAt: '2026-01-01T09:00:00Z' }),
        assignee: toCase ? { type: 'user_group', id: caseTeam } : { type: 'user', id: dora.id },
      }),
      `action on ${slug}`,
    );
    // Edited, so the audit log holds its title twice.
    const retitled = marker(`action-${slug}-retitled`);
    await ok(h.patch(`/api/v1/actions/${created.id}`, dora.token, { title: retitled }), 'retitle');
    ids[`action-${slug}`] = created.id;
    record({
      kind: 'action',
      label: `action on incident ${slug}`,
      ids: [created.id],
      markers: [title, retitled],
      hiddenFrom: inc.hiddenFrom,
    });
  }

  // ---- Documents: on incidents and on students; the name and the content carry markers.
  async function document(slug: string, url: string, hiddenFrom: ProberKey[]) {
    const filename = `${marker(`document-${slug}-filename`)}.txt`;
    const content = marker(`document-${slug}-content`);
    const created = await ok(
      h.request('POST', url, {
        token: dora.token,
        query: { filename },
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from(`Notes: ${content}\n`),
      }),
      `document ${slug}`,
    );
    ids[`document-${slug}`] = created.id;
    record({
      kind: 'document',
      label: `document ${slug}`,
      ids: [created.id],
      markers: [filename, content],
      hiddenFrom,
    });
    return created.id as string;
  }
  for (const slug of ['std-h', 'std-x', 'cp-v', 'cp-h', 'cp-x', 'allegation'])
    await document(
      `incident-${slug}`,
      `/api/v1/incidents/${incidents[slug]!.id}/documents`,
      incidents[slug]!.hiddenFrom,
    );
  await document('student-v', `/api/v1/students/${V}/documents`, OUTSIDE_A1);
  await document('student-h', `/api/v1/students/${H}/documents`, [...OUTSIDE_A1, 'blocked']);

  // ---- Reads, so the access log has rows about every hidden record: Dora reads everything,
  // downloads the documents and exports; the partner (who sees H only) and the Owner (not stepped up)
  // are refused child-protection records.
  for (const inc of Object.values(incidents)) {
    await ok(h.get(`/api/v1/incidents/${inc.id}`, dora.token), 'read');
    await ok(h.get(`/api/v1/incidents/${inc.id}/revisions`, dora.token), 'revisions');
  }
  for (const [name, id] of Object.entries(ids))
    if (name.startsWith('document-')) await ok(h.get(`/api/v1/documents/${id}`, dora.token), name);
  for (const s of [V, H]) {
    await ok(h.get(`/api/v1/students/${s}`, dora.token), 'student read');
    await ok(h.get(`/api/v1/students/${s}/chronology`, dora.token), 'chronology');
  }
  await ok(h.get('/api/v1/incidents/export', dora.token), 'export');
  await ok(h.get('/api/v1/incidents/export', dora.token, { studentId: H }), 'export about H');
  await h.get(`/api/v1/incidents/${incidents['cp-h']!.id}`, partner.token);
  await h.get(`/api/v1/incidents/${incidents['cp-v']!.id}`, partner.token);
  await h.get(`/api/v1/incidents/${incidents['cp-v']!.id}`, t);
  // Dora's alerts: reading them raises the "due" alerts of her overdue actions.
  await ok(h.get('/api/v1/alerts', dora.token), 'alerts');

  // Alerts are rows nobody created by hand; who may see each follows its record and its recipients.
  const probers = { ...p } as Record<string, { id: string }>;
  const alerts = await h.database.db
    .selectFrom('alerts')
    .select(['id', 'incident_id', 'recipient_type', 'recipient_id'])
    .execute();
  const caseMembers = new Set([p.excluded.id, p.allegationSubject.id]);
  for (const alert of alerts) {
    const inc = Object.entries(incidents).find(([, v]) => v.id === alert.incident_id);
    const readers = ORG_A_PROBERS.filter((k) => {
      const who = probers[k]!.id;
      const recipient =
        alert.recipient_type === 'user'
          ? alert.recipient_id === who
          : alert.recipient_id === caseTeam && caseMembers.has(who);
      return recipient && !(inc?.[1].hiddenFrom ?? []).includes(k);
    });
    record({
      kind: 'alert',
      label: `alert on incident ${inc?.[0] ?? alert.incident_id} for ${alert.recipient_type === 'user' ? 'Dora' : 'the Case team'}`,
      ids: [alert.id],
      markers: [],
      hiddenFrom: proberKeys.filter((k) => !readers.includes(k)),
    });
  }

  // ---- A standard concern at A2, reported by the other school's DSL (their positive control).
  const w = await ok(
    h.post('/api/v1/incidents', p.otherSchool.token, {
      schoolId: a2,
      studentIds: [W],
      categoryId: category.a2standard,
      occurredAt: '2026-11-21T09:00:00Z',
      description: marker('incident-w-description'),
      location: marker('incident-w-location'),
    }),
    'incident at A2',
  );
  ids['std-w'] = w.id;
  record({
    kind: 'incident (standard)',
    label: 'incident at school A2 about W',
    ids: [w.id],
    markers: [w.description, w.location],
    hiddenFrom: proberKeys.filter((k) => k !== 'otherSchool'),
  });

  // ---- Organisation B: its Owner is the other-organisation prober; its records are hidden from A.
  const orgB: TestOrg = await setupOrganisation(h, {
    organisation: marker('organisation-b'),
    school: marker('school-b1'),
  });
  await enrolTotp(h, orgB.ownerToken, clock);
  const bStudent = await ok(
    h.post('/api/v1/students', orgB.ownerToken, {
      schoolId: orgB.schoolId,
      givenName: marker('student-b-given'),
      familyName: marker('student-b-family'),
      yearGroup: 9,
    }),
    'student of B',
  );
  const bTeam: string = (
    await ok(h.get('/api/v1/user-groups', orgB.ownerToken, { limit: 200 }), 'B groups')
  ).items.find((g: any) => g.name.startsWith('Safeguarding Team'))?.id;
  const bAll: string = (
    await ok(h.get('/api/v1/student-groups', orgB.ownerToken, {}), 'B groups')
  ).items.find((g: any) => g.kind === 'all')?.id;
  const bCategory = (
    await ok(h.get('/api/v1/categories', orgB.ownerToken, { schoolId: orgB.schoolId }), 'B cats')
  ).items.find((c: any) => c.sensitivity === 'child_protection')?.id;
  const bIncident = await ok(
    h.post('/api/v1/incidents', orgB.ownerToken, {
      schoolId: orgB.schoolId,
      studentIds: [bStudent.id],
      categoryId: bCategory,
      occurredAt: '2026-11-22T09:00:00Z',
      description: marker('incident-b-description'),
      location: marker('incident-b-location'),
    }),
    'incident of B',
  );
  if (!bTeam || !bAll || !bCategory) throw new Error('leak world: organisation B has no defaults');
  Object.assign(ids, { bStudent: bStudent.id, bIncident: bIncident.id });
  record({
    kind: 'organisation',
    label: 'organisation B, its student and its child-protection incident',
    ids: [orgB.organisationId, orgB.schoolId, orgB.ownerId, bStudent.id, bIncident.id, bTeam, bAll],
    idKinds: {
      [orgB.organisationId]: 'organisation',
      [orgB.schoolId]: 'school',
      [orgB.ownerId]: 'user',
      [bStudent.id]: 'student',
      [bIncident.id]: 'incident',
      [bTeam]: 'user_group',
      [bAll]: 'student_group',
    },
    markers: [bStudent.givenName, bStudent.familyName, bIncident.description, bIncident.location],
    hiddenFrom: ORG_A_PROBERS,
  });

  // ---- Import runs, whose problems and unused columns repeat what the file said (markers here).
  // A run is read by its starter alone: none is planted for a prober but the Admin's own.
  async function importRun(
    slug: string,
    token: string,
    kind: 'students' | 'staff',
    hiddenFrom: ProberKey[],
    schoolId?: string,
  ) {
    const heading = marker(`import-${slug}-column`);
    const named = marker(`import-${slug}-problem`);
    const csv =
      kind === 'staff'
        ? `Name,Work Email,${heading}\nPat Example,${named},x`
        : `UPN,Forename,Surname,DOB,Year,School,${heading}\n${upn()},Pat,Example,14/03/2016,Y5,${named},x`;
    const run = await ok(
      h.request('POST', `/api/v1/${kind === 'staff' ? 'users' : 'students'}/import`, {
        token,
        query: { dryRun: 'true', ...(schoolId ? { schoolId } : {}) },
        headers: { 'content-type': 'text/csv' },
        body: csv,
      }),
      `import run ${slug}`,
    );
    if (!JSON.stringify(run.errors).toLowerCase().includes(named.toLowerCase()))
      throw new Error(`leak world: the import run ${slug} does not name its marker`);
    record({
      kind: 'import_run',
      label: `import run ${slug}`,
      ids: [run.runId],
      markers: [heading, named],
      hiddenFrom,
    });
    return run.runId as string;
  }
  const importerA2 = await staff('importer-a2', 'admin', atA2);
  await importRun('of-organisation-b', orgB.ownerToken, 'staff', ORG_A_PROBERS);
  await importRun('of-an-admin-of-a2', importerA2.token, 'students', [...proberKeys], a2);
  await importRun('of-the-owner-of-a', t, 'staff', [...proberKeys]);
  ids.adminImportRun = await importRun(
    'of-the-admin-prober',
    p.adminWithoutClearance.token,
    'students',
    proberKeys.filter((k) => k !== 'adminWithoutClearance'),
    a1,
  );

  const described: Record<ProberKey, [string, { id: string; token: string }]> = {
    otherOrganisation: [
      'Owner of organisation B (stepped up)',
      { id: orgB.ownerId, token: orgB.ownerToken },
    ],
    otherSchool: ['DSL at school A2, in its Safeguarding Team (stepped up)', p.otherSchool],
    noPath: ['Viewer at school A1 in no group', p.noPath],
    blocked: [
      'Deputy DSL for organisation A in Heads (both clearances, linked to A1), blocked from H (stepped up)',
      p.blocked,
    ],
    excluded: [
      'DSL for organisation A in Heads and the Case team, on the exclusion list of std-x and cp-x (stepped up)',
      p.excluded,
    ],
    noClearance: [
      'Viewer at A1 in the Year team (linked to A1, no clearance) (stepped up)',
      p.noClearance,
    ],
    allegationSubject: [
      'Deputy DSL for organisation A in Heads and the Case team, subject of the allegation (stepped up)',
      p.allegationSubject,
    ],
    noStepUp: [
      'DSL for organisation A in the Safeguarding Team and Heads, never stepped up',
      p.noStepUp,
    ],
    adminWithoutClearance: [
      'Admin for organisation A in the Year team (no clearance) (stepped up)',
      p.adminWithoutClearance,
    ],
  };
  const proberMap = Object.fromEntries(
    proberKeys.map((key) => {
      const [description, who] = described[key];
      return [key, { key, description, id: who.id, token: who.token }];
    }),
  ) as Record<ProberKey, Prober>;
  return { haven: h, clock, probers: proberMap, records, ids, notes, ownerToken: t };
}
