import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DB } from '../db/tables.ts';
import { can } from './decide.ts';
import { incidentReadable } from './incidents.ts';
import type { Principal } from './principal.ts';
import { asCaller, type Reader } from './readers.ts';
import type { AccessTime } from './visibility.ts';

/**
 * Retention review (issue 16, item 4): a DSL (or an Owner) at a school reviews that school's
 * records past their retention date. They review exactly the records they read under the record
 * policy, soft-deleted ones included (a deleted record's content is still held, so the law's
 * periods still apply to it); nothing else decides which records a review shows or acts on.
 */

/** The caller may review retention at this school at all (`records.retention` there). */
export function reviewsRetentionAt(principal: Principal, schoolId: string): boolean {
  return can(principal, 'records.retention', { type: 'school', id: schoolId });
}

/**
 * The records (`incidents as i`) the reader may review, as the record policy decides: the ones
 * they read, deleted ones included. A destroyed record stays here as its tombstone (its row, its
 * children and its decisions, no content), so the DSL who approved it can still see it went.
 */
export function retentionReviewable(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: a condition on `incidents as i` inside any query over it
  eb: ExpressionBuilder<any, any>,
  t: AccessTime,
  reader: Reader,
): Expression<SqlBool> {
  return incidentReadable(db, eb, t, asCaller(reader), undefined, 'include');
}
