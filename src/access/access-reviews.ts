import {
  type Expression,
  type ExpressionBuilder,
  type ExpressionWrapper,
  type Kysely,
  type SqlBool,
  sql,
} from 'kysely';
import type {
  AccessReviewItemsTable,
  AccessReviewsTable,
  DB,
  UserGroupsTable,
} from '../db/tables.ts';
import { conflict, HavenError, invalidField, notFound } from '../lib/errors.ts';
import { can, permissionDenied } from './decide.ts';
import type { Principal } from './principal.ts';
import type { Scope } from './scopes.ts';
import { administeredHomes, administersHome, homeOf, scopeAmongHomes } from './user-groups.ts';

/**
 * Who starts, sees, decides and closes a termly access review (issue 14, item 3), in one place:
 *  - Admin or higher at the review's scope (`user_groups.manage` there, as administering the
 *    groups homed in it takes) starts it, closes it and sees all of it;
 *  - an item (one group) is also seen by the group's owners and by Admins at the group's home,
 *    who see the review with just those items;
 *  - an item is decided by those who see it, except a member of the group while the group holds
 *    a role, a clearance or a link to children: nobody reviews access they hold through it (no
 *    Owner exception);
 *  - nobody else knows a review exists (404).
 * The lists' SQL filters, the checks and the abilities sent to the web app all come from here.
 */

/** The permission a review's scope asks of whoever starts, closes or reads all of it. */
export const reviewPermission = 'user_groups.manage' as const;

/** Admin or higher at the review's scope. */
export function runsReview(principal: Principal, scope: Scope): boolean {
  return can(principal, reviewPermission, scope);
}

export function requireRunsReview(principal: Principal, scope: Scope): void {
  if (!runsReview(principal, scope)) throw permissionDenied(reviewPermission);
}

type ReviewBuilder = ExpressionBuilder<DB & { r: DB['access_reviews'] }, 'r'>;
type ItemBuilder = ExpressionBuilder<
  DB & { r: DB['access_reviews']; i: DB['access_review_items']; g: DB['user_groups'] },
  'r' | 'i' | 'g'
>;

/** Over `access_reviews as r`: reviews whose scope the principal runs reviews at. */
function runsReviewSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over access_reviews as r
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
): Expression<SqlBool> {
  const homes = administeredHomes(principal);
  if (homes === 'all') return sql<SqlBool>`1 = 1`;
  const ways = scopeAmongHomes(eb, { type: 'r.scope_type', id: 'r.scope_id' }, homes);
  return ways.length > 0 ? eb.or(ways) : sql<SqlBool>`1 = 0`;
}

/**
 * Over `access_review_items as i` joined to its review `r` and group `g`: the items the principal
 * sees (the whole review where they run it; otherwise the groups they own or administer).
 */
export function reviewItemVisibleTo(eb: ItemBuilder, principal: Principal): Expression<SqlBool> {
  return eb.and([
    eb('i.organisation_id', '=', principal.organisationId),
    eb.or([
      runsReviewSql(eb, principal),
      ownsGroupSql(eb, principal),
      administersGroupSql(eb, principal),
    ]),
  ]);
}

/** Over `access_reviews as r`: the reviews the principal sees, in full or by one of their items. */
export function reviewVisibleTo(eb: ReviewBuilder, principal: Principal): Expression<SqlBool> {
  return eb.and([
    eb('r.organisation_id', '=', principal.organisationId),
    eb.or([
      runsReviewSql(eb, principal),
      eb.exists(
        eb
          .selectFrom('access_review_items as i')
          .innerJoin('user_groups as g', 'g.id', 'i.user_group_id')
          .select('i.id')
          .whereRef('i.review_id', '=', 'r.id')
          .where((inner) => reviewItemVisibleTo(inner as unknown as ItemBuilder, principal)),
      ),
    ]),
  ]);
}

/** The principal's relation to one item's group, read in the item's query. */
export interface ReviewItemStanding {
  /** Admin or higher at the group's home (or at the review's scope, which covers it). */
  administers: boolean;
  owns: boolean;
  /** A member of the group while it holds a role, a clearance or a link to children. */
  holdsThrough: boolean;
}

/** Over `user_groups as g`: the principal holds access through the group ({@link holdsThroughSql}). */
export function holdsThroughGroupSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over user_groups as g
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
  // biome-ignore lint/suspicious/noExplicitAny: see above
): ExpressionWrapper<any, any, SqlBool> {
  return holdsThroughSql(eb, 'g.id', { userId: principal.userId });
}

/**
 * A person holds access through a group now: they are a member while it holds a role grant, a
 * clearance or a link to children (a student group or a child). The one rule for deciding items
 * and for whom the reminders reach; `user` is a person or a column naming one.
 */
export function holdsThroughSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over any table naming a group
  eb: ExpressionBuilder<any, any>,
  groupColumn: string,
  user: { userId: string } | { column: string },
  // biome-ignore lint/suspicious/noExplicitAny: see above
): ExpressionWrapper<any, any, SqlBool> {
  const member = eb
    .selectFrom('user_group_members as m')
    .select('m.user_id')
    .whereRef('m.user_group_id', '=', groupColumn)
    .where('m.valid_to', 'is', null);
  return eb.and([
    eb.exists(
      'userId' in user
        ? member.where('m.user_id', '=', user.userId)
        : member.whereRef('m.user_id', '=', user.column),
    ),
    eb.or([
      eb.exists(
        eb
          .selectFrom('role_grants as rg')
          .select('rg.id')
          .whereRef('rg.user_group_id', '=', groupColumn)
          .where('rg.valid_to', 'is', null),
      ),
      eb.exists(
        eb
          .selectFrom('user_group_clearances as c')
          .select('c.id')
          .whereRef('c.user_group_id', '=', groupColumn)
          .where('c.valid_to', 'is', null),
      ),
      // Access to children is access too: a member does not confirm their own reach.
      eb.exists(
        eb
          .selectFrom('student_links as sl')
          .select('sl.id')
          .whereRef('sl.user_group_id', '=', groupColumn)
          .where('sl.valid_to', 'is', null),
      ),
    ]),
  ]);
}

/** Over `user_groups as g`: the principal owns the group now. */
export function ownsGroupSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over user_groups as g
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
  // biome-ignore lint/suspicious/noExplicitAny: see above
): ExpressionWrapper<any, any, SqlBool> {
  return eb.exists(
    eb
      .selectFrom('user_group_owners as o')
      .select('o.user_id')
      .whereRef('o.user_group_id', '=', 'g.id')
      .where('o.user_id', '=', principal.userId)
      .where('o.valid_to', 'is', null),
  );
}

/** The item's reviewers: its group's owners and Admins at its home, less those it would review. */
export function decidesItem(standing: ReviewItemStanding): boolean {
  return (standing.administers || standing.owns) && !standing.holdsThrough;
}

export function requireDecidesItem(standing: ReviewItemStanding): void {
  if (!(standing.administers || standing.owns)) throw permissionDenied(reviewPermission);
  if (standing.holdsThrough)
    throw new HavenError(
      403,
      'review_own_access',
      'Forbidden',
      'You are a member of this group, which gives you a role, a clearance or children to see: another owner or an Admin reviews it.',
    );
}

/** What the caller may do with a review, for the web app to hide what would be refused. */
export interface AccessReviewAbilities {
  close: boolean;
}

export function reviewAbilities(
  principal: Principal,
  review: { scope: Scope; status: string },
): AccessReviewAbilities {
  return { close: review.status === 'open' && runsReview(principal, review.scope) };
}

/** Over `user_groups as g`: the group is homed where the principal is Admin or higher. */
export function administersGroupSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over user_groups as g
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
): Expression<SqlBool> {
  const homes = administeredHomes(principal);
  if (homes === 'all') return sql<SqlBool>`1 = 1`;
  const ways = scopeAmongHomes(eb, { type: 'g.home_scope_type', id: 'g.home_scope_id' }, homes);
  return ways.length > 0 ? eb.or(ways) : sql<SqlBool>`1 = 0`;
}

/**
 * Over `access_review_items as i` joined to `user_groups as g`: an item the principal decides
 * (owner or Admin at the group's home, not holding anything through the group).
 */
export function decidesItemSql(
  // biome-ignore lint/suspicious/noExplicitAny: used in queries over items joined to groups
  eb: ExpressionBuilder<any, any>,
  principal: Principal,
  // biome-ignore lint/suspicious/noExplicitAny: see above
): ExpressionWrapper<any, any, SqlBool> {
  return eb.and([
    eb.or([ownsGroupSql(eb, principal), administersGroupSql(eb, principal)]),
    eb.not(holdsThroughGroupSql(eb, principal)),
  ]);
}

export interface VisibleReviewItem {
  review: AccessReviewsTable;
  item: AccessReviewItemsTable;
  group: UserGroupsTable;
  standing: ReviewItemStanding;
}

/** One item of one review as the principal may see it, with their standing; undefined means 404. */
export async function findVisibleReviewItem(
  db: Kysely<DB>,
  principal: Principal,
  reviewId: string,
  itemId: string,
): Promise<VisibleReviewItem | undefined> {
  const found = await db
    .selectFrom('access_review_items as i')
    .innerJoin('access_reviews as r', 'r.id', 'i.review_id')
    .innerJoin('user_groups as g', 'g.id', 'i.user_group_id')
    .select((eb) => [
      'i.id',
      ownsGroupSql(eb, principal).as('owns'),
      holdsThroughGroupSql(eb, principal).as('holds_through'),
    ])
    .where('i.id', '=', itemId)
    .where('i.review_id', '=', reviewId)
    .where('r.organisation_id', '=', principal.organisationId)
    .where((eb) => reviewItemVisibleTo(eb, principal))
    .executeTakeFirst();
  if (!found) return undefined;
  const [review, item] = await Promise.all([
    db
      .selectFrom('access_reviews')
      .selectAll()
      .where('id', '=', reviewId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('access_review_items')
      .selectAll()
      .where('id', '=', itemId)
      .executeTakeFirstOrThrow(),
  ]);
  const group = await db
    .selectFrom('user_groups')
    .selectAll()
    .where('id', '=', item.user_group_id)
    .executeTakeFirstOrThrow();
  return {
    review,
    item,
    group,
    standing: {
      administers: administersHome(principal, homeOf(group)),
      // SQLite answers 0 or 1, PostgreSQL a boolean.
      owns: Boolean(found.owns),
      holdsThrough: Boolean(found.holds_through),
    },
  };
}

export function reviewClosed(): HavenError {
  return conflict('This access review is closed', 'review_closed');
}

/** Which review item a change to a group is made through (issue 14: a change made in the review). */
export interface ReviewItemReference {
  accessReviewId: string;
  accessReviewItemId: string;
}

/**
 * A change made through a review: the review is open, the item is this group's, and the caller
 * decides it. The group editor's own checks (anti-escalation) still apply to the change itself.
 */
export async function requireChangeThroughReview(
  db: Kysely<DB>,
  principal: Principal,
  groupId: string,
  reference: ReviewItemReference,
): Promise<void> {
  const found = await findVisibleReviewItem(
    db,
    principal,
    reference.accessReviewId,
    reference.accessReviewItemId,
  );
  if (!found) throw notFound('Access review item');
  if (found.item.user_group_id !== groupId)
    throw invalidField('accessReviewItemId', 'is the item of another user group');
  if (found.review.status !== 'open') throw reviewClosed();
  requireDecidesItem(found.standing);
}
