import type { Kysely } from 'kysely';
import { requirePermission } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Scope } from '../../access/scopes.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { conflict, HavenError, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { hashPassword, passwordWeakness } from '../auth/passwords.ts';
import { insertGrant } from '../role-grants/repository.ts';
import { findUser, insertUser, normaliseEmail } from '../users/repository.ts';
import * as repo from './repository.ts';
import {
  organisationSettings,
  type SchoolSettings,
  type SchoolSettingsPatch,
  schoolSettings,
} from './settings.ts';

export interface NewOrganisation {
  organisationName: string;
  schoolName: string;
  owner: { email: string; name: string; password: string };
}

export interface CreatedOrganisation {
  organisationId: string;
  schoolId: string;
  ownerId: string;
}

type SchoolRow = NonNullable<Awaited<ReturnType<typeof repo.findSchool>>>;
type SchoolGroupRow = NonNullable<Awaited<ReturnType<typeof repo.findSchoolGroup>>>;

export function presentSchool(row: SchoolRow) {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    // Each setting with its default where the school never set it (as every reader takes it).
    settings: schoolSettings(row.settings),
  };
}

type OrganisationRow = NonNullable<Awaited<ReturnType<typeof repo.findOrganisation>>>;

export function presentOrganisation(row: OrganisationRow) {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    settings: organisationSettings(row.settings),
  };
}

export function presentSchoolGroup(row: SchoolGroupRow, schoolIds: string[]) {
  return { id: row.id, name: row.name, schoolIds, createdAt: row.created_at };
}

function organisationScope(principal: Principal): Scope {
  return { type: 'organisation', id: principal.organisationId };
}

/** Everything a new school starts with; later parts of Haven add their defaults here. */
export type SchoolDefaults = (
  change: Change,
  school: {
    id: string;
    name: string;
    organisationId: string;
    creatorUserId: string | null;
    /** Named when the school was created; otherwise the organisation's first Owner. */
    allegationsManagerId?: string | null;
  },
) => Promise<void>;

export class OrganisationService {
  readonly #schoolDefaults: SchoolDefaults[] = [];

  constructor(private readonly database: Database) {}

  /** Registers work to do inside the transaction that creates each school. */
  onSchoolCreated(defaults: SchoolDefaults): void {
    this.#schoolDefaults.push(defaults);
  }

  /** Whether first-run setup is still open (no organisation exists yet). */
  async setupNeeded(): Promise<boolean> {
    return !(await repo.anyOrganisationExists(this.database.db));
  }

  /** `POST /setup`: the first organisation, its first school and first Owner; refused once any exists. */
  setup(input: NewOrganisation, origin: ChangeOrigin): Promise<CreatedOrganisation> {
    return this.#create(input, origin, true);
  }

  /** `haven org create`: a further organisation on the same installation. */
  createOrganisation(input: NewOrganisation, origin: ChangeOrigin): Promise<CreatedOrganisation> {
    return this.#create(input, origin, false);
  }

  async #create(
    input: NewOrganisation,
    origin: ChangeOrigin,
    onlyFirst: boolean,
  ): Promise<CreatedOrganisation> {
    const weakness = passwordWeakness(input.owner.password, [input.owner.name, input.owner.email]);
    if (weakness) throw invalidField('owner.password', weakness);
    const passwordHash = await hashPassword(input.owner.password);
    const organisationId = newId();
    const ownerId = newId();

    return runChange(
      this.database,
      { ...origin, organisationId, installationChain: true },
      async (change) => {
        const db = change.db;
        if (onlyFirst && (await repo.anyOrganisationExists(db))) {
          throw conflict('Haven is already set up on this installation', 'already_set_up');
        }
        await db
          .insertInto('organisations')
          .values({
            id: organisationId,
            name: input.organisationName,
            settings: '{}',
            created_at: change.now,
            updated_at: change.now,
          })
          .execute();
        change.record({
          action: 'organisation.create',
          targetType: 'organisation',
          targetId: organisationId,
          after: { name: input.organisationName },
        });
        // Emails are unique per organisation, and this one has no users yet: nothing to check.
        await insertUser(db, {
          id: ownerId,
          organisation_id: organisationId,
          email: input.owner.email,
          name: input.owner.name,
          password_hash: passwordHash,
          now: change.now,
        });
        change.record({
          action: 'user.create',
          targetType: 'user',
          targetId: ownerId,
          after: { email: normaliseEmail(input.owner.email), name: input.owner.name },
        });
        const grantId = newId();
        const scope: Scope = { type: 'organisation', id: organisationId };
        await insertGrant(db, {
          id: grantId,
          organisationId,
          subject: { type: 'user', id: ownerId },
          role: 'owner',
          scope,
          grantedBy: null,
          now: change.now,
        });
        change.record({
          action: 'role_grant.create',
          targetType: 'role_grant',
          targetId: grantId,
          after: { subject: { type: 'user', id: ownerId }, role: 'owner', scope },
        });
        const schoolId = await this.#addSchool(change, organisationId, input.schoolName, ownerId);
        return { organisationId, schoolId, ownerId };
      },
    );
  }

  async #addSchool(
    change: Change,
    organisationId: string,
    name: string,
    creatorUserId: string | null,
    allegationsManagerId?: string,
  ): Promise<string> {
    if (await repo.findSchoolByName(change.db, organisationId, name)) {
      throw conflict(`A school named "${name}" already exists`, 'name_taken');
    }
    const schoolId = newId();
    await change.db
      .insertInto('schools')
      .values({
        id: schoolId,
        organisation_id: organisationId,
        name,
        settings: '{}',
        created_at: change.now,
        updated_at: change.now,
      })
      .execute();
    change.record({
      action: 'school.create',
      targetType: 'school',
      targetId: schoolId,
      after: { name },
    });
    for (const defaults of this.#schoolDefaults) {
      await defaults(change, {
        id: schoolId,
        name,
        organisationId,
        creatorUserId,
        ...(allegationsManagerId !== undefined ? { allegationsManagerId } : {}),
      });
    }
    return schoolId;
  }

  async getOrganisation(principal: Principal) {
    const row = await repo.findOrganisation(this.database.db, principal.organisationId);
    if (!row) throw notFound('Organisation');
    return presentOrganisation(row);
  }

  /**
   * `PATCH /organisation` (Owner): its name and its settings, each kept where not named. The
   * audit row names only what the patch names, as `school.settings` does for a school.
   */
  async updateOrganisation(
    principal: Principal,
    patch: { name?: string | undefined; retirementAge?: number | undefined },
    origin: ChangeOrigin,
  ) {
    requirePermission(principal, 'organisation.update', organisationScope(principal));
    return runChange(this.database, origin, async (change) => {
      const before = await repo.findOrganisation(change.db, principal.organisationId);
      if (!before) throw notFound('Organisation');
      const name = patch.name ?? before.name;
      const stored = JSON.parse(before.settings) as Record<string, unknown>;
      const settings =
        patch.retirementAge === undefined
          ? before.settings
          : JSON.stringify({ ...stored, retirementAge: patch.retirementAge });
      await change.db
        .updateTable('organisations')
        .set({ name, settings, updated_at: change.now })
        .where('id', '=', principal.organisationId)
        .execute();
      const retirement =
        patch.retirementAge === undefined
          ? undefined
          : {
              before: organisationSettings(before.settings).retirementAge,
              after: patch.retirementAge,
            };
      change.record({
        action: 'organisation.update',
        targetType: 'organisation',
        targetId: before.id,
        before: { name: before.name, ...(retirement && { retirementAge: retirement.before }) },
        after: { name, ...(retirement && { retirementAge: retirement.after }) },
      });
      return presentOrganisation({ ...before, name, settings, updated_at: change.now });
    });
  }

  async createSchool(
    principal: Principal,
    input: { name: string; allegationsManagerId?: string | undefined },
    origin: ChangeOrigin,
  ) {
    requirePermission(principal, 'schools.manage', organisationScope(principal));
    return runChange(this.database, origin, async (change) => {
      const manager = input.allegationsManagerId;
      // The allegations manager reads every allegation at the school: a live user of this organisation.
      if (manager !== undefined) {
        const user = await findUser(change.db, principal.organisationId, manager);
        if (!user || user.disabled_at !== null)
          throw new HavenError(404, 'not_found', 'Not found', 'User not found', {
            field: 'allegationsManagerId',
          });
      }
      const schoolId = await this.#addSchool(
        change,
        principal.organisationId,
        input.name,
        principal.userId || null, // none when the installation itself acts (the CLI)
        manager,
      );
      const row = await repo.findSchool(change.db, principal.organisationId, schoolId);
      return presentSchool(row!);
    });
  }

  async listSchools(principal: Principal) {
    const rows = await repo.listSchools(this.database.db, principal.organisationId);
    return rows.map(presentSchool);
  }

  async getSchool(principal: Principal, schoolId: string) {
    const row = await repo.findSchool(this.database.db, principal.organisationId, schoolId);
    if (!row) throw notFound('School');
    return presentSchool(row);
  }

  async updateSchool(
    principal: Principal,
    schoolId: string,
    patch: { name?: string | undefined },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      const before = await repo.findSchool(change.db, principal.organisationId, schoolId);
      if (!before) throw notFound('School');
      requirePermission(principal, 'schools.manage', organisationScope(principal));
      const name = patch.name ?? before.name;
      if (
        name !== before.name &&
        (await repo.findSchoolByName(change.db, principal.organisationId, name))
      ) {
        throw conflict(`A school named "${name}" already exists`, 'name_taken');
      }
      await change.db
        .updateTable('schools')
        .set({ name, updated_at: change.now })
        .where('id', '=', schoolId)
        .where('organisation_id', '=', principal.organisationId)
        .execute();
      change.record({
        action: 'school.update',
        targetType: 'school',
        targetId: schoolId,
        before: { name: before.name },
        after: { name },
      });
      return presentSchool({ ...before, name, updated_at: change.now });
    });
  }

  /**
   * `PATCH /schools/:id/settings` (Admin at the school): the settings named, the others kept.
   * Two-factor enrolment is asked of each session on its next request (`src/access/enrolment.ts`).
   */
  async updateSchoolSettings(
    principal: Principal,
    schoolId: string,
    patch: SchoolSettingsPatch,
    origin: ChangeOrigin,
  ): Promise<SchoolSettings> {
    return runChange(this.database, origin, async (change) => {
      const school = await repo.findSchool(change.db, principal.organisationId, schoolId);
      if (!school) throw notFound('School');
      requirePermission(principal, 'settings.manage', { type: 'school', id: school.id });
      const stored = JSON.parse(school.settings) as Record<string, unknown>;
      const changed = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
      const after = { ...stored, ...changed };
      await change.db
        .updateTable('schools')
        .set({ settings: JSON.stringify(after), updated_at: change.now })
        .where('id', '=', school.id)
        .where('organisation_id', '=', principal.organisationId)
        .execute();
      change.record({
        action: 'school.settings',
        targetType: 'school',
        targetId: school.id,
        before: stored,
        after,
      });
      return schoolSettings(JSON.stringify(after));
    });
  }

  async createSchoolGroup(
    principal: Principal,
    input: { name: string; schoolIds: string[] },
    origin: ChangeOrigin,
  ) {
    requirePermission(principal, 'schools.manage', organisationScope(principal));
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      if (await repo.findSchoolGroupByName(db, principal.organisationId, input.name)) {
        throw conflict(`A school group named "${input.name}" already exists`, 'name_taken');
      }
      const schoolIds = await this.#requireSchools(db, principal.organisationId, input.schoolIds);
      const id = newId();
      await db
        .insertInto('school_groups')
        .values({
          id,
          organisation_id: principal.organisationId,
          name: input.name,
          created_at: change.now,
          updated_at: change.now,
          deleted_at: null,
        })
        .execute();
      await this.#addSchoolsToGroup(change, principal.organisationId, id, schoolIds);
      change.record({
        action: 'school_group.create',
        targetType: 'school_group',
        targetId: id,
        after: { name: input.name, schoolIds },
      });
      const row = await repo.findSchoolGroup(db, principal.organisationId, id);
      return presentSchoolGroup(row!, schoolIds);
    });
  }

  async listSchoolGroups(principal: Principal) {
    const db = this.database.db;
    const rows = await repo.listSchoolGroups(db, principal.organisationId);
    const schools = await repo.schoolIdsOfGroups(
      db,
      principal.organisationId,
      rows.map((r) => r.id),
    );
    return rows.map((row) => presentSchoolGroup(row, schools.get(row.id) ?? []));
  }

  async getSchoolGroup(principal: Principal, groupId: string) {
    const db = this.database.db;
    const row = await repo.findSchoolGroup(db, principal.organisationId, groupId);
    if (!row) throw notFound('School group');
    const schools = await repo.schoolIdsOfGroups(db, principal.organisationId, [groupId]);
    return presentSchoolGroup(row, schools.get(groupId) ?? []);
  }

  async updateSchoolGroup(
    principal: Principal,
    groupId: string,
    patch: { name?: string | undefined; schoolIds?: string[] | undefined },
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      const organisationId = principal.organisationId;
      const before = await repo.findSchoolGroup(db, organisationId, groupId);
      if (!before) throw notFound('School group');
      requirePermission(principal, 'schools.manage', organisationScope(principal));
      const beforeSchools =
        (await repo.schoolIdsOfGroups(db, organisationId, [groupId])).get(groupId) ?? [];
      const name = patch.name ?? before.name;
      if (name !== before.name && (await repo.findSchoolGroupByName(db, organisationId, name))) {
        throw conflict(`A school group named "${name}" already exists`, 'name_taken');
      }
      let schoolIds = beforeSchools;
      if (patch.schoolIds) {
        schoolIds = await this.#requireSchools(db, organisationId, patch.schoolIds);
        const leaving = beforeSchools.filter((s) => !schoolIds.includes(s));
        const joining = schoolIds.filter((s) => !beforeSchools.includes(s));
        if (leaving.length > 0) {
          await db
            .updateTable('school_group_schools')
            .set({ valid_to: change.now })
            .where('organisation_id', '=', organisationId)
            .where('school_group_id', '=', groupId)
            .where('school_id', 'in', leaving)
            .where('valid_to', 'is', null)
            .execute();
        }
        await this.#addSchoolsToGroup(change, organisationId, groupId, joining);
      }
      await db
        .updateTable('school_groups')
        .set({ name, updated_at: change.now })
        .where('id', '=', groupId)
        .execute();
      change.record({
        action: 'school_group.update',
        targetType: 'school_group',
        targetId: groupId,
        before: { name: before.name, schoolIds: beforeSchools },
        after: { name, schoolIds },
      });
      return presentSchoolGroup({ ...before, name }, schoolIds);
    });
  }

  async deleteSchoolGroup(principal: Principal, groupId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const db = change.db;
      const organisationId = principal.organisationId;
      const before = await repo.findSchoolGroup(db, organisationId, groupId);
      if (!before) throw notFound('School group');
      requirePermission(principal, 'schools.manage', organisationScope(principal));
      const grant = await db
        .selectFrom('role_grants')
        .select('id')
        .where('organisation_id', '=', organisationId)
        .where('scope_type', '=', 'school_group')
        .where('scope_id', '=', groupId)
        .where('valid_to', 'is', null)
        .executeTakeFirst();
      if (grant) {
        throw conflict('Roles are still granted at this school group; revoke them first', 'in_use');
      }
      await db
        .updateTable('school_group_schools')
        .set({ valid_to: change.now })
        .where('school_group_id', '=', groupId)
        .where('valid_to', 'is', null)
        .execute();
      await db
        .updateTable('school_groups')
        .set({ deleted_at: change.now, updated_at: change.now })
        .where('id', '=', groupId)
        .execute();
      change.record({
        action: 'school_group.delete',
        targetType: 'school_group',
        targetId: groupId,
        before: { name: before.name },
      });
    });
  }

  async #requireSchools(db: Kysely<DB>, organisationId: string, schoolIds: string[]) {
    const unique = [...new Set(schoolIds)];
    const existing = await repo.existingSchoolIds(db, organisationId, unique);
    const missing = unique.filter((s) => !existing.has(s));
    if (missing.length > 0) throw notFound(`School ${missing[0]}`);
    return unique;
  }

  async #addSchoolsToGroup(
    change: Change,
    organisationId: string,
    groupId: string,
    schoolIds: string[],
  ) {
    if (schoolIds.length === 0) return;
    await change.db
      .insertInto('school_group_schools')
      .values(
        schoolIds.map((schoolId) => ({
          id: newId(),
          organisation_id: organisationId,
          school_group_id: groupId,
          school_id: schoolId,
          valid_from: change.now,
          valid_to: null,
        })),
      )
      .execute();
  }
}
