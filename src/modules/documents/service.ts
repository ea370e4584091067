import type { Kysely } from 'kysely';
import { requirePermission, viewerOf } from '../../access/decide.ts';
import { incidentVisibleTo } from '../../access/records.ts';
import { studentVisibleTo } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB, DocumentsTable } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { logRead } from '../audit/access-log.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { type Caller, type IncidentService, mfaRequired } from '../incidents/service.ts';
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
}

function present(row: DocumentsTable): DocumentView {
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    uploadedBy: row.uploaded_by,
    createdAt: row.created_at,
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

  /** The record's school if the caller may see it (404 otherwise; 403 `mfa_required` for sensitive incidents). */
  async #visibleOwner(db: Kysely<DB>, caller: Caller, owner: DocumentOwner): Promise<string> {
    const t = { organisationId: caller.principal.organisationId };
    if (owner.type === 'student') {
      const row = await db
        .selectFrom('students as s')
        .select('s.school_id')
        .where('s.id', '=', owner.id)
        .where((eb) => studentVisibleTo(db, eb, t, viewerOf(caller.principal)))
        .executeTakeFirst();
      if (!row) throw notFound('Student');
      return row.school_id;
    }
    const query = async (viewer: Awaited<ReturnType<IncidentService['viewer']>>) =>
      db
        .selectFrom('incidents as i')
        .select('i.school_id')
        .where('i.id', '=', owner.id)
        .where((eb) => incidentVisibleTo(db, eb, t, viewer))
        .executeTakeFirst();
    const row = await query(await this.incidents.viewer(caller, 'actual', db));
    if (row) return row.school_id;
    if (await query(await this.incidents.viewer(caller, 'assume', db))) throw mfaRequired();
    throw notFound('Incident');
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
      const view = present(row);
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
    await this.#visibleOwner(this.database.db, caller, owner);
    const rows = await this.database.db
      .selectFrom('documents')
      .selectAll()
      .where(owner.type === 'incident' ? 'incident_id' : 'student_id', '=', owner.id)
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .execute();
    return { items: rows.map(present) };
  }

  async #find(documentId: string, organisationId: string) {
    const row = await this.database.db
      .selectFrom('documents')
      .selectAll()
      .where('id', '=', documentId)
      .where('organisation_id', '=', organisationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw notFound('Document');
    return row;
  }

  #ownerOf(row: DocumentsTable): DocumentOwner {
    return row.incident_id
      ? { type: 'incident', id: row.incident_id }
      : { type: 'student', id: row.student_id! };
  }

  /** The document's bytes, with the visibility of its record; every download is in the access log. */
  async download(caller: Caller, documentId: string, origin: ChangeOrigin) {
    const entry = { action: 'document.read', targetType: 'document', targetId: documentId };
    let row: DocumentsTable;
    try {
      row = await this.#find(documentId, caller.principal.organisationId);
      await this.#visibleOwner(this.database.db, caller, this.#ownerOf(row));
    } catch (error) {
      const code = (error as { code?: string }).code;
      await logRead(this.database, origin, {
        ...entry,
        outcome: code === 'mfa_required' ? 'mfa_required' : 'not_found',
      });
      throw code === 'mfa_required' ? error : notFound('Document');
    }
    const bytes = await this.store.load(row.id, row.sha256);
    await logRead(this.database, origin, {
      ...entry,
      outcome: 'allowed',
      path: this.#ownerOf(row),
    });
    return { document: present(row), bytes };
  }

  async remove(caller: Caller, documentId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const row = await this.#find(documentId, caller.principal.organisationId);
      const school = await this.#visibleOwner(change.db, caller, this.#ownerOf(row));
      requirePermission(caller.principal, 'documents.manage', { type: 'school', id: school });
      await change.db
        .updateTable('documents')
        .set({ deleted_at: change.now })
        .where('id', '=', row.id)
        .execute();
      change.record({ action: 'document.delete', targetType: 'document', targetId: row.id });
    });
  }
}
