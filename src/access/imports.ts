import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { chunks, sqlTrue } from '../db/sql.ts';
import type { DB, ImportRunsTable } from '../db/tables.ts';
import { canSomewhere, permissionDenied } from './decide.ts';
import type { Permission } from './permissions.ts';
import type { Principal } from './principal.ts';

/**
 * Imports (docs/imports.md): who may import what, and who reads an import's run.
 *  - Importing pupils needs `students.create`, staff `users.manage` (spec section 2: adding
 *    students, adding users); a OneRoster bundle adds pupils, so `students.create`, and
 *    `users.manage` too once it is read and holds staff. The import then checks each row at its
 *    own school.
 *  - A run is read by the person who started it, while they may still start a run of its kind.
 *    Anyone else's, another organisation's, or one of a kind the caller may no longer import is
 *    not found (404): its problems name the children and staff of the rows it read.
 */

export type ImportKind = ImportRunsTable['kind'];

/** The permission each kind of import needs (the routes that import declare these). */
export const importPermissions = {
  students: 'students.create',
  staff: 'users.manage',
  oneroster: 'students.create',
} as const satisfies Record<ImportKind, Permission>;

const kinds = Object.keys(importPermissions) as ImportKind[];

/**
 * What a route about runs of any kind declares (making a waiting run, reading one): a permission
 * that each kind's permission implies, so the route's gate turns away nobody whom some kind lets
 * in (a unit test holds this against the catalogue). The run's own kind is then asked here.
 */
export const anyImportPermission: Permission = 'students.create';

export function mayImport(principal: Principal, kind: ImportKind): boolean {
  return canSomewhere(principal, importPermissions[kind]);
}

/** 403 naming the permission the kind needs. */
export function requireImport(principal: Principal, kind: ImportKind): void {
  if (!mayImport(principal, kind)) throw permissionDenied(importPermissions[kind]);
}

/** The runs the caller reads, as a condition on `import_runs as r`. */
export function importRunReadable(
  // biome-ignore lint/suspicious/noExplicitAny: a condition on `import_runs as r` inside any query over it
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
): Expression<SqlBool> {
  const allowed = kinds.filter((kind) => mayImport(principal, kind));
  if (allowed.length === 0) return sql<SqlBool>`1 = 0`;
  return eb.and([
    eb('r.organisation_id', '=', principal.organisationId),
    // The server's console (`haven ... import`) starts runs with no user.
    principal.userId ? eb('r.started_by', '=', principal.userId) : eb('r.started_by', 'is', null),
    eb('r.kind', 'in', allowed),
  ]);
}

/**
 * Of these ids, those naming an import run the caller may not read: withheld wherever they appear
 * (the audit log's import rows name their run).
 */
export async function unreadableImportRuns(
  db: Kysely<DB>,
  principal: Principal,
  ids: Iterable<string>,
): Promise<Set<string>> {
  const hidden = new Set<string>();
  for (const slice of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom('import_runs as r')
      .select((eb) => ['r.id', sql<boolean>`${importRunReadable(eb, principal)}`.as('ok')])
      .where('r.id', 'in', slice)
      .execute();
    for (const row of rows) if (!sqlTrue(row.ok)) hidden.add(row.id);
  }
  return hidden;
}
