import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Caller } from '../../access/readers.ts';
import {
  requireSendsWholeFile,
  requireTransferAction,
  sendsTransfersSomewhere,
  transfersListed,
} from '../../access/transfers.ts';
import type { AccessTime } from '../../access/visibility.ts';
import type { Database } from '../../db/database.ts';
import type { DB, Sensitivity, TransfersTable } from '../../db/tables.ts';
import { conflict, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { insertAction } from '../actions/service.ts';
import { type Change, type ChangeOrigin, runChange, runRead } from '../audit/change.ts';
import type { EncryptedDocumentStore } from '../documents/storage.ts';
import {
  type IncidentService,
  insertIncidentRecord,
  moveIncidentRecords,
} from '../incidents/service.ts';
import {
  assembleSafeguardingFile,
  type FileDocument,
  type SafeguardingFile,
} from '../safeguarding-file/document.ts';
import { renderFilePdf } from '../safeguarding-file/render-pdf.ts';
import {
  endStudentGroupMemberships,
  recountStudentGroup,
  syncStudentsIntoGroups,
} from '../student-groups/membership.ts';
import { insertStudents } from '../students/service.ts';
import { type ArchiveDocument, encryptArchive, newPassphrase } from './archive.ts';
import { holidaysOf } from './holidays.ts';
import { addSchoolDays, dayOf, TRANSFER_SCHOOL_DAYS } from './school-days.ts';

/**
 * Transfers (issue 16, item 1): a child's safeguarding file sent to another school on this
 * installation. The sender (Admin or above at the child's school, `transfers.manage`) must read
 * the whole file themselves; what travels is the file as they read it when it is sent, kept as
 * the transfer's snapshot. The receiving school's DSL (`transfers.receive`) sees the offer (the
 * child's name and date of birth, the sending school and the reason, nothing else) and accepts it:
 *  - within one organisation the child moves to the new school with their records;
 *  - to another organisation, the child is put on roll there (or matched by UPN and date of birth)
 *    and the file's concerns are written as that school's records, sensitivity kept; the child
 *    leaves the sending school.
 * The sending school's DSLs keep the snapshot, read at `GET /transfers/:id/file`.
 */

export type TransferInput =
  | { studentId: string; toSchoolId: string; reason: string }
  | { studentId: string; external: { schoolName: string; contact: string }; reason: string };

export interface ReceiptInput {
  receivedBy: string;
  receivedOn: string;
  note?: string | undefined;
}

export interface TransferOut {
  id: string;
  kind: TransfersTable['kind'];
  status: TransfersTable['status'];
  child: { id: string; name: string };
  fromSchool: { id: string; name: string };
  toSchool: { id: string; name: string } | null;
  external: { schoolName: string; contact: string | null } | null;
  reason: string;
  dueOn: string;
  sentAt: string;
  sentBy: { id: string; name: string };
  receivedAt: string | null;
  receivedBy: string | null;
  /** An external transfer's receipt as the sender recorded it by hand. */
  receipt: { confirmedBy: string; confirmedOn: string; note: string | null } | null;
  overdue: boolean;
}

/** What a receiving school sees of an offer: nothing of the child's records. */
export interface TransferIn {
  id: string;
  status: TransfersTable['status'];
  child: { name: string; dateOfBirth: string | null; studentId: string | null };
  fromSchool: { name: string; organisation: string };
  toSchool: { id: string; name: string };
  reason: string;
  sentAt: string;
  dueOn: string;
  receivedAt: string | null;
}

const today = () => dayOf(new Date().toISOString());

export class TransferService {
  constructor(
    private readonly database: Database,
    private readonly incidents: IncidentService,
    private readonly documents: EncryptedDocumentStore,
  ) {}

  async send(
    caller: Caller,
    input: TransferInput,
    origin: ChangeOrigin,
  ): Promise<{ id: string; status: 'sent'; passphrase?: string }> {
    const { principal } = caller;
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      const t: AccessTime = { organisationId: principal.organisationId };
      const student = await db
        .selectFrom('students')
        .select(['id', 'school_id', 'deleted_at'])
        .where('id', '=', input.studentId)
        .where('organisation_id', '=', principal.organisationId)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (!student) throw notFound('Student');
      const reader = await this.incidents.reader(caller, 'actual', db);
      const me = await db
        .selectFrom('users')
        .select(['id', 'name'])
        .where('id', '=', principal.userId)
        .executeTakeFirstOrThrow();
      const file = await assembleSafeguardingFile(db, t, reader, student.id, {
        at: change.now,
        by: me,
        asSeenBy: me,
      });
      if (!file) throw notFound('Student');
      // The whole file travels or nothing does: a record the sender cannot read stops it.
      await requireSendsWholeFile(db, t, principal, reader, {
        id: student.id,
        schoolId: student.school_id,
      });
      // The destination may be a school of any organisation on this installation.
      const to =
        'toSchoolId' in input
          ? await db
              .selectFrom('schools')
              .select(['id', 'organisation_id'])
              .where('id', '=', input.toSchoolId)
              .executeTakeFirst()
          : null;
      if ('toSchoolId' in input) {
        if (!to) throw invalidField('toSchoolId', 'no such school');
        if (to.id === student.school_id)
          throw invalidField('toSchoolId', 'the child is already at this school');
      }
      const external = 'external' in input ? input.external : null;
      const passphrase = external ? newPassphrase() : undefined;
      const pending = await db
        .selectFrom('transfers')
        .select('id')
        .where('student_id', '=', student.id)
        .where('status', '=', 'sent')
        .executeTakeFirst();
      if (pending)
        throw conflict('A transfer of this child is waiting for receipt', 'transfer_pending');
      const holidays = await holidaysOf(db, principal.organisationId, student.school_id);
      const row: TransfersTable = {
        id: newId(),
        organisation_id: principal.organisationId,
        student_id: student.id,
        from_school_id: student.school_id,
        kind: !to
          ? 'external'
          : to.organisation_id === principal.organisationId
            ? 'organisation'
            : 'installation',
        to_school_id: to?.id ?? null,
        to_organisation_id: to?.organisation_id ?? null,
        external_school_name: external?.schoolName ?? null,
        external_contact: external?.contact ?? null,
        reason: input.reason,
        status: 'sent',
        due_on: addSchoolDays(dayOf(change.now), TRANSFER_SCHOOL_DAYS, holidays),
        sent_by: principal.userId,
        sent_at: change.now,
        received_by: null,
        received_at: null,
        receipt_confirmed_by: null,
        receipt_confirmed_on: null,
        receipt_note: null,
        cancelled_by: null,
        cancelled_at: null,
        snapshot: JSON.stringify(file),
        received_student_id: null,
        overdue_alerted_at: null,
        archive: passphrase
          ? await this.#archive(db, principal.organisationId, file, passphrase)
          : null,
      };
      await db.insertInto('transfers').values(row).execute();
      change.record({
        action: 'transfer.send',
        targetType: 'student',
        targetId: student.id,
        after: {
          transferId: row.id,
          kind: row.kind,
          toSchoolId: row.to_school_id,
          toOrganisationId: row.to_organisation_id,
          dueOn: row.due_on,
        },
      });
      return { id: row.id, status: 'sent' as const, ...(passphrase ? { passphrase } : {}) };
    });
  }

  /** The external transfer's archive: the file, its PDF and the documents' bytes, encrypted. */
  async #archive(
    db: Kysely<DB>,
    organisationId: string,
    file: SafeguardingFile,
    passphrase: string,
  ): Promise<Buffer> {
    const listed = file.entries.flatMap((e) =>
      e.kind === 'document' ? [e.document] : e.concern.documents,
    );
    const rows =
      listed.length === 0
        ? []
        : await db
            .selectFrom('documents')
            .select(['id', 'sha256'])
            .where('organisation_id', '=', organisationId)
            .where(
              'id',
              'in',
              listed.map((d) => d.id),
            )
            .execute();
    const hashes = new Map(rows.map((r) => [r.id, r.sha256]));
    const documents: ArchiveDocument[] = [];
    for (const d of listed) {
      const sha256 = hashes.get(d.id);
      if (!sha256) continue;
      const bytes = await this.documents.load(d.id, sha256);
      documents.push({
        id: d.id,
        name: d.name,
        contentType: d.contentType,
        sha256,
        content: bytes.toString('base64'),
      });
    }
    const pdf = await renderFilePdf(file);
    return encryptArchive(passphrase, {
      format: 'haven-transfer-archive/1',
      file,
      pdf: pdf.toString('base64'),
      documents,
    });
  }

  /**
   * A transfer sent from one of the caller's schools, for `action` (`src/access/transfers.ts`):
   * 404 for any other, 403 for an action their role there does not allow.
   */
  async #own(
    db: Kysely<DB>,
    caller: Caller,
    transferId: string,
    action: 'manage' | 'read_copy' = 'manage',
  ) {
    const { principal } = caller;
    const x = await db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', transferId)
      .where('organisation_id', '=', principal.organisationId)
      .executeTakeFirst();
    requireTransferAction(principal, x, action);
    return x;
  }

  /** The sender records by hand that a school not on Haven confirmed receipt. */
  async receipt(
    caller: Caller,
    transferId: string,
    input: ReceiptInput,
    origin: ChangeOrigin,
  ): Promise<{ id: string; status: 'received' }> {
    return runChange(this.database, origin, async (change) => {
      const x = await this.#own(change.db, caller, transferId);
      if (x.kind !== 'external')
        throw conflict('The receiving school accepts it on Haven', 'transfer_not_external');
      if (x.status !== 'sent') throw conflict(`The transfer is ${x.status}`, 'transfer_closed');
      await change.db
        .updateTable('transfers')
        .set({
          status: 'received',
          received_by: caller.principal.userId,
          received_at: change.now,
          receipt_confirmed_by: input.receivedBy,
          receipt_confirmed_on: input.receivedOn,
          receipt_note: input.note ?? null,
        })
        .where('id', '=', x.id)
        .execute();
      change.record({
        action: 'transfer.receipt',
        targetType: 'transfer',
        targetId: x.id,
        after: { receivedOn: input.receivedOn },
      });
      return { id: x.id, status: 'received' as const };
    });
  }

  /** A transfer not yet received is withdrawn: the offer disappears from the receiver's list. */
  async cancel(
    caller: Caller,
    transferId: string,
    origin: ChangeOrigin,
  ): Promise<{ id: string; status: 'cancelled' }> {
    return runChange(this.database, origin, async (change) => {
      const x = await this.#own(change.db, caller, transferId);
      if (x.status !== 'sent') throw conflict(`The transfer is ${x.status}`, 'transfer_closed');
      // Still sent as it is closed: an acceptance in the receiving organisation (under its own
      // audit lock) may have landed since it was read; then this refuses and changes nothing.
      const closed = await change.db
        .updateTable('transfers')
        .set({
          status: 'cancelled',
          cancelled_by: caller.principal.userId,
          cancelled_at: change.now,
        })
        .where('id', '=', x.id)
        .where('status', '=', 'sent')
        .executeTakeFirst();
      if (Number(closed.numUpdatedRows) !== 1)
        throw conflict('The transfer was received meanwhile', 'transfer_closed');
      change.record({ action: 'transfer.cancel', targetType: 'transfer', targetId: x.id });
      return { id: x.id, status: 'cancelled' as const };
    });
  }

  /**
   * A download of an external transfer: the encrypted archive (Admin or above at the sending
   * school, who sent it) or the printable PDF of the snapshot (its DSLs, as for the copy). Each
   * download is written to the access log in the same transaction.
   */
  async download(
    caller: Caller,
    transferId: string,
    what: 'archive' | 'pdf',
    origin: ChangeOrigin,
  ): Promise<{ bytes: Buffer; madeAt: string }> {
    return runRead(this.database, origin, async (change) => {
      const x = await this.#own(
        change.db,
        caller,
        transferId,
        what === 'archive' ? 'manage' : 'read_copy',
      );
      let bytes: Buffer;
      if (what === 'archive') {
        if (!x.archive) throw notFound('Archive');
        bytes = Buffer.from(x.archive);
      } else {
        bytes = await renderFilePdf(JSON.parse(x.snapshot) as SafeguardingFile);
      }
      change.record({
        category: 'access',
        action: 'transfer.download',
        targetType: 'transfer',
        targetId: x.id,
        after: { what },
      });
      return { bytes, madeAt: x.sent_at };
    });
  }

  /**
   * The schools of the caller's organisation a file may be sent to. Another organisation's schools
   * are never listed (nothing of one organisation is shown to another): the receiving school gives
   * the sender its school id, which `POST /transfers` takes.
   */
  async destinations(
    caller: Caller,
  ): Promise<{ id: string; name: string; organisation: string; sameOrganisation: boolean }[]> {
    if (!sendsTransfersSomewhere(caller.principal)) return [];
    const rows = await this.database.db
      .selectFrom('schools as sc')
      .innerJoin('organisations as o', 'o.id', 'sc.organisation_id')
      .select(['sc.id', 'sc.name', 'o.name as organisation', 'o.id as organisation_id'])
      .where('sc.organisation_id', '=', caller.principal.organisationId)
      .orderBy('o.name')
      .orderBy('sc.name')
      .orderBy('sc.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      organisation: r.organisation,
      sameOrganisation: r.organisation_id === caller.principal.organisationId,
    }));
  }

  async listOut(caller: Caller): Promise<TransferOut[]> {
    const rows = await this.database.db
      .selectFrom('transfers as x')
      .innerJoin('students as s', 's.id', 'x.student_id')
      .innerJoin('schools as fs', 'fs.id', 'x.from_school_id')
      .leftJoin('schools as ts', 'ts.id', 'x.to_school_id')
      .innerJoin('users as sb', 'sb.id', 'x.sent_by')
      .leftJoin('users as rb', 'rb.id', 'x.received_by')
      .select([
        'x.id',
        'x.kind',
        'x.status',
        'x.student_id',
        's.given_name',
        's.family_name',
        'x.from_school_id',
        'fs.name as from_school_name',
        'x.to_school_id',
        'ts.name as to_school_name',
        'x.external_school_name',
        'x.external_contact',
        'x.reason',
        'x.due_on',
        'x.sent_at',
        'x.sent_by',
        'sb.name as sent_by_name',
        'x.received_at',
        'rb.name as received_by_name',
        'x.receipt_confirmed_by',
        'x.receipt_confirmed_on',
        'x.receipt_note',
      ])
      .where((eb) => transfersListed(eb, caller.principal, 'out'))
      .orderBy('x.sent_at', 'desc')
      .orderBy('x.id')
      .execute();
    const now = today();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      status: r.status,
      child: { id: r.student_id, name: `${r.given_name} ${r.family_name}` },
      fromSchool: { id: r.from_school_id, name: r.from_school_name },
      toSchool:
        r.to_school_id && r.to_school_name ? { id: r.to_school_id, name: r.to_school_name } : null,
      external: r.external_school_name
        ? { schoolName: r.external_school_name, contact: r.external_contact }
        : null,
      reason: r.reason,
      dueOn: r.due_on,
      sentAt: r.sent_at,
      sentBy: { id: r.sent_by, name: r.sent_by_name },
      receivedAt: r.received_at,
      receivedBy: r.receipt_confirmed_by ?? r.received_by_name,
      receipt:
        r.receipt_confirmed_by && r.receipt_confirmed_on
          ? {
              confirmedBy: r.receipt_confirmed_by,
              confirmedOn: r.receipt_confirmed_on,
              note: r.receipt_note,
            }
          : null,
      overdue: r.status === 'sent' && r.due_on < now,
    }));
  }

  async listIn(caller: Caller): Promise<TransferIn[]> {
    const rows = await this.database.db
      .selectFrom('transfers as x')
      .innerJoin('students as s', 's.id', 'x.student_id')
      .innerJoin('schools as fs', 'fs.id', 'x.from_school_id')
      .innerJoin('organisations as fo', 'fo.id', 'x.organisation_id')
      .innerJoin('schools as ts', 'ts.id', 'x.to_school_id')
      .select([
        'x.id',
        'x.status',
        's.given_name',
        's.family_name',
        's.date_of_birth',
        'x.received_student_id',
        'fs.name as from_school_name',
        'fo.name as from_organisation_name',
        'x.to_school_id',
        'ts.name as to_school_name',
        'x.reason',
        'x.sent_at',
        'x.due_on',
        'x.received_at',
      ])
      .where((eb) => transfersListed(eb, caller.principal, 'in'))
      .orderBy('x.sent_at', 'desc')
      .orderBy('x.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      status: r.status,
      child: {
        name: `${r.given_name} ${r.family_name}`,
        dateOfBirth: r.date_of_birth,
        studentId: r.received_student_id,
      },
      fromSchool: { name: r.from_school_name, organisation: r.from_organisation_name },
      toSchool: { id: r.to_school_id ?? '', name: r.to_school_name },
      reason: r.reason,
      sentAt: r.sent_at,
      dueOn: r.due_on,
      receivedAt: r.received_at,
    }));
  }

  /** The receiving DSL accepts: the receipt is recorded and the file lands at their school. */
  async accept(
    caller: Caller,
    transferId: string,
    origin: ChangeOrigin,
  ): Promise<{ id: string; status: 'received'; studentId: string }> {
    const { principal } = caller;
    return runChange(this.database, origin, async (change) => {
      const db = change.db;
      const x = await db
        .selectFrom('transfers')
        .selectAll()
        .where('id', '=', transferId)
        .where('to_organisation_id', '=', principal.organisationId)
        .executeTakeFirst();
      // An offer the caller is not shown (another school's, or withdrawn) is unseen: 404.
      requireTransferAction(principal, x, 'accept');
      if (x.status !== 'sent')
        throw conflict('The transfer was already received', 'transfer_received');
      const file = JSON.parse(x.snapshot) as SafeguardingFile;
      let studentId: string;
      let keptAtOldSchool: number | undefined;
      if (x.kind === 'organisation') {
        const moved = await this.#move(change, x);
        studentId = moved.studentId;
        keptAtOldSchool = moved.kept;
      } else studentId = await this.#land(change, x, file);
      // Still sent as it is received: a cancellation in the sending organisation (under its own
      // audit lock) may have landed meanwhile; then nothing of the file stays (the change rolls back).
      const received = await db
        .updateTable('transfers')
        .set({
          status: 'received',
          received_by: principal.userId,
          received_at: change.now,
          received_student_id: studentId,
        })
        .where('id', '=', x.id)
        .where('status', '=', 'sent')
        .executeTakeFirst();
      if (Number(received.numUpdatedRows) !== 1)
        throw conflict('The transfer was cancelled meanwhile', 'transfer_closed');
      change.record({
        action: 'transfer.accept',
        targetType: 'transfer',
        targetId: x.id,
        after: {
          kind: x.kind,
          fromOrganisationId: x.organisation_id,
          toSchoolId: x.to_school_id,
          studentId,
          concerns: file.entries.filter((e) => e.kind === 'concern').length,
          // Concerns that also name a child still at the old school stay there.
          ...(keptAtOldSchool !== undefined ? { keptAtOldSchool } : {}),
        },
      });
      return { id: x.id, status: 'received' as const, studentId };
    });
  }

  /**
   * Within one organisation the child moves to the new school, and with them:
   *  - each concern about them recorded at the old school, unless it also names another live child
   *    who is still at the old school: that concern stays there, managed by the school of the
   *    child it is also about (the new school still reads it through the moving child, as
   *    clearances hold across the organisation);
   *  - their group memberships: the old school's manual groups let them go (the membership is
   *    closed, so its history stays), its automatic groups let them go and the new school's take
   *    them in (`syncStudentsIntoGroups` follows the school change); the organisation's own groups
   *    (no school) keep them, rule groups as their rule says.
   */
  async #move(change: Change, x: TransfersTable): Promise<{ studentId: string; kept: number }> {
    const { db, now } = change;
    const toSchool = x.to_school_id as string;
    const atOldSchool = db
      .selectFrom('incidents as i')
      .innerJoin('incident_students as f', 'f.incident_id', 'i.id')
      .select('i.id')
      .where('f.student_id', '=', x.student_id)
      .where('i.organisation_id', '=', x.organisation_id)
      .where('i.school_id', '=', x.from_school_id);
    // Another live child named on the concern is still at the old school.
    const staying = (eb: ExpressionBuilder<DB & { i: DB['incidents'] }, 'i'>) =>
      eb.exists(
        eb
          .selectFrom('incident_students as o')
          .innerJoin('students as s', 's.id', 'o.student_id')
          .select('o.student_id')
          .whereRef('o.incident_id', '=', 'i.id')
          .where('o.student_id', '!=', x.student_id)
          .where('s.school_id', '=', x.from_school_id)
          .where('s.deleted_at', 'is', null),
      );
    const moving = await atOldSchool.where((eb) => eb.not(staying(eb))).execute();
    const kept = await atOldSchool.where(staying).execute();
    await moveIncidentRecords(
      change,
      x.organisation_id,
      moving.map((m) => m.id),
      toSchool,
      { transferId: x.id },
    );
    await db
      .updateTable('students')
      .set((eb) => ({ school_id: toSchool, updated_at: now, revision: eb('revision', '+', 1) }))
      .where('id', '=', x.student_id)
      .execute();
    const manual = await db
      .selectFrom('student_group_members as c')
      .innerJoin('student_groups as g', 'g.id', 'c.student_group_id')
      .select('g.id')
      .where('c.student_id', '=', x.student_id)
      .where('c.valid_to', 'is', null)
      .where('g.kind', '=', 'manual')
      .where('g.school_id', '=', x.from_school_id)
      .execute();
    for (const { id } of manual) {
      await endStudentGroupMemberships(change, id, (eb) => eb('student_id', '=', x.student_id));
      await recountStudentGroup(change, id);
    }
    await syncStudentsIntoGroups(change, x.organisation_id, [x.student_id]);
    return { studentId: x.student_id, kept: kept.length };
  }

  /**
   * To another organisation: the child is put on roll at the receiving school (or matched there by
   * UPN and date of birth), each concern of the file becomes a record of that school with its
   * sensitivity, and the child leaves the sending school (soft-deleted there, so its staff no
   * longer read the child's records; its DSLs keep the snapshot).
   */
  async #land(change: Change, x: TransfersTable, file: SafeguardingFile): Promise<string> {
    const db = change.db;
    const orgId = x.to_organisation_id as string;
    const toSchool = x.to_school_id as string;
    const userId = change.origin.userId as string;
    const child = file.child;
    let studentId: string | undefined;
    if (child.upn && child.dateOfBirth) {
      const match = await db
        .selectFrom('students')
        .select('id')
        .where('organisation_id', '=', orgId)
        .where('upn', '=', child.upn)
        .where('date_of_birth', '=', child.dateOfBirth)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      studentId = match?.id;
      if (studentId) {
        await db
          .updateTable('students')
          .set({ school_id: toSchool, on_roll: 1, updated_at: change.now })
          .where('id', '=', studentId)
          .execute();
        // Automatic groups follow the school and the roll, as after any other change of them.
        await syncStudentsIntoGroups(change, orgId, [studentId]);
      }
    }
    if (!studentId) {
      const [made] = await insertStudents(change, orgId, [
        {
          schoolId: toSchool,
          upn: child.upn,
          givenName: child.givenName,
          familyName: child.familyName,
          preferredName: child.preferredName,
          dateOfBirth: child.dateOfBirth,
          yearGroup: child.yearGroup,
          house: null,
          senStatus: 'none',
          flags: [],
          tags: [],
          onRoll: true,
        },
      ]);
      studentId = (made as { id: string }).id;
    }
    const categories = new Map<string, string>();
    for (const entry of file.entries) {
      if (entry.kind !== 'concern') continue;
      const c = entry.concern;
      const categoryId = await this.#category(
        change,
        categories,
        orgId,
        toSchool,
        c.category,
        c.sensitivity,
      );
      const incidentId = newId();
      await insertIncidentRecord(
        change,
        {
          id: incidentId,
          organisation_id: orgId,
          school_id: toSchool,
          category_id: categoryId,
          sensitivity: c.sensitivity,
          occurred_at: c.occurredAt,
          location: c.location,
          description: transferredAccount(file, c),
          status: c.status,
          reporter_id: userId,
          subject_user_id: null,
          unlisted_child: null,
          revision: 1,
          created_at: change.now,
          updated_at: change.now,
          deleted_at: null,
        },
        [studentId],
      );
      await this.#copyDocuments(change, orgId, { incidentId }, c.documents);
      for (const a of c.actions)
        await insertAction(change, {
          id: newId(),
          organisation_id: orgId,
          incident_id: incidentId,
          title: a.title,
          due_at: a.dueAt,
          assignee_type: 'user',
          assignee_id: userId,
          created_by: userId,
          created_at: a.createdAt,
          updated_at: change.now,
          completed_at: a.completedAt,
          completed_by: null,
          deleted_at: null,
        });
    }
    const own = file.entries.flatMap((e) => (e.kind === 'document' ? [e.document] : []));
    await this.#copyDocuments(change, orgId, { studentId }, own);
    await db
      .updateTable('students')
      .set({ on_roll: 0, deleted_at: change.now, updated_at: change.now })
      .where('id', '=', x.student_id)
      .where('organisation_id', '=', x.organisation_id)
      .execute();
    const groups = await db
      .selectFrom('student_group_members')
      .select('student_group_id')
      .where('student_id', '=', x.student_id)
      .where('valid_to', 'is', null)
      .execute();
    for (const { student_group_id } of groups) {
      await endStudentGroupMemberships(change, student_group_id, (eb) =>
        eb('student_id', '=', x.student_id),
      );
      await recountStudentGroup(change, student_group_id);
    }
    return studentId;
  }

  /**
   * The documents the snapshot lists travel with the file: each is read from the sending school's
   * store (checked against the hash its row holds) and saved again under a new id for the
   * receiving organisation. One the sender has deleted or destroyed since the offer is not copied
   * (its name stays in the concern's opening lines); the bytes are saved inside the change, so a
   * failed acceptance leaves no row naming them.
   */
  async #copyDocuments(
    change: Change,
    orgId: string,
    owner: { incidentId: string } | { studentId: string },
    listed: readonly FileDocument[],
  ): Promise<void> {
    if (listed.length === 0) return;
    const rows = await change.db
      .selectFrom('documents')
      .select(['id', 'filename', 'content_type', 'sha256'])
      .where(
        'id',
        'in',
        listed.map((d) => d.id),
      )
      .where('deleted_at', 'is', null)
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const d of listed) {
      const row = byId.get(d.id);
      if (!row) continue;
      const bytes = await this.documents.load(row.id, row.sha256);
      const id = newId();
      const stored = await this.documents.save(id, bytes);
      await change.db
        .insertInto('documents')
        .values({
          id,
          organisation_id: orgId,
          incident_id: 'incidentId' in owner ? owner.incidentId : null,
          student_id: 'studentId' in owner ? owner.studentId : null,
          filename: row.filename,
          content_type: row.content_type,
          size: stored.size,
          sha256: stored.sha256,
          uploaded_by: change.origin.userId ?? null,
          created_at: change.now,
          deleted_at: null,
        })
        .execute();
    }
  }

  /** The receiving school's category of the same name and sensitivity, made there if missing. */
  async #category(
    change: Change,
    cache: Map<string, string>,
    orgId: string,
    schoolId: string,
    name: string,
    sensitivity: Sensitivity,
  ): Promise<string> {
    const key = `${sensitivity}\u0000${name}`;
    const known = cache.get(key);
    if (known) return known;
    const found = await change.db
      .selectFrom('categories')
      .select('id')
      .where('organisation_id', '=', orgId)
      .where((eb) => eb.or([eb('school_id', 'is', null), eb('school_id', '=', schoolId)]))
      .where('name', '=', name)
      .where('sensitivity', '=', sensitivity)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    let id = found?.id;
    if (!id) {
      id = newId();
      await change.db
        .insertInto('categories')
        .values({
          id,
          organisation_id: orgId,
          school_id: schoolId,
          name,
          sensitivity,
          created_at: change.now,
          deleted_at: null,
        })
        .execute();
    }
    cache.set(key, id);
    return id;
  }

  /** The snapshot, for a DSL (or Owner) of the sending school: their closed, read-only copy. */
  async file(caller: Caller, transferId: string): Promise<SafeguardingFile> {
    const x = await this.#own(this.database.db, caller, transferId, 'read_copy');
    return JSON.parse(x.snapshot) as SafeguardingFile;
  }
}

/** The account as it arrives: who reported it at the sending school, then the account. */
function transferredAccount(
  file: SafeguardingFile,
  c: SafeguardingFile['entries'][number] & { kind: 'concern' } extends { concern: infer C }
    ? C
    : never,
): string {
  const documents = c.documents.map((d) => d.name).join(', ');
  return [
    `Transferred from ${file.child.school.name}; reported there by ${c.reporter} on ${c.recordedAt.slice(0, 10)}.`,
    c.description,
    ...(documents ? [`Documents sent with the file: ${documents}.`] : []),
  ].join('\n\n');
}
