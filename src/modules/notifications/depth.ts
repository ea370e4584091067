import { type Kysely, sql } from 'kysely';
import type { DB, OutboxStatus } from '../../db/tables.ts';

/** The outbox states `/metrics` reports: waiting to be sent, being sent, given up on. */
export const OUTBOX_DEPTH_STATUSES = [
  'pending',
  'sending',
  'failed',
] as const satisfies readonly OutboxStatus[];

export type OutboxDepthStatus = (typeof OUTBOX_DEPTH_STATUSES)[number];

/**
 * The most rows counted in one state: a scrape reads at most this many index entries per state,
 * however large a backlog grows. A count at the cap means "at least this many".
 */
export const OUTBOX_DEPTH_CAP = 100_000;

/**
 * Emails in the outbox of the whole installation by state, in one statement. Each count walks
 * the `outbox_due` index (`status`, `next_attempt_at`) for one status and stops at the cap, so
 * neither `sent` rows (which only grow) nor a long backlog make a scrape slower than that.
 * The values are literals (from the list above), so each engine plans the same statement once.
 * Installation-wide on purpose: the numbers go to the operator's monitoring, never to a school.
 */
export async function outboxDepth(db: Kysely<DB>): Promise<Record<OutboxDepthStatus, number>> {
  const counted = (status: OutboxDepthStatus) =>
    sql<number>`(select count(*) from (select 1 from outbox where status = ${sql.lit(status)} limit ${sql.lit(OUTBOX_DEPTH_CAP)}) as capped)`;
  const { rows } = await sql<Record<OutboxDepthStatus, number | string>>`
    select ${counted('pending')} as pending, ${counted('sending')} as sending, ${counted('failed')} as failed`.execute(
    db,
  );
  const row = rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    sending: Number(row?.sending ?? 0),
    failed: Number(row?.failed ?? 0),
  };
}
