import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DB } from '../../db/tables.ts';

/**
 * When a user group was last reviewed: the close of the latest review that decided its item (a
 * review closed with the item undecided did not review it). The same expressions give the
 * group lists and pages their `lastReviewedAt` and the review items their "changed since".
 */
export function lastReviewedAtOf(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over user_groups as g
  eb: ExpressionBuilder<any, any>,
  groupRef = 'g.id',
) {
  return eb
    .selectFrom('access_review_items as lri')
    .innerJoin('access_reviews as lr', 'lr.id', 'lri.review_id')
    .select((inner) => inner.fn.max<string>('lr.closed_at').as('at'))
    .whereRef('lri.user_group_id', '=', groupRef as never)
    .where('lr.status', '=', 'closed')
    .where('lri.outcome', 'is not', null);
}

/** The id of that review (the latest close; ties broken by id). */
export function lastReviewIdOf(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over user_groups as g
  eb: ExpressionBuilder<any, any>,
  groupRef = 'g.id',
) {
  return eb
    .selectFrom('access_review_items as lri')
    .innerJoin('access_reviews as lr', 'lr.id', 'lri.review_id')
    .select('lr.id')
    .whereRef('lri.user_group_id', '=', groupRef as never)
    .where('lr.status', '=', 'closed')
    .where('lri.outcome', 'is not', null)
    .orderBy('lr.closed_at', 'desc')
    .orderBy('lr.id', 'desc')
    .limit(1);
}

/** One group's last review, for its page. */
export async function lastReviewOf(
  db: Kysely<DB>,
  groupId: string,
): Promise<{ lastReviewedAt: string | null; lastReviewId: string | null }> {
  const row = await db
    .selectFrom('access_review_items as lri')
    .innerJoin('access_reviews as lr', 'lr.id', 'lri.review_id')
    .select(['lr.id', 'lr.closed_at'])
    .where('lri.user_group_id', '=', groupId)
    .where('lr.status', '=', 'closed')
    .where('lri.outcome', 'is not', null)
    .orderBy('lr.closed_at', 'desc')
    .orderBy('lr.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { lastReviewedAt: row?.closed_at ?? null, lastReviewId: row?.id ?? null };
}
