import type { Kysely } from 'kysely';
import { requirePermission } from '../../access/decide.ts';
import { documentAbilities, documentReadable } from '../../access/documents.ts';
import { readIncident } from '../../access/incidents.ts';
import type { Principal } from '../../access/principal.ts';
import { asCaller, seesStudent } from '../../access/readers.ts';
import { accessPaths } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB, DocumentsTable } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { logRead } from '../audit/access-log.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import type { Caller, IncidentService } from '../incidents/service.ts';
import { checkUpload } from './content-type.ts';
import type { EncryptedDocumentStore } from './storage.ts';

export type DocumentOwner = { type: 'incident'; id: string } | { type: 'student'; id: string };

export interface DocumentView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  uploadedBy: string | null;
  createdAt: string;
  /** What the caller may do with it (`documentAbilities`). */
  abilities: { delete: boolean };
}

/** A document as it leaves the server, with the caller's abilities at its record's school. */
function present(row: DocumentsTable, principal: Principal, schoolId: string): DocumentView {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at,
    abilities: documentAbilities(principal, { school_id: schoolId }),
  };
}

/**
 * Documents on incidents and students. A document is exactly as visible as its record; the bytes
 * are stored encrypted and checked against their SHA-256 on every download.
 */
export class DocumentService {
  constructor(
    private readonly database: Database,
    private readonly store: EncryptedDocumentStore,
    private readonly incidents: IncidentService,
    private readonly maxUploadBytes: number,
  ) {}

  /** The record's school if the caller may read it (404 otherwise; 403 `mfa_required` for sensitive incidents). */
  async #visibleOwner(db: Kysely<DB>, caller: Caller, owner: DocumentOwner): Promise<string> {
    if (owner.type === 'incident')
      return (await this.incidents.readableForWork(db, caller, owner.id)).school_id;
    const t = { organisationId: caller.principal.organisationId };
    const reader = await this.incidents.reader(caller, 'actual', db);
    const row = await db
      .selectFrom('students as s')
      .select('s.school_id')
      .where('s.id', '=', owner.id)
      .where((eb) => seesStudent(db, eb, t, asCaller(reader)))
      .executeTakeFirst();
    if (!row) throw notFound('Student');
    return row.school_id;
  }

  async upload(
    caller: Caller,
    owner: DocumentOwner,
    file: { filename: string; declaredType: string | undefined; bytes: Buffer },
    origin: ChangeOrigin,
  ): Promise<DocumentView> {
    // Checked before anything is written: size, then the type the bytes really are.
    const checked = checkUpload({
      declaredType: file.declaredType,
      bytes: file.bytes,
      maxBytes: this.maxUploadBytes,
    });
    const id = newId();
    return runChange(this.database, origin, async (change) => {
      const school = await this.#visibleOwner(change.db, caller, owner);
      requirePermission(caller.principal, 'documents.manage', { type: 'school', id: school });
      // The bytes are stored inside the change: if it fails, the row is never written and the
      // orphaned ciphertext is unreadable without a row naming it (write-once ids, never reused).
      const stored = await this.store.save(id, file.bytes);
      const row: DocumentsTable = {
        id,
        organisation_id: caller.principal.organisationId,
        incident_id: owner.type === 'incident' ? owner.id : null,
        student_id: owner.type === 'student' ? owner.id : null,
        filename: file.filename,
        content_type: checked.contentType,
        size: stored.size,
        sha256: stored.sha256,
        uploaded_by: caller.principal.userId,
        created_at: change.now,
        deleted_at: null,
      };
      await change.db.insertInto('documents').values(row).execute();
      const view = present(row, caller.principal, school);
      change.record({
        action: 'document.upload',
        targetType: owner.type,
        targetId: owner.id,
        after: {
          ...view,
          ...(checked.mismatch ? { declaredType: checked.declaredType } : {}),
        },
      });
      return view;
    });
  }

  async list(caller: Caller, owner: DocumentOwner) {
    const db = this.database.db;
    const school = await this.#visibleOwner(db, caller, owner);
    const who = asCaller(await this.incidents.reader(caller));
    const rows = await db
      .selectFrom('documents as d')
      .selectAll('d')
      .where(owner.type === 'incident' ? 'd.incident_id' : 'd.student_id', '=', owner.id)
      .where((eb) =>
        documentReadable(db, eb, { organisationId: caller.principal.organisationId }, who),
      )
      .orderBy('d.created_at')
      .execute();
    return { items: rows.map((row) => present(row, caller.principal, school)) };
  }

  /** A document the caller reads, with its record's school: 404, or 403 `mfa_required`. */
  async #readable(db: Kysely<DB>, caller: Caller, documentId: string) {
    const t = { organisationId: caller.principal.organisationId };
    const { school_id, ...row } = await this.incidents.withStepUp(
      db,
      caller,
      'Document',
      (reader) =>
        db
          .selectFrom('documents as d')
          .leftJoin('incidents as di', 'di.id', 'd.incident_id')
          .leftJoin('students as ds', 'ds.id', 'd.student_id')
          .selectAll('d')
          .select((eb) => eb.fn.coalesce('di.school_id', 'ds.school_id').as('school_id'))
          .where('d.id', '=', documentId)
          .where((eb) => documentReadable(db, eb, t, asCaller(reader)))
          .executeTakeFirst(),
    );
    return { row: row as DocumentsTable, schoolId: school_id as string };
  }

  /**
   * The way in to the document's record that let the caller read it, asked of the same policy
   * (`readIncident`, or the child's access paths), for the access log.
   */
  async #wayIn(caller: Caller, row: DocumentsTable) {
    const db = this.database.db;
    const t = { organisationId: caller.principal.organisationId };
    if (row.incident_id) {
      const reader = await this.incidents.reader(caller);
      return (await readIncident(db, t, reader, row.incident_id))?.way ?? null;
    }
    const path = await db
      .selectFrom(
        accessPaths(db, t, { user: caller.principal.userId, student: row.student_id! }).as('p'),
      )
      .selectAll('p')
      .limit(1)
      .executeTakeFirst();
    return path ?? null;
  }

  #ownerOf(row: DocumentsTable): DocumentOwner {
    return row.incident_id
      ? { type: 'incident', id: row.incident_id }
      : { type: 'student', id: row.student_id! };
  }

  /** The document's bytes, with the visibility of its record; every download is in the access log. */
  async download(caller: Caller, documentId: string, origin: ChangeOrigin) {
    const entry = { action: 'document.read', targetType: 'document', targetId: documentId };
    let found: { row: DocumentsTable; schoolId: string };
    try {
      found = await this.#readable(this.database.db, caller, documentId);
    } catch (error) {
      const code = (error as { code?: string }).code;
      await logRead(this.database, origin, {
        ...entry,
        outcome: code === 'mfa_required' ? 'mfa_required' : 'not_found',
      });
      throw error;
    }
    const bytes = await this.store.load(found.row.id, found.row.sha256);
    await logRead(this.database, origin, {
      ...entry,
      outcome: 'allowed',
      path: { ...this.#ownerOf(found.row), way: await this.#wayIn(caller, found.row) },
    });
    return { document: present(found.row, caller.principal, found.schoolId), bytes };
  }

  async remove(caller: Caller, documentId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const { row, schoolId } = await this.#readable(change.db, caller, documentId);
      requirePermission(caller.principal, 'documents.manage', { type: 'school', id: schoolId });
      await change.db
        .updateTable('documents')
        .set({ deleted_at: change.now })
        .where('id', '=', row.id)
        .execute();
      change.record({ action: 'document.delete', targetType: 'document', targetId: row.id });
    });
  }
}
