import type { Kysely } from 'kysely';
import { actionReadable } from '../../access/actions.ts';
import { documentReadable } from '../../access/documents.ts';
import { incidentReadable, readableRevisions } from '../../access/incidents.ts';
import { asCaller, type Reader, seesStudent } from '../../access/readers.ts';
import type { AccessTime } from '../../access/visibility.ts';
import type { DB, DocumentsTable, Sensitivity } from '../../db/tables.ts';
import { presentRevisions } from '../incidents/presenter.ts';

/**
 * A child's safeguarding file (issue 16, item 3): who the child is, and every concern, earlier
 * version, action and document the reader may read, oldest first. Every part is chosen by the
 * record policies of `src/access` (the child's visibility, `incidentReadable`, `readableRevisions`,
 * `actionReadable`, `documentReadable`) and nothing else. What the reader may not read is left
 * out without a trace: the file never says that, or how much, was held back.
 */

export interface FilePerson {
  id: string;
  name: string;
}

export interface FileDocument {
  id: string;
  name: string;
  contentType: string;
  size: number;
  addedAt: string;
}

export interface FileAction {
  id: string;
  title: string;
  createdAt: string;
  dueAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
}

/** An earlier version of a concern, as it stood until `replacedAt`. */
export interface FileRevision {
  revision: number;
  replacedAt: string;
  replacedBy: string | null;
  category: string;
  sensitivity: Sensitivity;
  occurredAt: string;
  location: string | null;
  description: string;
  status: 'open' | 'in_progress' | 'closed';
}

export interface FileConcern {
  id: string;
  category: string;
  sensitivity: Sensitivity;
  occurredAt: string;
  recordedAt: string;
  reporter: string;
  location: string | null;
  description: string;
  status: 'open' | 'in_progress' | 'closed';
  revision: number;
  /** Oldest first; only those the reader may read as records of their own shape. */
  revisions: FileRevision[];
  /** Oldest first. */
  actions: FileAction[];
  /** Documents filed on the concern, oldest first. */
  documents: FileDocument[];
}

export type FileEntry =
  | { kind: 'concern'; at: string; concern: FileConcern }
  | { kind: 'document'; at: string; document: FileDocument };

export interface SafeguardingFile {
  child: {
    id: string;
    name: string;
    givenName: string;
    familyName: string;
    preferredName: string | null;
    dateOfBirth: string | null;
    upn: string | null;
    yearGroup: number | null;
    school: { id: string; name: string };
  };
  madeAt: string;
  madeBy: FilePerson;
  /** Whose view of the records the file holds. */
  asSeenBy: FilePerson;
  /** The same sentence in every file, whatever it holds. */
  note: string;
  /** Concerns (with their actions and documents) and the child's own documents, oldest first. */
  entries: FileEntry[];
}

/** Who made the file, when, and whose view it holds (the caller's own, for a download). */
export interface FileMaking {
  at: string;
  by: FilePerson;
  asSeenBy: FilePerson;
}

/** The note printed on every file: the same words whether or not anything was left out. */
export function fileNote(asSeenBy: string): string {
  return `This file holds the records ${asSeenBy} may read, as they stood when it was made. It is confidential safeguarding information: keep it separately from the main pupil file.`;
}

const entryId = (e: FileEntry) => (e.kind === 'concern' ? e.concern.id : e.document.id);

/** Oldest first; records of the same instant by id, so the same records always read the same. */
const chronological = (a: FileEntry, b: FileEntry) =>
  a.at.localeCompare(b.at) || entryId(a).localeCompare(entryId(b));

function presentDocument(row: DocumentsTable): FileDocument {
  return {
    id: row.id,
    name: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    addedAt: row.created_at,
  };
}

/**
 * The child's file as `reader` reads it, read through `db` (pass one transaction, so every part
 * comes from the same moment); undefined when the reader does not see the child.
 */
export async function assembleSafeguardingFile(
  db: Kysely<DB>,
  t: AccessTime,
  reader: Reader,
  studentId: string,
  making: FileMaking,
): Promise<SafeguardingFile | undefined> {
  const who = asCaller(reader);
  const child = await db
    .selectFrom('students as s')
    .innerJoin('schools as sc', 'sc.id', 's.school_id')
    .select([
      's.id',
      's.given_name',
      's.family_name',
      's.preferred_name',
      's.date_of_birth',
      's.upn',
      's.year_group',
      'sc.id as school_id',
      'sc.name as school_name',
    ])
    .where('s.id', '=', studentId)
    .where((eb) => seesStudent(db, eb as never, t, who))
    .executeTakeFirst();
  if (!child) return undefined;

  const aboutChild = db
    .selectFrom('incident_students as f')
    .select('f.incident_id')
    .where('f.student_id', '=', studentId);
  const incidents = await db
    .selectFrom('incidents as i')
    .innerJoin('categories as c', 'c.id', 'i.category_id')
    .innerJoin('users as r', 'r.id', 'i.reporter_id')
    .select([
      'i.id',
      'i.sensitivity',
      'i.occurred_at',
      'i.created_at',
      'i.location',
      'i.description',
      'i.status',
      'i.revision',
      'c.name as category_name',
      'r.name as reporter_name',
    ])
    .where('i.id', 'in', aboutChild)
    .where((eb) => incidentReadable(db, eb, t, who))
    .orderBy('i.occurred_at')
    .orderBy('i.id')
    .execute();

  const actions = await db
    .selectFrom('actions as a')
    .innerJoin('incidents as i', 'i.id', 'a.incident_id')
    .leftJoin('users as cu', 'cu.id', 'a.completed_by')
    .select([
      'a.id',
      'a.incident_id',
      'a.title',
      'a.created_at',
      'a.due_at',
      'a.completed_at',
      'cu.name as completed_by_name',
    ])
    .where('a.incident_id', 'in', aboutChild)
    .where((eb) => actionReadable(db, eb, t, who))
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();

  const documents = await db
    .selectFrom('documents as d')
    .selectAll('d')
    .where((eb) =>
      eb.or([eb('d.student_id', '=', studentId), eb('d.incident_id', 'in', aboutChild)]),
    )
    .where((eb) => documentReadable(db, eb, t, who))
    .orderBy('d.created_at')
    .orderBy('d.id')
    .execute();

  const entries: FileEntry[] = [];
  for (const i of incidents) {
    const readable = await readableRevisions(db, t, reader, i.id);
    const revisions = (await presentRevisions(db, t, reader, i.id, readable))
      .flatMap((r) =>
        r.withheld
          ? []
          : [
              {
                revision: r.revision,
                replacedAt: r.replacedAt,
                replacedBy: r.replacedBy?.name ?? null,
                category: r.incident.category.name,
                sensitivity: r.incident.category.sensitivity,
                occurredAt: r.incident.occurredAt,
                location: r.incident.location,
                description: r.incident.description,
                status: r.incident.status,
              },
            ],
      )
      .sort((a, b) => a.revision - b.revision);
    entries.push({
      kind: 'concern',
      at: i.occurred_at,
      concern: {
        id: i.id,
        category: i.category_name,
        sensitivity: i.sensitivity,
        occurredAt: i.occurred_at,
        recordedAt: i.created_at,
        reporter: i.reporter_name,
        location: i.location,
        description: i.description,
        status: i.status,
        revision: Number(i.revision),
        revisions,
        actions: actions
          .filter((a) => a.incident_id === i.id)
          .map((a) => ({
            id: a.id,
            title: a.title,
            createdAt: a.created_at,
            dueAt: a.due_at,
            completedAt: a.completed_at,
            completedBy: a.completed_at ? (a.completed_by_name ?? null) : null,
          })),
        documents: documents.filter((d) => d.incident_id === i.id).map(presentDocument),
      },
    });
  }
  for (const d of documents)
    if (d.student_id === studentId && d.incident_id === null)
      entries.push({ kind: 'document', at: d.created_at, document: presentDocument(d) });
  entries.sort(chronological);

  return {
    child: {
      id: child.id,
      name: `${child.preferred_name ?? child.given_name} ${child.family_name}`,
      givenName: child.given_name,
      familyName: child.family_name,
      preferredName: child.preferred_name,
      dateOfBirth: child.date_of_birth,
      upn: child.upn,
      yearGroup: child.year_group === null ? null : Number(child.year_group),
      school: { id: child.school_id, name: child.school_name },
    },
    madeAt: making.at,
    madeBy: making.by,
    asSeenBy: making.asSeenBy,
    note: fileNote(making.asSeenBy.name),
    entries,
  };
}
