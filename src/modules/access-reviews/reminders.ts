import type { Kysely } from 'kysely';
import { holdsThroughSql } from '../../access/access-reviews.ts';
import type { AccessReviewReminderPhase, DB } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import { raiseAlerts } from '../notifications/alerts.ts';
import { scopeName } from '../organisations/repository.ts';

/** An access review's reminder by email: which review and why, and nothing about any group. */
export interface AccessReviewEmailPayload {
  kind: 'access_review';
  reviewId: string;
  phase: AccessReviewReminderPhase;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** A review "due soon" is due within this long. */
export const DUE_SOON_MS = 3 * DAY_MS;

/**
 * The phases of an open review whose reminders are due at `now`: its start, once due within three
 * days (unless it started that close to its due date, when the start said as much), and overdue.
 */
export function phasesDue(
  review: { created_at: string; due_at: string },
  now: Date,
): AccessReviewReminderPhase[] {
  const due = Date.parse(review.due_at);
  const at = now.getTime();
  const phases: AccessReviewReminderPhase[] = ['started'];
  if (at >= due) phases.push('overdue');
  else if (at >= due - DUE_SOON_MS && Date.parse(review.created_at) < due - DUE_SOON_MS)
    phases.push('due_soon');
  return phases;
}

const londonDay = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

function alertText(
  review: { title: string; due_at: string },
  phase: AccessReviewReminderPhase,
  undecided: number,
): string {
  const groups = `${undecided} user ${undecided === 1 ? 'group awaits' : 'groups await'} your decision`;
  const due = londonDay.format(new Date(review.due_at));
  if (phase === 'started') return `Access review "${review.title}": ${groups}, by ${due}.`;
  if (phase === 'due_soon') return `Access review "${review.title}" is due on ${due}: ${groups}.`;
  return `Access review "${review.title}" was due on ${due}: ${groups}.`;
}

/**
 * Raises the reminders due at `now` inside the worker's transaction: for each open review and
 * phase, every reviewer with undecided items gets one alert (and, when email is on, one email
 * through the outbox), once, however many workers run (the reminder's key is claimed first).
 * An item's reviewers are its group's owners who may decide it; an item none of them may decide
 * falls to whoever started the review.
 */
export async function raiseReviewReminders(
  db: Kysely<DB>,
  now: Date,
  options: { emails: boolean },
): Promise<number> {
  const at = now.toISOString();
  const reviews = await db
    .selectFrom('access_reviews')
    .select(['id', 'organisation_id', 'title', 'due_at', 'created_at', 'created_by'])
    .where('status', '=', 'open')
    .orderBy('created_at')
    .execute();
  let raised = 0;
  for (const review of reviews) {
    const reviewers = await undecidedByReviewer(db, review.id, review.created_by);
    if (reviewers.size === 0) continue;
    for (const phase of phasesDue(review, now)) {
      const sent = await db
        .selectFrom('access_review_reminders')
        .select('user_id')
        .where('review_id', '=', review.id)
        .where('phase', '=', phase)
        .execute();
      const already = new Set(sent.map((s) => s.user_id));
      for (const [userId, { undecided, email }] of reviewers) {
        if (already.has(userId)) continue;
        const claimed = await db
          .insertInto('access_review_reminders')
          .values({
            review_id: review.id,
            user_id: userId,
            phase,
            organisation_id: review.organisation_id,
            created_at: at,
          })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(claimed.numInsertedOrUpdatedRows ?? 0) === 0) continue;
        raised += 1;
        await raiseAlerts({ db, now: at }, review.organisation_id, [
          { kind: 'access_review', userId, message: alertText(review, phase, undecided) },
        ]);
        if (!options.emails) continue;
        const payload: AccessReviewEmailPayload = {
          kind: 'access_review',
          reviewId: review.id,
          phase,
        };
        await db
          .insertInto('outbox')
          .values({
            id: newId(),
            organisation_id: review.organisation_id,
            notice_id: null,
            school_id: null,
            kind: 'access_review',
            to_user_id: userId,
            to_address: email,
            payload: JSON.stringify(payload),
            status: 'pending',
            attempts: 0,
            next_attempt_at: at,
            locked_until: null,
            last_error: null,
            subject: null,
            created_at: at,
            sent_at: null,
          })
          .execute();
      }
    }
  }
  return raised;
}

/**
 * Each reviewer of the review's undecided items, with how many await them: the group's active
 * owners, less a member the group gives access (`holdsThroughSql`: they do not review their own
 * access); an item left with none of them goes to the review's starter.
 */
async function undecidedByReviewer(db: Kysely<DB>, reviewId: string, starter: string | null) {
  const rows = await db
    .selectFrom('access_review_items as i')
    .leftJoin('user_group_owners as o', (j) =>
      j.onRef('o.user_group_id', '=', 'i.user_group_id').on('o.valid_to', 'is', null),
    )
    .leftJoin('users as u', (j) =>
      j
        .onRef('u.id', '=', 'o.user_id')
        .on('u.disabled_at', 'is', null)
        .on('u.removed_at', 'is', null),
    )
    .select(['i.id as item_id', 'u.id as user_id', 'u.email'])
    .select((eb) => holdsThroughSql(eb, 'i.user_group_id', { column: 'u.id' }).as('holds_through'))
    .where('i.review_id', '=', reviewId)
    .where('i.outcome', 'is', null)
    .execute();
  const byItem = new Map<string, { userId: string; email: string }[]>();
  for (const row of rows) {
    const eligible = byItem.get(row.item_id) ?? [];
    if (row.user_id && row.email && !row.holds_through)
      eligible.push({ userId: row.user_id, email: row.email });
    byItem.set(row.item_id, eligible);
  }
  const starterRow = starter
    ? await db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('id', '=', starter)
        .where('disabled_at', 'is', null)
        .where('removed_at', 'is', null)
        .executeTakeFirst()
    : undefined;
  const reviewers = new Map<string, { undecided: number; email: string }>();
  for (const eligible of byItem.values()) {
    const to =
      eligible.length > 0
        ? eligible
        : starterRow
          ? [{ userId: starterRow.id, email: starterRow.email }]
          : [];
    for (const { userId, email } of to) {
      const entry = reviewers.get(userId) ?? { undecided: 0, email };
      entry.undecided += 1;
      reviewers.set(userId, entry);
    }
  }
  return reviewers;
}

/**
 * The email, written when it is sent: withdrawn (null) once the review is closed. It names the
 * scope and the due date, never a group, a person or a child.
 */
export async function renderAccessReviewEmail(
  db: Kysely<DB>,
  payload: AccessReviewEmailPayload,
  context: { publicUrl: string },
): Promise<{ subject: string; text: string } | null> {
  const review = await db
    .selectFrom('access_reviews')
    .select(['id', 'organisation_id', 'scope_type', 'scope_id', 'due_at', 'status'])
    .where('id', '=', payload.reviewId)
    .executeTakeFirst();
  if (review?.status !== 'open') return null;
  const where =
    (await scopeName(db, review.organisation_id, {
      type: review.scope_type as 'organisation' | 'school_group' | 'school',
      id: review.scope_id,
    })) ?? 'your organisation';
  const due = londonDay.format(new Date(review.due_at));
  const lead =
    payload.phase === 'overdue'
      ? `An access review of user groups at ${where} was due on ${due} and still awaits your decision.`
      : payload.phase === 'due_soon'
        ? `An access review of user groups at ${where} is due on ${due} and still awaits your decision.`
        : `An access review of user groups at ${where} has started and awaits your decision by ${due}.`;
  return {
    subject:
      payload.phase === 'started'
        ? 'Haven: an access review awaits your decision'
        : 'Haven: reminder, an access review awaits your decision',
    text:
      `${lead}\n\n${context.publicUrl}/access-reviews/${review.id}\n\n` +
      `You receive this because you review user groups in Haven (${context.publicUrl}). Sign in to see them.`,
  };
}
