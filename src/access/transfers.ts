import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB, TransfersTable } from '../db/tables.ts';
import { forbidden, notFound } from '../lib/errors.ts';
import { can, permissionDenied, schoolsWith } from './decide.ts';
import { incidentReadable } from './incidents.ts';
import type { Principal } from './principal.ts';
import { asCaller, type Reader } from './readers.ts';
import type { AccessTime } from './visibility.ts';

/**
 * Transfers of a child's safeguarding file (issue 16): who sees a transfer and what they may do
 * with it. A transfer has two sides, each decided by a role at one school:
 *  - the sending side, `transfers.manage` (Admin and above) at the school the file was sent from:
 *    lists it, records an external receipt, withdraws it and downloads the external archive; the
 *    kept copy and its PDF are the Safeguarding Team's, so they also need `transfers.receive` (DSL
 *    and above) there;
 *  - the receiving side, `transfers.receive` at the school it is offered to (of any organisation
 *    on the installation): lists the offer (never a withdrawn one) and accepts it.
 * A transfer the caller is on neither side of is unseen (404). What the offer shows, and the
 * records once they land, are not decided here: the offer's fields are fixed by the service, and
 * the records become ordinary records under their own policies.
 */

/** The permission each side of a transfer needs, at that side's school (routes declare these). */
export const transferPermissions = {
  send: 'transfers.manage',
  receive: 'transfers.receive',
} as const;

/** What the caller asks to do with one transfer. */
export type TransferAction =
  /** See it in the sender's list; withdraw it, record a receipt by hand, download its archive. */
  | 'manage'
  /** Read the file as it was sent (the sending school's closed copy, as JSON or PDF). */
  | 'read_copy'
  /** Accept the offer at the receiving school. */
  | 'accept';

export type TransferSides = Pick<
  TransfersTable,
  'organisation_id' | 'from_school_id' | 'to_organisation_id' | 'to_school_id' | 'status'
>;

const atSchool = (id: string) => ({ type: 'school' as const, id });

/**
 * May the caller do this with the transfer: `allowed`, `unseen` (answer 404, as for a transfer that
 * does not exist) or `refused` (403: they see it, but not this action).
 */
export function transferDecision(
  principal: Principal,
  x: TransferSides,
  action: TransferAction,
): 'allowed' | 'unseen' | 'refused' {
  if (action === 'accept') {
    const offered =
      x.to_organisation_id === principal.organisationId &&
      x.to_school_id !== null &&
      x.status !== 'cancelled' &&
      can(principal, transferPermissions.receive, atSchool(x.to_school_id));
    return offered ? 'allowed' : 'unseen';
  }
  const sender =
    x.organisation_id === principal.organisationId &&
    can(principal, transferPermissions.send, atSchool(x.from_school_id));
  if (!sender) return 'unseen';
  if (
    action === 'read_copy' &&
    !can(principal, transferPermissions.receive, atSchool(x.from_school_id))
  )
    return 'refused';
  return 'allowed';
}

/** `transferDecision`, thrown: 404 `Transfer`, or 403 naming the permission the action needs. */
export function requireTransferAction<T extends TransferSides>(
  principal: Principal,
  x: T | undefined,
  action: TransferAction,
): asserts x is T {
  const decision = x ? transferDecision(principal, x, action) : 'unseen';
  if (decision === 'unseen') throw notFound('Transfer');
  if (decision === 'refused') throw permissionDenied(transferPermissions.receive);
}

/**
 * The transfers a list shows, as a condition on `transfers as x`: `out`, those sent from a school
 * where the caller manages transfers; `in`, those offered to a school where the caller receives
 * them, withdrawn ones left out. The same sides as `transferDecision`.
 */
export function transfersListed(
  // biome-ignore lint/suspicious/noExplicitAny: a condition on `transfers as x` inside any query over it
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
  direction: 'in' | 'out',
): Expression<SqlBool> {
  const organisation = principal.organisationId;
  if (direction === 'out') {
    const schools = schoolsWith(principal, transferPermissions.send);
    if (schools !== 'all' && schools.length === 0) return sql<SqlBool>`1 = 0`;
    return eb.and([
      eb('x.organisation_id', '=', organisation),
      ...(schools === 'all' ? [] : [eb('x.from_school_id', 'in', schools)]),
    ]);
  }
  const schools = schoolsWith(principal, transferPermissions.receive);
  if (schools !== 'all' && schools.length === 0) return sql<SqlBool>`1 = 0`;
  return eb.and([
    eb('x.to_organisation_id', '=', organisation),
    eb('x.status', '!=', 'cancelled'),
    schools === 'all' ? eb('x.to_school_id', 'is not', null) : eb('x.to_school_id', 'in', schools),
  ]);
}

/** The caller sends files from some school (else there is nowhere to list as a destination). */
export function sendsTransfersSomewhere(principal: Principal): boolean {
  const schools = schoolsWith(principal, transferPermissions.send);
  return schools === 'all' || schools.length > 0;
}

/**
 * Sending a child's file from their school: `transfers.manage` there (403), and the sender reads
 * every live concern about the child themselves, a step-up included (403 `file_not_whole`): the
 * whole file travels or nothing does, so what travels is never more than the sender may read.
 */
export async function requireSendsWholeFile(
  db: Kysely<DB>,
  t: AccessTime,
  principal: Principal,
  reader: Reader,
  student: { id: string; schoolId: string },
): Promise<void> {
  if (!can(principal, transferPermissions.send, atSchool(student.schoolId)))
    throw permissionDenied(transferPermissions.send);
  const unread = await db
    .selectFrom('incidents as i')
    .innerJoin('incident_students as f', 'f.incident_id', 'i.id')
    .select('i.id')
    .where('f.student_id', '=', student.id)
    .where('i.deleted_at', 'is', null)
    .where('i.destroyed_at', 'is', null)
    .where((eb) => eb.not(incidentReadable(db, eb, t, asCaller(reader))))
    .limit(1)
    .executeTakeFirst();
  if (unread)
    throw forbidden(
      "Only someone who reads the child's whole file (the DSL) may send it; sign in again with two-factor if the school asks for it",
      { code: 'file_not_whole' },
    );
}
