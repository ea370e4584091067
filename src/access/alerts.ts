import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DB } from '../db/tables.ts';
import { namesUser } from './actions.ts';
import { incidentReadable } from './incidents.ts';
import { type ReaderRef, userOf } from './readers.ts';
import type { AccessTime } from './visibility.ts';

export const alertRecipient = { type: 'al.recipient_type', id: 'al.recipient_id' } as const;

/**
 * An alert reaches its recipient (the user, or every member of the group it names) only while
 * they may read its record (spec section 4: nobody is told about a record they could not read),
 * as a condition on `alerts as al` left-joined to `incidents as i` and to `actions as a`. A
 * security alert (or an access review's reminder) is about the organisation, not a record: it
 * reaches the user it names.
 */
export function alertReadable(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over alerts
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  who: ReaderRef,
): Expression<SqlBool> {
  return eb.and([
    eb('al.organisation_id', '=', t.organisationId),
    namesUser(db, eb, t, alertRecipient, userOf(who)),
    eb.or([
      // A security alert, an access review's reminder or an overdue transfer's alert is about
      // the organisation (or a transfer), not a record.
      eb.and([
        eb('al.kind', 'in', ['security', 'access_review', 'transfer_overdue']),
        eb('al.incident_id', 'is', null),
      ]),
      eb.and([
        incidentReadable(db, eb, t, who),
        eb.or([eb('al.action_id', 'is', null), eb('a.deleted_at', 'is', null)]),
      ]),
    ]),
  ]);
}
