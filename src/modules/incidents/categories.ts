import { requirePermission, requireSomewhere, schoolsWith } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import type { CategoriesTable, Sensitivity } from '../../db/tables.ts';
import { conflict, HavenError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';

/** The categories a new school starts with (each school can add and retire its own). */
export const defaultCategories: readonly { name: string; sensitivity: Sensitivity }[] = [
  { name: 'Child protection', sensitivity: 'child_protection' },
  { name: 'Allegation against staff', sensitivity: 'allegation' },
  { name: 'Behaviour', sensitivity: 'standard' },
  { name: 'Bullying', sensitivity: 'standard' },
  { name: 'Attendance', sensitivity: 'standard' },
  { name: 'Mental health', sensitivity: 'standard' },
  { name: 'Online safety', sensitivity: 'standard' },
  { name: 'First aid', sensitivity: 'standard' },
  { name: 'Pastoral', sensitivity: 'standard' },
];

/** Runs when a school is created, in the same transaction: its starting categories. */
export async function createDefaultCategories(
  change: Change,
  school: { id: string; organisationId: string },
): Promise<void> {
  await change.db
    .insertInto('categories')
    .values(
      defaultCategories.map((c) => ({
        id: newId(),
        organisation_id: school.organisationId,
        school_id: school.id,
        name: c.name,
        sensitivity: c.sensitivity,
        created_at: change.now,
        deleted_at: null,
      })),
    )
    .execute();
}

export interface CategoryView {
  id: string;
  schoolId: string | null;
  name: string;
  sensitivity: Sensitivity;
  /** Retired: kept on its records, no longer offered for new concerns. */
  retired: boolean;
}

function viewOf(row: CategoriesTable): CategoryView {
  return {
    id: row.id,
    schoolId: row.school_id,
    name: row.name,
    sensitivity: row.sensitivity,
    retired: row.deleted_at !== null,
  };
}

export class CategoryService {
  constructor(private readonly database: Database) {}

  /**
   * The organisation's categories and those of the schools where the caller logs concerns;
   * retired ones too when asked (the settings page), otherwise only those offered for new concerns.
   */
  async list(
    principal: Principal,
    schoolId?: string,
    includeRetired = false,
  ): Promise<{ items: CategoryView[] }> {
    requireSomewhere(principal, 'incidents.view');
    const schools = schoolsWith(principal, 'incidents.view');
    let select = this.database.db
      .selectFrom('categories')
      .select(['id', 'school_id', 'name', 'sensitivity', 'deleted_at'])
      .where('organisation_id', '=', principal.organisationId)
      .$if(!includeRetired, (q) => q.where('deleted_at', 'is', null));
    if (schoolId)
      select = select.where((eb) =>
        eb.or([eb('school_id', 'is', null), eb('school_id', '=', schoolId)]),
      );
    if (schools !== 'all')
      select = select.where((eb) =>
        eb.or([
          eb('school_id', 'is', null),
          ...(schools.length > 0 ? [eb('school_id', 'in', schools)] : []),
        ]),
      );
    const rows = await select.orderBy('name').orderBy('id').execute();
    return {
      items: rows.map((r) => ({
        id: r.id,
        schoolId: r.school_id,
        name: r.name,
        sensitivity: r.sensitivity,
        retired: r.deleted_at !== null,
      })),
    };
  }

  /** Renames or retires (or brings back) a category; Admin where it belongs. */
  async update(
    principal: Principal,
    categoryId: string,
    patch: { name?: string | undefined; retired?: boolean | undefined },
    origin: ChangeOrigin,
  ): Promise<CategoryView> {
    return runChange(this.database, origin, async (change) => {
      const org = principal.organisationId;
      const row = await change.db
        .selectFrom('categories')
        .selectAll()
        .where('id', '=', categoryId)
        .where('organisation_id', '=', org)
        .executeTakeFirst();
      if (!row) throw new HavenError(404, 'not_found', 'Not found', 'Category not found');
      requirePermission(
        principal,
        'categories.manage',
        row.school_id ? { type: 'school', id: row.school_id } : { type: 'organisation', id: org },
      );
      const before = viewOf(row);
      const name = patch.name ?? row.name;
      const deletedAt =
        patch.retired === undefined
          ? row.deleted_at
          : patch.retired
            ? (row.deleted_at ?? change.now)
            : null;
      if (deletedAt === null) await this.#requireNameFree(change, org, row.school_id, name, row.id);
      await change.db
        .updateTable('categories')
        .set({ name, deleted_at: deletedAt })
        .where('id', '=', categoryId)
        .execute();
      const after = viewOf({ ...row, name, deleted_at: deletedAt });
      change.record({
        action: 'category.update',
        targetType: 'category',
        targetId: categoryId,
        before,
        after,
      });
      return after;
    });
  }

  /** No two categories in use in one place share a name (case aside). */
  async #requireNameFree(
    change: Change,
    org: string,
    schoolId: string | null,
    name: string,
    except?: string,
  ) {
    const taken = await change.db
      .selectFrom('categories')
      .select('id')
      .where('organisation_id', '=', org)
      .where('deleted_at', 'is', null)
      .where((eb) => (schoolId ? eb('school_id', '=', schoolId) : eb('school_id', 'is', null)))
      .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
      .$if(except !== undefined, (q) => q.where('id', '!=', except!))
      .executeTakeFirst();
    if (taken) throw conflict('A category with this name already exists there', 'name_taken');
  }

  async create(
    principal: Principal,
    input: { schoolId?: string | undefined; name: string; sensitivity: Sensitivity },
    origin: ChangeOrigin,
  ): Promise<CategoryView> {
    return runChange(this.database, origin, async (change) => {
      const org = principal.organisationId;
      if (input.schoolId) {
        const school = await change.db
          .selectFrom('schools')
          .select('id')
          .where('id', '=', input.schoolId)
          .where('organisation_id', '=', org)
          .executeTakeFirst();
        if (!school)
          throw new HavenError(404, 'not_found', 'Not found', 'School not found', {
            field: 'schoolId',
          });
      }
      requirePermission(
        principal,
        'categories.manage',
        input.schoolId ? { type: 'school', id: input.schoolId } : { type: 'organisation', id: org },
      );
      await this.#requireNameFree(change, org, input.schoolId ?? null, input.name);
      const row = {
        id: newId(),
        organisation_id: org,
        school_id: input.schoolId ?? null,
        name: input.name,
        sensitivity: input.sensitivity,
        created_at: change.now,
        deleted_at: null,
      };
      await change.db.insertInto('categories').values(row).execute();
      const view = viewOf(row);
      change.record({
        action: 'category.create',
        targetType: 'category',
        targetId: row.id,
        after: view,
      });
      return view;
    });
  }
}
