import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';
import { type ChangeOrigin, recordRead } from './change.ts';

/**
 * One read of a sensitive record, or a refused read, in the access log: an `access` row in one of
 * the organisation's read chains (`recordRead`), so logged reads never queue on its change chain.
 */
export async function logRead(
  database: Database,
  origin: ChangeOrigin,
  entry: {
    action: string;
    targetType: string;
    targetId: string;
    outcome: 'allowed' | 'not_found' | 'mfa_required' | 'forbidden';
    path?: unknown;
  },
): Promise<void> {
  await recordRead(database, origin, {
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    after: { outcome: entry.outcome, ...(entry.path === undefined ? {} : { path: entry.path }) },
  });
}

/** The record an access-log row is about, named as the reader may see it. */
export interface AccessRecord {
  type: string;
  id: string | null;
  /** A child's name only if the reader may see the child; a concern's category and date; a file's name. */
  label: string | null;
}

/** The way in that allowed a read: the team (user group) and what it is linked to, or another way. */
export interface AllowedBy {
  kind: 'user_group' | 'direct_link' | 'reporter' | 'assignee' | 'assigned_group';
  /** Null id and name: a group the reader may not see (homed where they administer nothing). */
  userGroup: { id: string | null; name: string | null } | null;
  studentGroup: { id: string; name: string | null } | null;
  /** The child through whom a concern or document was read, when it was. */
  student: { id: string; name: string | null } | null;
}

interface StoredPath {
  kind?: string;
  user_group_id?: string | null;
  student_group_id?: string | null;
  userGroupId?: string;
  studentId?: string;
  student_id?: string;
  via?: StoredPath | null;
  /** A document's read: its record (`type`, `id`) and the way in to it. */
  way?: StoredPath | null;
}

/** Every user group an access row's path names (to ask the user-group policy once per page). */
export function groupsInPath(path: unknown): string[] {
  const p = (path ?? {}) as StoredPath;
  const inner = (p.kind === undefined ? p.way : p) ?? {};
  const via = inner.via ?? inner;
  return [inner.userGroupId, via.user_group_id].filter((id): id is string => !!id);
}

/**
 * The way in recorded with a read, whatever its caller wrote: a child's path row
 * (`accessPaths`), a concern's `WayIn` (`readIncident`), or a document's record and the way to it
 * (rows written before 2026-11-30 name only the record: no way in).
 */
export function allowedBy(
  path: unknown,
  names: ReadonlyMap<string, string>,
  visibleGroups: ReadonlySet<string>,
): AllowedBy | null {
  if (!path || typeof path !== 'object') return null;
  const p = path as StoredPath;
  const inner = p.kind === undefined ? (p.way ?? null) : p;
  if (!inner) return null;
  const group = (id: string | null | undefined) =>
    id
      ? visibleGroups.has(id)
        ? { id, name: names.get(id) ?? null }
        : { id: null, name: null }
      : null;
  const studentGroup = (id: string | null | undefined) =>
    id ? { id, name: names.get(id) ?? null } : null;
  const student = (id: string | null | undefined) =>
    id ? { id, name: names.get(id) ?? null } : null;
  const none = { userGroup: null, studentGroup: null, student: null };
  switch (inner.kind) {
    case 'reporter':
    case 'assignee':
      return { kind: inner.kind, ...none };
    case 'assigned_group':
      return { kind: 'assigned_group', ...none, userGroup: group(inner.userGroupId) };
    case 'student': {
      const via = inner.via;
      const through = student(inner.studentId);
      if (!via) return null;
      if (via.kind === 'user_to_student') return { kind: 'direct_link', ...none, student: through };
      return {
        kind: 'user_group',
        userGroup: group(via.user_group_id),
        studentGroup: studentGroup(via.student_group_id),
        student: through,
      };
    }
    case 'user_to_student':
      return { kind: 'direct_link', ...none };
    case 'group_to_student_group':
    case 'group_to_student':
      return {
        kind: 'user_group',
        userGroup: group(inner.user_group_id),
        studentGroup: studentGroup(inner.student_group_id),
        student: null,
      };
    default:
      return null;
  }
}

/** The stored path with any group the reader may not see taken out of it (its id and name). */
export function withholdPathGroups(path: unknown, visibleGroups: ReadonlySet<string>): unknown {
  if (!path || typeof path !== 'object') return path;
  const p = { ...(path as Record<string, unknown>) };
  if (typeof p.userGroupId === 'string' && !visibleGroups.has(p.userGroupId)) {
    p.userGroupId = null;
    p.name = null;
  }
  if (typeof p.user_group_id === 'string' && !visibleGroups.has(p.user_group_id))
    p.user_group_id = null;
  for (const key of ['via', 'way'] as const)
    if (p[key] && typeof p[key] === 'object') p[key] = withholdPathGroups(p[key], visibleGroups);
  return p;
}

/** Labels of the concerns and documents the page's access rows are about (rows already readable). */
export async function recordLabels(
  db: Kysely<DB>,
  organisationId: string,
  rows: readonly { target_type: string | null; target_id: string | null }[],
): Promise<Map<string, string>> {
  const of = (type: string) => [
    ...new Set(rows.filter((r) => r.target_type === type && r.target_id).map((r) => r.target_id!)),
  ];
  const labels = new Map<string, string>();
  for (const slice of chunks(of('incident'))) {
    const incidents = await db
      .selectFrom('incidents as i')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .select(['i.id', 'i.occurred_at', 'c.name'])
      .where('i.organisation_id', '=', organisationId)
      .where('i.id', 'in', slice)
      .execute();
    for (const i of incidents)
      labels.set(i.id, `${i.name} concern of ${i.occurred_at.slice(0, 10)}`);
  }
  for (const slice of chunks(of('document'))) {
    const documents = await db
      .selectFrom('documents')
      .select(['id', 'filename'])
      .where('organisation_id', '=', organisationId)
      .where('id', 'in', slice)
      .execute();
    for (const d of documents) labels.set(d.id, d.filename);
  }
  return labels;
}
