import type { Kysely, Selectable } from 'kysely';
import { can } from '../../access/decide.ts';
import { incidentAbilities } from '../../access/incidents.ts';
import type { Principal } from '../../access/principal.ts';
import type { Reader } from '../../access/readers.ts';
import { visibleUserGroupIds } from '../../access/user-groups.ts';
import { type AccessTime, visibleAmong } from '../../access/visibility.ts';
import type { DB, IncidentsTable, Sensitivity } from '../../db/tables.ts';
import type { IncidentView, RevisionView } from './schema.ts';

/**
 * Records leave the server through here. A child the reader cannot see is shown as `redacted`
 * (no name, no identifier) on every incident and every revision; a revision the reader could
 * not read as a record of its own shape is shown as withheld, with no content at all.
 */

export type IncidentRow = Selectable<IncidentsTable> & {
  category_name: string;
  category_school_id: string | null;
  reporter_name: string;
};

/** Incident rows with their category and reporter, for a query that has already decided the reader may read them. */
export function incidentRows(db: Kysely<DB>) {
  return db
    .selectFrom('incidents as i')
    .innerJoin('categories as c', 'c.id', 'i.category_id')
    .innerJoin('users as r', 'r.id', 'i.reporter_id')
    .selectAll('i')
    .select([
      'c.name as category_name',
      'c.school_id as category_school_id',
      'r.name as reporter_name',
    ]);
}

/** The child not on roll a record names, as stored (`incidents.unlisted_child`, a snapshot's `unlistedChild`). */
export interface UnlistedChild {
  name: string;
  note: string | null;
}

export function parseUnlistedChild(json: string | null): UnlistedChild | null {
  if (json === null) return null;
  const stored = JSON.parse(json) as { name: string; note?: string | null };
  return { name: stored.name, note: stored.note ?? null };
}

function involved(
  visible: ReadonlySet<string>,
  student: { id: string; given_name: string; family_name: string; preferred_name: string | null },
) {
  return visible.has(student.id)
    ? {
        redacted: false as const,
        id: student.id,
        name: `${student.preferred_name ?? student.given_name} ${student.family_name}`,
      }
    : { redacted: true as const };
}

export async function presentIncidents(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  principal: Principal,
  rows: IncidentRow[],
): Promise<IncidentView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const [students, assignees] = await Promise.all([
    db
      .selectFrom('incident_students as is')
      .innerJoin('students as s', 's.id', 'is.student_id')
      .select(['is.incident_id', 's.id', 's.given_name', 's.family_name', 's.preferred_name'])
      .where('is.incident_id', 'in', ids)
      .orderBy('s.family_key')
      .orderBy('s.given_key')
      .execute(),
    db
      .selectFrom('incident_assignees as a')
      .leftJoin('users as u', (j) =>
        j.onRef('u.id', '=', 'a.assignee_id').on('a.assignee_type', '=', 'user'),
      )
      .leftJoin('user_groups as g', (j) =>
        j.onRef('g.id', '=', 'a.assignee_id').on('a.assignee_type', '=', 'user_group'),
      )
      .select([
        'a.incident_id',
        'a.assignee_type',
        'a.assignee_id',
        'u.name as user_name',
        'g.name as group_name',
      ])
      .where('a.incident_id', 'in', ids)
      .orderBy('a.assigned_at')
      .execute(),
  ]);
  const visible = await visibleAmong(db, t, reader, [...new Set(students.map((s) => s.id))]);
  // A group homed where the reader administers nothing, and that they are not in, is not named.
  const groups = await visibleUserGroupIds(
    db,
    principal,
    assignees.flatMap((a) => (a.assignee_type === 'user_group' ? [a.assignee_id] : [])),
  );
  // Where a record may be moved is asked only of those who may move it at all.
  const schools = rows.some((row) =>
    can(principal, 'incidents.reclassify', { type: 'school', id: row.school_id }),
  )
    ? (
        await db
          .selectFrom('schools')
          .select('id')
          .where('organisation_id', '=', t.organisationId)
          .orderBy('name')
          .execute()
      ).map((s) => s.id)
    : [];
  return rows.map((row) => ({
    id: row.id,
    schoolId: row.school_id,
    category: {
      id: row.category_id,
      schoolId: row.category_school_id,
      name: row.category_name,
      sensitivity: row.sensitivity,
    },
    occurredAt: row.occurred_at,
    location: row.location,
    description: row.description,
    status: row.status,
    reporter: { id: row.reporter_id, name: row.reporter_name },
    subjectUserId: row.subject_user_id,
    students: students.filter((s) => s.incident_id === row.id).map((s) => involved(visible, s)),
    unlistedChild: parseUnlistedChild(row.unlisted_child),
    assignees: assignees
      .filter((a) => a.incident_id === row.id)
      .map((a) => ({
        type: a.assignee_type,
        id: a.assignee_id,
        name:
          a.assignee_type === 'user_group' && !groups.has(a.assignee_id)
            ? 'a group you cannot see'
            : (a.user_name ?? a.group_name ?? ''),
      })),
    revision: row.revision,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    abilities: incidentAbilities(principal, row, schools),
  }));
}

interface Snapshot {
  categoryId: string;
  occurredAt: string;
  location: string | null;
  description: string;
  status: 'open' | 'in_progress' | 'closed';
  /** Absent from snapshots taken before reports could name a child not on roll. */
  unlistedChild?: UnlistedChild | null;
  updatedAt: string;
}

/**
 * An incident's revisions as the reader may see them, newest first: `readable` holds the revision
 * numbers the policy lets them read (each as a record of its own category, school and children).
 */
export async function presentRevisions(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  incidentId: string,
  readable: ReadonlySet<number>,
): Promise<RevisionView[]> {
  const rows = await db
    .selectFrom('incident_revisions as r')
    .leftJoin('users as u', 'u.id', 'r.changed_by')
    .select([
      'r.revision',
      'r.snapshot',
      'r.changed_at',
      'r.changed_by',
      'r.school_id',
      'r.sensitivity',
      'r.subject_user_id',
      'u.name',
    ])
    .where('r.incident_id', '=', incidentId)
    .orderBy('r.revision', 'desc')
    .execute();
  const shown = rows.filter((r) => readable.has(Number(r.revision)));
  const revisionNumbers = shown.map((r) => Number(r.revision));
  const categoryIds = [
    ...new Set(shown.map((r) => (JSON.parse(r.snapshot) as Snapshot).categoryId)),
  ];
  const [students, categories] = await Promise.all([
    revisionNumbers.length === 0
      ? []
      : db
          .selectFrom('incident_revision_students as rs')
          .innerJoin('students as s', 's.id', 'rs.student_id')
          .select(['rs.revision', 's.id', 's.given_name', 's.family_name', 's.preferred_name'])
          .where('rs.incident_id', '=', incidentId)
          .where('rs.revision', 'in', revisionNumbers)
          .orderBy('s.family_key')
          .orderBy('s.given_key')
          .execute(),
    categoryIds.length === 0
      ? []
      : db
          .selectFrom('categories')
          .select(['id', 'name', 'school_id'])
          .where('organisation_id', '=', t.organisationId)
          .where('id', 'in', categoryIds)
          .execute(),
  ]);
  const visible = await visibleAmong(db, t, reader, [...new Set(students.map((s) => s.id))]);
  const categoryById = new Map(categories.map((c) => [c.id, c]));
  return rows.map((r): RevisionView => {
    const revision = Number(r.revision);
    if (!readable.has(revision))
      return { revision, replacedAt: r.changed_at, withheld: true as const };
    const snapshot = JSON.parse(r.snapshot) as Snapshot;
    const category = categoryById.get(snapshot.categoryId);
    return {
      revision,
      replacedAt: r.changed_at,
      replacedBy: r.changed_by ? { id: r.changed_by, name: r.name ?? '' } : null,
      withheld: false as const,
      incident: {
        schoolId: r.school_id,
        categoryId: snapshot.categoryId,
        category: {
          id: snapshot.categoryId,
          schoolId: category?.school_id ?? null,
          name: category?.name ?? '',
          sensitivity: r.sensitivity as Sensitivity,
        },
        occurredAt: snapshot.occurredAt,
        location: snapshot.location,
        description: snapshot.description,
        status: snapshot.status,
        subjectUserId: r.subject_user_id,
        students: students
          .filter((s) => Number(s.revision) === revision)
          .map((s) => involved(visible, s)),
        unlistedChild: snapshot.unlistedChild ?? null,
        updatedAt: snapshot.updatedAt,
      },
    };
  });
}
