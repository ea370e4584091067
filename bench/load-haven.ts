import { installationPrincipal } from '../src/access/principal.ts';
import { addMembersInBulk, insertUsers } from '../src/cli/bulk.ts';
import type { Database } from '../src/db/database.ts';
import { chunks } from '../src/db/sql.ts';
import { newId } from '../src/lib/ids.ts';
import { type ChangeOrigin, runChange } from '../src/modules/audit/change.ts';
import { OrganisationService } from '../src/modules/organisations/service.ts';
import { insertGrant } from '../src/modules/role-grants/repository.ts';
import { addManualMembers, addStudentGroup } from '../src/modules/student-groups/service.ts';
import { importStudents } from '../src/modules/students/import.ts';
import { UserGroupEditor } from '../src/modules/user-groups/editor.ts';
import { findUserGroup } from '../src/modules/user-groups/repository.ts';
import { createSchoolDefaults } from '../src/modules/user-groups/school-defaults.ts';
import { addUserGroup } from '../src/modules/user-groups/service.ts';
import type { Fixture } from './fixture.ts';

/** Fixture keys to Haven's ids. */
export interface Loaded {
  organisationId: string;
  ownerId: string;
  school: Map<string, string>;
  hub: Map<string, string>;
  user: Map<string, string>;
  student: Map<string, string>;
  studentKey: Map<string, string>;
  userGroup: Map<string, string>;
  studentGroup: Map<string, string>;
}

const BENCH_PASSWORD = 'bench-Harbour-41-kettle';

/**
 * Loads the fixture into Haven through its own services and the bulk paths the `haven` CLI uses:
 * organisation and schools (with their default groups), users, the students CSV import, groups,
 * links, grants and blocks. Every change is audited as usual.
 */
export async function loadHaven(
  database: Database,
  fixture: Fixture,
  log: (line: string) => void,
): Promise<Loaded> {
  const organisations = new OrganisationService(database);
  organisations.onSchoolCreated(createSchoolDefaults);
  const [first, ...others] = fixture.schools;
  const created = await organisations.createOrganisation(
    {
      organisationName: fixture.organisationName,
      schoolName: first!.name,
      owner: { email: 'owner@trust.bench', name: 'Bench Owner', password: BENCH_PASSWORD },
    },
    { organisationId: null, userId: null, via: 'cli' },
  );
  const organisationId = created.organisationId;
  const principal = installationPrincipal(organisationId);
  const origin: ChangeOrigin = { organisationId, userId: null, via: 'cli' };
  const loaded: Loaded = {
    organisationId,
    ownerId: created.ownerId,
    school: new Map([[first!.key, created.schoolId]]),
    hub: new Map(),
    user: new Map(),
    student: new Map(),
    studentKey: new Map(),
    userGroup: new Map(),
    studentGroup: new Map(),
  };
  for (const school of others) {
    const row = await organisations.createSchool(principal, { name: school.name }, origin);
    loaded.school.set(school.key, row.id);
  }
  // The fixture models no Allegations groups (and fills the organisation's 1,000 user groups
  // without them): each school's is deleted again, which ends its link and its member.
  const allegations = await database.db
    .selectFrom('user_groups')
    .select('id')
    .where('organisation_id', '=', organisationId)
    .where('system_key', 'like', 'allegations:%')
    .execute();
  for (const { id } of allegations) {
    const group = (await findUserGroup(database.db, organisationId, id))!;
    await runChange(database, origin, (change) =>
      new UserGroupEditor(change, principal, group).delete(),
    );
  }
  // The personas' sessions are made directly, without two-factor sign-in: the schools do not ask
  // them to enrol first (on by default), so every request is the read being measured.
  for (const schoolId of loaded.school.values())
    await organisations.updateSchoolSettings(
      principal,
      schoolId,
      { requireMfaEnrolment: false },
      origin,
    );
  for (const hub of fixture.schoolGroups) {
    const schoolIds = fixture.schools
      .filter((s) => s.hub === hub.key)
      .map((s) => loaded.school.get(s.key)!);
    const row = await organisations.createSchoolGroup(
      principal,
      { name: hub.name, schoolIds },
      origin,
    );
    loaded.hub.set(hub.key, row.id);
  }
  log(`  schools and hubs: ${fixture.schools.length} + ${fixture.schoolGroups.length}`);

  const userIds = await runChange(database, origin, (change) =>
    insertUsers(change, organisationId, fixture.users),
  );
  for (const [i, u] of fixture.users.entries()) loaded.user.set(u.key, userIds[i]!);
  log(`  users: ${userIds.length}`);

  const schoolName = new Map(fixture.schools.map((s) => [s.key, s.name]));
  const csv = [
    'upn,givenName,familyName,school,yearGroup,house,senStatus,flags',
    ...fixture.students.map((s) =>
      [
        s.upn,
        s.givenName,
        s.familyName,
        schoolName.get(s.school),
        s.yearGroup,
        s.house,
        s.senStatus,
        s.flags.join(';'),
      ].join(','),
    ),
  ].join('\n');
  const report = await importStudents(database, principal, csv, { dryRun: false }, origin);
  if (report.errors.length > 0)
    throw new Error(`student import: ${JSON.stringify(report.errors.slice(0, 3))}`);
  const byUpn = new Map(fixture.students.map((s) => [s.upn, s.key]));
  for (const row of await database.db
    .selectFrom('students')
    .select(['id', 'upn'])
    .where('organisation_id', '=', organisationId)
    .execute()) {
    const key = byUpn.get(row.upn!)!;
    loaded.student.set(key, row.id);
    loaded.studentKey.set(row.id, key);
  }
  log(`  students: ${report.created}`);

  const systemGroups = await database.db
    .selectFrom('student_groups')
    .select(['id', 'system_key'])
    .where('organisation_id', '=', organisationId)
    .where('system_key', 'is not', null)
    .execute();
  const bySystemKey = new Map(systemGroups.map((g) => [g.system_key!, g.id]));
  await runChange(database, origin, async (change) => {
    for (const group of fixture.studentGroups) {
      const schoolId = group.school ? loaded.school.get(group.school)! : null;
      if (group.system) {
        loaded.studentGroup.set(group.key, bySystemKey.get(`${group.system}:${schoolId}`)!);
        continue;
      }
      const row = await addStudentGroup(change, organisationId, {
        name: group.name,
        schoolId,
        kind: group.kind,
        ...(group.rule ? { rule: group.rule } : {}),
      });
      loaded.studentGroup.set(group.key, row.id);
      if (group.kind === 'manual') {
        await addManualMembers(
          change,
          row.id,
          organisationId,
          (group.members ?? []).map((k) => loaded.student.get(k)!),
        );
      }
      change.record({
        action: 'student_group.create',
        targetType: 'student_group',
        targetId: row.id,
        after: { name: group.name },
      });
    }
  });
  log(`  student groups: ${fixture.studentGroups.length}`);

  const teams = await database.db
    .selectFrom('user_groups')
    .select(['id', 'system_key'])
    .where('organisation_id', '=', organisationId)
    .where('system_key', 'is not', null)
    .execute();
  const teamBySchool = new Map(teams.map((t) => [t.system_key!, t.id]));
  for (const group of fixture.userGroups) {
    await runChange(database, origin, async (change) => {
      let id: string;
      if (group.system) {
        id = teamBySchool.get(`${group.system}:${loaded.school.get(group.school!)}`)!;
      } else {
        id = (
          await addUserGroup(change, organisationId, {
            name: group.name,
            homeScope: { type: 'organisation', id: organisationId },
          })
        ).id;
      }
      loaded.userGroup.set(group.key, id);
      const row = (await findUserGroup(change.db, organisationId, id))!;
      await addMembersInBulk(
        change,
        principal,
        row,
        group.members.map((k) => loaded.user.get(k)!),
      );
      if (group.system) return;
      const editor = new UserGroupEditor(
        change,
        principal,
        (await findUserGroup(change.db, organisationId, id))!,
      );
      for (const link of group.links) {
        if ('studentGroup' in link)
          await editor.addStudentLink({
            studentGroupId: loaded.studentGroup.get(link.studentGroup)!,
            // The fixture's links to "All students" are confirmed as a school's set-up would be.
            confirm: true,
            rationale: 'Benchmark fixture',
          });
      }
      if (group.clearances.length > 0) await editor.setClearances(group.clearances);
    });
  }
  // The Owner made by set-up joined the first school's Safeguarding Team; the fixture's teams are as generated.
  const firstTeam = (await findUserGroup(
    database.db,
    organisationId,
    teamBySchool.get(`safeguarding_team:${created.schoolId}`)!,
  ))!;
  await runChange(database, origin, (change) =>
    new UserGroupEditor(change, principal, firstTeam).removeMembers([created.ownerId]),
  );
  log(`  user groups: ${fixture.userGroups.length}`);

  await runChange(database, origin, async (change) => {
    for (const grant of fixture.grants) {
      const scope =
        grant.scope.type === 'organisation'
          ? { type: 'organisation' as const, id: organisationId }
          : grant.scope.type === 'school'
            ? { type: 'school' as const, id: loaded.school.get(grant.scope.key)! }
            : { type: 'school_group' as const, id: loaded.hub.get(grant.scope.key)! };
      const subject =
        grant.subject.type === 'user'
          ? { type: 'user' as const, id: loaded.user.get(grant.subject.key)! }
          : { type: 'user_group' as const, id: loaded.userGroup.get(grant.subject.key)! };
      await insertGrant(change.db, {
        id: newId(),
        organisationId,
        subject,
        role: grant.role,
        scope,
        grantedBy: null,
        now: change.now,
      });
    }
    change.record({
      action: 'role_grant.import',
      targetType: 'role_grant',
      after: { count: fixture.grants.length },
    });
    for (const slice of chunks(fixture.directLinks, 200)) {
      await change.db
        .insertInto('student_links')
        .values(
          slice.map((l) => ({
            id: newId(),
            organisation_id: organisationId,
            user_group_id: null,
            user_id: loaded.user.get(l.user)!,
            student_group_id: null,
            student_id: loaded.student.get(l.student)!,
            created_by: null,
            removed_by: null,
            valid_from: change.now,
            valid_to: null,
          })),
        )
        .execute();
    }
    change.record({
      action: 'user.link.import',
      targetType: 'student_link',
      after: { count: fixture.directLinks.length },
    });
    for (const slice of chunks(fixture.blocks, 200)) {
      await change.db
        .insertInto('blocks')
        .values(
          slice.map((b) => ({
            id: newId(),
            organisation_id: organisationId,
            user_id: loaded.user.get(b.user)!,
            student_id: loaded.student.get(b.student)!,
            reason: b.reason,
            created_by: null,
            removed_by: null,
            removal_reason: null,
            valid_from: change.now,
            valid_to: null,
          })),
        )
        .execute();
    }
    change.record({
      action: 'block.import',
      targetType: 'block',
      after: { count: fixture.blocks.length },
    });
  });
  log(
    `  grants ${fixture.grants.length}, direct links ${fixture.directLinks.length}, blocks ${fixture.blocks.length}`,
  );
  // As the CLI's bulk commands do when they finish.
  await database.analyze();
  return loaded;
}

/** Rebuilds the key map from a database `loadHaven` filled earlier (to measure again without reloading). */
export async function findLoaded(database: Database, fixture: Fixture): Promise<Loaded> {
  const db = database.db;
  const organisation = await db
    .selectFrom('organisations')
    .select('id')
    .where('name', '=', fixture.organisationName)
    .executeTakeFirstOrThrow();
  const organisationId = organisation.id;
  const owner = await db
    .selectFrom('users')
    .select('id')
    .where('email', '=', 'owner@trust.bench')
    .executeTakeFirstOrThrow();
  const byName = async (table: 'schools' | 'school_groups' | 'user_groups' | 'student_groups') =>
    new Map(
      (
        await db
          .selectFrom(table)
          .select(['id', 'name'])
          .where('organisation_id', '=', organisationId)
          .$if(table !== 'schools', (q) => q.where('deleted_at' as never, 'is', null))
          .execute()
      ).map((r) => [r.name, r.id]),
    );
  const schools = await byName('schools');
  const hubs = await byName('school_groups');
  const userGroups = await byName('user_groups');
  const studentGroups = await byName('student_groups');
  const usersByEmail = new Map(
    (
      await db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('organisation_id', '=', organisationId)
        .execute()
    ).map((r) => [r.email, r.id]),
  );
  const studentsByUpn = new Map(
    (
      await db
        .selectFrom('students')
        .select(['id', 'upn'])
        .where('organisation_id', '=', organisationId)
        .execute()
    ).map((r) => [r.upn!, r.id]),
  );
  const loaded: Loaded = {
    organisationId,
    ownerId: owner.id,
    school: new Map(fixture.schools.map((s) => [s.key, schools.get(s.name)!])),
    hub: new Map(fixture.schoolGroups.map((h) => [h.key, hubs.get(h.name)!])),
    user: new Map(fixture.users.map((u) => [u.key, usersByEmail.get(u.email)!])),
    student: new Map(fixture.students.map((s) => [s.key, studentsByUpn.get(s.upn)!])),
    studentKey: new Map(fixture.students.map((s) => [studentsByUpn.get(s.upn)!, s.key])),
    userGroup: new Map(fixture.userGroups.map((g) => [g.key, userGroups.get(g.name)!])),
    studentGroup: new Map(fixture.studentGroups.map((g) => [g.key, studentGroups.get(g.name)!])),
  };
  return loaded;
}
