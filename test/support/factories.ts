import { installationPrincipal } from '../../src/access/principal.ts';
import type { GrantableRole } from '../../src/access/roles.ts';
import type { ScopeType } from '../../src/access/scopes.ts';
import { STRONG_PASSWORD, type TestHaven } from './haven.ts';

export interface TestOrg {
  organisationId: string;
  schoolId: string;
  ownerId: string;
  ownerEmail: string;
  ownerToken: string;
}

let counter = 0;
export function uniqueEmail(prefix = 'staff'): string {
  counter += 1;
  return `${prefix}.${process.pid}.${counter}.${Date.now().toString(36)}@school.test`;
}

/** The first organisation through `POST /setup`; further ones as `haven org create` makes them. */
export async function setupOrganisation(
  h: TestHaven,
  names: { organisation?: string; school?: string } = {},
): Promise<TestOrg> {
  const ownerEmail = uniqueEmail('owner');
  const input = {
    organisationName: names.organisation ?? 'Oak Trust',
    schoolName: names.school ?? 'Oak Primary',
    owner: { email: ownerEmail, name: 'Olive Owner', password: STRONG_PASSWORD },
  };
  const existing = await h.database.db.selectFrom('organisations').select('id').executeTakeFirst();
  let created: { organisationId: string; schoolId: string; ownerId: string };
  if (existing) {
    created = await h.services.organisations.createOrganisation(input, {
      organisationId: null,
      userId: null,
      via: 'cli',
    });
  } else {
    const reply = await h.post('/api/v1/setup', undefined, input);
    if (reply.status !== 201) throw new Error(`setup failed: ${JSON.stringify(reply.body)}`);
    created = reply.body;
  }
  // The Owner holds a clearance (Safeguarding Team) and would have to enrol two-factor sign-in
  // first, as every school asks by default; tests of that rule turn it back on.
  await mfaEnrolmentNotRequired(h, created.schoolId);
  return { ...created, ownerEmail, ownerToken: await login(h, ownerEmail) };
}

/**
 * Turns a school's `requireMfaEnrolment` off (on by default) as the installation, through the
 * settings service: a signed-in Owner could not, since the rule already holds their session.
 */
export async function mfaEnrolmentNotRequired(h: TestHaven, schoolId: string) {
  const school = await h.database.db
    .selectFrom('schools')
    .select('organisation_id')
    .where('id', '=', schoolId)
    .executeTakeFirstOrThrow();
  const organisationId = school.organisation_id;
  await h.services.organisations.updateSchoolSettings(
    installationPrincipal(organisationId),
    schoolId,
    { requireMfaEnrolment: false },
    { organisationId, userId: null, via: 'cli' },
  );
}

/** A further school (`POST /schools`), which does not ask for two-factor enrolment (see above). */
export async function addSchool(h: TestHaven, token: string, name: string): Promise<string> {
  const reply = await h.post('/api/v1/schools', token, { name });
  if (reply.status !== 201) throw new Error(`school create failed: ${JSON.stringify(reply.body)}`);
  await mfaEnrolmentNotRequired(h, reply.body.id);
  return reply.body.id;
}

export async function login(
  h: TestHaven,
  email: string,
  password = STRONG_PASSWORD,
): Promise<string> {
  const reply = await h.post('/api/v1/auth/login', undefined, { email, password });
  if (reply.status !== 200) throw new Error(`login failed: ${JSON.stringify(reply.body)}`);
  return reply.body.token;
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
  token: string | undefined;
}

/**
 * A user created through the API by `asToken`, optionally granted a role at a scope and
 * signed in. Without a role the user is Member-only and has no token.
 */
export async function createUser(
  h: TestHaven,
  asToken: string,
  options: {
    name?: string;
    role?: GrantableRole;
    scope?: { type: ScopeType; id: string };
    organisationId?: string;
  } = {},
): Promise<TestUser> {
  const email = uniqueEmail();
  const name = options.name ?? `Staff ${counter}`;
  const created = await h.post('/api/v1/users', asToken, {
    email,
    name,
    password: STRONG_PASSWORD,
  });
  if (created.status !== 201)
    throw new Error(`user create failed: ${JSON.stringify(created.body)}`);
  const id: string = created.body.id;
  if (!options.role) return { id, email, name, token: undefined };
  const scope = options.scope ?? {
    type: 'organisation' as const,
    id: options.organisationId ?? '',
  };
  if (!scope.id) throw new Error('createUser with a role needs a scope or organisationId');
  await grantRole(h, asToken, { type: 'user', id }, options.role, scope);
  return { id, email, name, token: await login(h, email) };
}

export async function grantRole(
  h: TestHaven,
  asToken: string,
  subject: { type: 'user' | 'user_group'; id: string },
  role: GrantableRole,
  scope: { type: ScopeType; id: string },
): Promise<string> {
  const reply = await h.post('/api/v1/role-grants', asToken, { subject, role, scope });
  if (reply.status !== 201) throw new Error(`grant failed: ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}

export async function countRows(
  h: TestHaven,
  table:
    | 'audit_events'
    | 'users'
    | 'organisations'
    | 'schools'
    | 'role_grants'
    | 'school_groups'
    | 'sessions',
): Promise<number> {
  const row = await h.database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function expectCreated(reply: { status: number; body: any }, what: string): Promise<any> {
  if (reply.status !== 201)
    throw new Error(`${what} failed (${reply.status}): ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export interface StudentSpec {
  schoolId: string;
  givenName?: string;
  familyName?: string;
  preferredName?: string;
  yearGroup?: number | null;
  house?: string | null;
  senStatus?: 'none' | 'K' | 'E';
  flags?: string[];
  tags?: string[];
  upn?: string;
  onRoll?: boolean;
}

let studentCounter = 0;
export async function createStudent(
  h: TestHaven,
  token: string,
  spec: StudentSpec,
): Promise<string> {
  studentCounter += 1;
  const body = {
    givenName: `Child${studentCounter}`,
    familyName: `Family${String(studentCounter).padStart(4, '0')}`,
    ...spec,
  };
  return (await expectCreated(await h.post('/api/v1/students', token, body), 'student create')).id;
}

export async function createStudentGroup(
  h: TestHaven,
  token: string,
  spec: {
    name: string;
    schoolId: string | null;
    kind: 'all' | 'manual' | 'rule';
    rule?: unknown;
    studentIds?: string[];
  },
): Promise<string> {
  return (
    await expectCreated(await h.post('/api/v1/student-groups', token, spec), 'student group create')
  ).id;
}

export async function createUserGroup(
  h: TestHaven,
  token: string,
  name: string,
  extra: object = {},
): Promise<string> {
  return (
    await expectCreated(
      await h.post('/api/v1/user-groups', token, { name, ...extra }),
      'user group create',
    )
  ).id;
}

export async function addMembers(h: TestHaven, token: string, groupId: string, userIds: string[]) {
  const reply = await h.post(`/api/v1/user-groups/${groupId}/members`, token, { userIds });
  if (reply.status !== 200) throw new Error(`add members failed: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** A student group's link is sent confirmed with a reason, as a link to "All students" must be. */
export const confirmedLink = { confirm: true, rationale: 'Set up for the test' } as const;

export async function linkGroup(
  h: TestHaven,
  token: string,
  groupId: string,
  target: { studentGroupId: string } | { studentId: string },
): Promise<string> {
  const body = 'studentGroupId' in target ? { ...target, ...confirmedLink } : target;
  return (
    await expectCreated(
      await h.post(`/api/v1/user-groups/${groupId}/student-links`, token, body),
      'link',
    )
  ).id;
}

export async function blockStudent(
  h: TestHaven,
  token: string,
  userId: string,
  studentId: string,
  reason = 'parent',
) {
  return (
    await expectCreated(
      await h.post('/api/v1/blocks', token, { userId, studentId, reason }),
      'block',
    )
  ).id;
}

/** The Safeguarding Team and All students groups a school was created with. */
export async function schoolDefaults(h: TestHaven, token: string, schoolId: string) {
  const groups = await h.get('/api/v1/user-groups', token, { limit: 200 });
  const studentGroups = await h.get('/api/v1/student-groups', token, { schoolId });
  const school = (await h.get(`/api/v1/schools/${schoolId}`, token)).body;
  return {
    safeguardingTeamId: groups.body.items.find(
      (g: any) => g.name === `Safeguarding Team (${school.name})`,
    )?.id as string,
    allStudentsId: studentGroups.body.items.find((g: any) => g.kind === 'all')?.id as string,
  };
}

/** Every student id a user sees through `GET /students`, following every page. */
export async function visibleIds(
  h: TestHaven,
  token: string,
  query: Record<string, string | number> = {},
) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const reply = await h.get('/api/v1/students', token, { limit: 200, ...query, cursor });
    if (reply.status !== 200) throw new Error(`list failed: ${JSON.stringify(reply.body)}`);
    ids.push(...reply.body.items.map((s: any) => s.id));
    cursor = reply.body.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}
