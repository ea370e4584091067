import type { ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import {
  decidesItemSql,
  findVisibleReviewItem,
  requireDecidesItem,
  requireRunsReview,
  reviewAbilities,
  reviewClosed,
  reviewItemVisibleTo,
  reviewVisibleTo,
  runsReview,
} from '../../access/access-reviews.ts';
import type { Caller } from '../../access/readers.ts';
import type { Scope, ScopeType } from '../../access/scopes.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import type { AccessReviewOutcome, AccessReviewsTable } from '../../db/tables.ts';
import { HavenError, invalidField, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { scopeName, scopeNames } from '../organisations/repository.ts';
import { reviewItemDetail } from './item.ts';
import { lastReviewedAtOf } from './last-review.ts';

/**
 * The Access Audit Report's saved runs (src/modules/compliance), as a review needs them: one run
 * taken for the review's scope when it starts and when it closes.
 */
export interface AccessAuditRuns {
  create(
    caller: Caller,
    input: { scope: Scope; asOf?: string },
    origin: ChangeOrigin,
  ): Promise<{ id: string }>;
}

export interface StartReview {
  scope: Scope;
  dueAt: string;
  title?: string | undefined;
}

const listCursor = z.tuple([z.string(), z.string()]);

// biome-ignore lint/suspicious/noExplicitAny: the builders of queries over reviews and items
type AnyBuilder = ExpressionBuilder<any, any>;

/**
 * Termly access reviews (issue 14, item 3): start one for a scope (an item per user group homed
 * in it), decide items, close it with a summary. Who may do each is `src/access/access-reviews.ts`.
 */
export class AccessReviewService {
  constructor(
    private readonly database: Database,
    private readonly runs: () => AccessAuditRuns | undefined,
  ) {}

  async start(caller: Caller, input: StartReview, origin: ChangeOrigin) {
    const { principal } = caller;
    const db = this.database.db;
    const org = principal.organisationId;
    const scopeLabel = await scopeName(db, org, input.scope);
    if (scopeLabel === undefined)
      throw new HavenError(404, 'not_found', 'Not found', 'Scope not found', {
        field: 'scope.id',
      });
    requireRunsReview(principal, input.scope);
    if (Date.parse(input.dueAt) <= Date.now()) throw invalidField('dueAt', 'must be in the future');
    const title = input.title?.trim() || `Access review of ${scopeLabel}`;
    const reviewId = await runChange(this.database, origin, async (change) => {
      const groups = await change.db
        .selectFrom('user_groups as g')
        .select((eb) => ['g.id', 'g.name', 'g.created_at', lastReviewedAtOf(eb).as('reviewed_at')])
        .where('g.organisation_id', '=', org)
        .where('g.deleted_at', 'is', null)
        .where((eb) => homedIn(eb, input.scope))
        .orderBy('g.name')
        .execute();
      const id = newId();
      await change.db
        .insertInto('access_reviews')
        .values({
          id,
          organisation_id: org,
          scope_type: input.scope.type,
          scope_id: input.scope.id,
          title,
          due_at: new Date(input.dueAt).toISOString(),
          status: 'open',
          created_by: principal.userId,
          created_at: change.now,
          closed_by: null,
          closed_at: null,
          summary: null,
          start_run_id: null,
          close_run_id: null,
        })
        .execute();
      for (const slice of chunks(groups, 500))
        await change.db
          .insertInto('access_review_items')
          .values(
            slice.map((g) => ({
              id: newId(),
              organisation_id: org,
              review_id: id,
              user_group_id: g.id,
              group_name: g.name,
              since: g.reviewed_at ?? g.created_at,
              outcome: null,
              note: null,
              decided_by: null,
              decided_at: null,
              closed_at: null,
            })),
          )
          .execute();
      change.record({
        action: 'access_review.start',
        targetType: 'access_review',
        targetId: id,
        after: { title, scope: input.scope, dueAt: input.dueAt, items: groups.length },
      });
      return id;
    });
    await this.#takeRun(caller, reviewId, input.scope, 'start', origin);
    return this.get(principal, reviewId);
  }

  /**
   * The Access Audit Report run taken at a review's start or close, once the review's own change
   * has committed, and its id recorded in a second small change. A run that fails leaves the
   * review as it is and says so in the audit log.
   */
  async #takeRun(
    caller: Caller,
    reviewId: string,
    scope: Scope,
    at: 'start' | 'close',
    origin: ChangeOrigin,
  ) {
    const runs = this.runs();
    // TODO(issue 14): runs are taken once src/modules/compliance's AccessAuditRunService is wired.
    if (!runs) return;
    let runId: string | null = null;
    let failure: string | null = null;
    try {
      runId = (await runs.create(caller, { scope }, origin)).id;
    } catch (error) {
      failure = error instanceof HavenError ? error.code : 'internal_error';
    }
    await runChange(this.database, origin, async (change) => {
      if (runId)
        await change.db
          .updateTable('access_reviews')
          .set(at === 'start' ? { start_run_id: runId } : { close_run_id: runId })
          .where('id', '=', reviewId)
          .execute();
      change.record({
        action: 'access_review.audit_run',
        targetType: 'access_review',
        targetId: reviewId,
        after: runId ? { at, runId } : { at, failed: failure },
      });
    });
  }

  async list(
    caller: Caller,
    query: { status?: 'open' | 'closed' | undefined; limit: number; cursor?: string | undefined },
  ) {
    const { principal } = caller;
    const db = this.database.db;
    const after = decodeCursor(query.cursor, listCursor);
    let select = db
      .selectFrom('access_reviews as r')
      .leftJoin('users as cu', 'cu.id', 'r.created_by')
      .selectAll('r')
      .select('cu.name as created_by_name')
      .select((eb) => progressColumns(eb, caller))
      .where((eb) => reviewVisibleTo(eb, principal));
    if (query.status) select = select.where('r.status', '=', query.status);
    if (after)
      select = select.where((eb) =>
        eb.or([
          eb('r.created_at', '<', after[0]),
          eb.and([eb('r.created_at', '=', after[0]), eb('r.id', '<', after[1])]),
        ]),
      );
    const [rows, names] = await Promise.all([
      select
        .orderBy('r.created_at', 'desc')
        .orderBy('r.id', 'desc')
        .limit(query.limit + 1)
        .execute(),
      scopeNames(db, principal.organisationId),
    ]);
    return toPage(
      rows,
      query.limit,
      (r) => ({
        ...presentReview(r, names),
        createdBy: r.created_by ? { id: r.created_by, name: r.created_by_name ?? '' } : null,
        progress: { decided: Number(r.decided), total: Number(r.total) },
        toDecide: Number(r.to_decide),
        abilities: reviewAbilities(principal, { scope: scopeOf(r), status: r.status }),
      }),
      (r) => [r.created_at, r.id],
    );
  }

  /** The review as the caller may see it: all of it, or the items they review; else 404. */
  async get(principal: Caller['principal'], reviewId: string) {
    const db = this.database.db;
    const caller = { principal, mfaAt: null };
    const review = await db
      .selectFrom('access_reviews as r')
      .leftJoin('users as cu', 'cu.id', 'r.created_by')
      .leftJoin('users as xu', 'xu.id', 'r.closed_by')
      .selectAll('r')
      .select(['cu.name as created_by_name', 'xu.name as closed_by_name'])
      .select((eb) => progressColumns(eb, caller))
      .where('r.id', '=', reviewId)
      .where((eb) => reviewVisibleTo(eb, principal))
      .executeTakeFirst();
    if (!review) throw notFound('Access review');
    const items = await db
      .selectFrom('access_review_items as i')
      .innerJoin('access_reviews as r', 'r.id', 'i.review_id')
      .innerJoin('user_groups as g', 'g.id', 'i.user_group_id')
      .leftJoin('users as du', 'du.id', 'i.decided_by')
      .select([
        'i.id',
        'i.user_group_id',
        'i.group_name',
        'i.since',
        'i.outcome',
        'i.note',
        'i.decided_by',
        'i.decided_at',
        'g.name as current_name',
        'g.deleted_at',
        'g.home_scope_type',
        'g.home_scope_id',
        'du.name as decided_by_name',
      ])
      .select((eb) => decidesItemSql(eb, principal).as('decides'))
      .where('i.review_id', '=', reviewId)
      .where((eb) => reviewItemVisibleTo(eb, principal))
      .orderBy('i.group_name')
      .orderBy('i.id')
      .execute();
    const groupIds = items.map((i) => i.user_group_id);
    const itemIds = items.map((i) => i.id);
    const [owners, decisions, names] = await Promise.all([
      groupIds.length === 0
        ? []
        : db
            .selectFrom('user_group_owners as o')
            .innerJoin('users as u', 'u.id', 'o.user_id')
            .select(['o.user_group_id', 'u.id', 'u.name'])
            .where('o.user_group_id', 'in', groupIds)
            .where('o.valid_to', 'is', null)
            .orderBy('u.name')
            .execute(),
      itemIds.length === 0
        ? []
        : db
            .selectFrom('access_review_decisions as d')
            .innerJoin('users as u', 'u.id', 'd.decided_by')
            .select([
              'd.id',
              'd.item_id',
              'd.outcome',
              'd.note',
              'd.decided_at',
              'u.id as user_id',
              'u.name',
            ])
            .where('d.review_id', '=', reviewId)
            .where('d.item_id', 'in', itemIds)
            .orderBy('d.decided_at')
            .orderBy('d.id')
            .execute(),
      scopeNames(db, principal.organisationId),
    ]);
    const open = review.status === 'open';
    // The summary and the runs are of the whole scope: only for those who run the review there
    // (someone seeing just their groups' items may not see the rest of it).
    const whole = runsReview(principal, scopeOf(review));
    return {
      ...presentReview(review, names),
      createdBy: review.created_by
        ? { id: review.created_by, name: review.created_by_name ?? '' }
        : null,
      closedBy: review.closed_by
        ? { id: review.closed_by, name: review.closed_by_name ?? '' }
        : null,
      summary: whole ? review.summary : null,
      auditRuns: whole
        ? { start: review.start_run_id, close: review.close_run_id }
        : { start: null, close: null },
      progress: { decided: Number(review.decided), total: Number(review.total) },
      toDecide: Number(review.to_decide),
      abilities: reviewAbilities(principal, { scope: scopeOf(review), status: review.status }),
      items: items.map((i) => ({
        id: i.id,
        userGroup: {
          id: i.user_group_id,
          name: i.deleted_at ? i.group_name : (i.current_name ?? i.group_name),
          deleted: i.deleted_at !== null,
          homeScope: {
            type: i.home_scope_type as ScopeType,
            id: i.home_scope_id,
            name: names.get(i.home_scope_id) ?? '',
          },
        },
        reviewers: owners
          .filter((o) => o.user_group_id === i.user_group_id)
          .map((o) => ({ id: o.id, name: o.name })),
        since: i.since,
        status: i.outcome ?? (open ? ('undecided' as const) : ('not_decided' as const)),
        decision: i.outcome
          ? {
              outcome: i.outcome,
              note: i.note ?? '',
              decidedAt: i.decided_at ?? '',
              decidedBy: { id: i.decided_by ?? '', name: i.decided_by_name ?? '' },
            }
          : null,
        abilities: { decide: open && Boolean(i.decides) },
      })),
      decisions: decisions.map((d) => ({
        id: d.id,
        itemId: d.item_id,
        outcome: d.outcome,
        note: d.note,
        decidedAt: d.decided_at,
        decidedBy: { id: d.user_id, name: d.name },
      })),
    };
  }

  /** One item for its reviewer (see item.ts). */
  item(principal: Caller['principal'], reviewId: string, itemId: string) {
    return reviewItemDetail(this.database.db, principal, reviewId, itemId);
  }

  /** Records a reviewer's decision on one item (every decision is kept; the latest stands). */
  async decide(
    caller: Caller,
    reviewId: string,
    itemId: string,
    input: { outcome: AccessReviewOutcome; note: string },
    origin: ChangeOrigin,
  ) {
    const { principal } = caller;
    await runChange(this.database, origin, async (change) => {
      const found = await findVisibleReviewItem(change.db, principal, reviewId, itemId);
      if (!found) throw notFound('Access review item');
      if (found.review.status !== 'open') throw reviewClosed();
      requireDecidesItem(found.standing);
      await change.db
        .insertInto('access_review_decisions')
        .values({
          id: newId(),
          organisation_id: principal.organisationId,
          review_id: reviewId,
          item_id: itemId,
          outcome: input.outcome,
          note: input.note,
          decided_by: principal.userId,
          decided_at: change.now,
        })
        .execute();
      await change.db
        .updateTable('access_review_items')
        .set({
          outcome: input.outcome,
          note: input.note,
          decided_by: principal.userId,
          decided_at: change.now,
        })
        .where('id', '=', itemId)
        .execute();
      change.record({
        action: 'access_review.decide',
        targetType: 'access_review',
        targetId: reviewId,
        before: found.item.outcome
          ? { outcome: found.item.outcome, note: found.item.note }
          : undefined,
        after: {
          itemId,
          userGroupId: found.item.user_group_id,
          userGroupName: found.group.name,
          outcome: input.outcome,
          note: input.note,
        },
      });
    });
    return this.get(principal, reviewId);
  }

  /**
   * Closes the review with its summary: refused while items are undecided unless `force` (then
   * they stay "not decided", and the audit row counts them).
   */
  async close(
    caller: Caller,
    reviewId: string,
    input: { summary: string; force?: boolean | undefined },
    origin: ChangeOrigin,
  ) {
    const { principal } = caller;
    const scope = await runChange(this.database, origin, async (change) => {
      const review = await change.db
        .selectFrom('access_reviews as r')
        .selectAll('r')
        .where('r.id', '=', reviewId)
        .where((eb) => reviewVisibleTo(eb, principal))
        .executeTakeFirst();
      if (!review) throw notFound('Access review');
      const scope = scopeOf(review);
      requireRunsReview(principal, scope);
      if (review.status !== 'open') throw reviewClosed();
      const undecided = Number(
        (
          await change.db
            .selectFrom('access_review_items')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('review_id', '=', reviewId)
            .where('outcome', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
      if (undecided > 0 && !input.force)
        throw new HavenError(
          409,
          'review_undecided',
          'Conflict',
          `${undecided} ${undecided === 1 ? 'group is' : 'groups are'} not decided yet: decide them, or close the review with force`,
          { undecided },
        );
      await change.db
        .updateTable('access_reviews')
        .set({
          status: 'closed',
          closed_at: change.now,
          closed_by: principal.userId,
          summary: input.summary,
        })
        .where('id', '=', reviewId)
        .execute();
      await change.db
        .updateTable('access_review_items')
        .set({ closed_at: change.now })
        .where('review_id', '=', reviewId)
        .execute();
      change.record({
        action: 'access_review.close',
        targetType: 'access_review',
        targetId: reviewId,
        after: { summary: input.summary, undecided, forced: undecided > 0 },
      });
      return scope;
    });
    await this.#takeRun(caller, reviewId, scope, 'close', origin);
    return this.get(principal, reviewId);
  }
}

/** Over `user_groups as g`: the groups homed in a scope (for a school group: there, or at its schools). */
function homedIn(eb: AnyBuilder, scope: Scope) {
  switch (scope.type) {
    case 'organisation':
      return eb('g.organisation_id', '=', scope.id);
    case 'school':
      return eb.and([eb('g.home_scope_type', '=', 'school'), eb('g.home_scope_id', '=', scope.id)]);
    case 'school_group':
      return eb.or([
        eb.and([
          eb('g.home_scope_type', '=', 'school_group'),
          eb('g.home_scope_id', '=', scope.id),
        ]),
        eb.and([
          eb('g.home_scope_type', '=', 'school'),
          eb(
            'g.home_scope_id',
            'in',
            eb
              .selectFrom('school_group_schools as sgs')
              .select('sgs.school_id')
              .where('sgs.school_group_id', '=', scope.id)
              .where('sgs.valid_to', 'is', null),
          ),
        ]),
      ]);
  }
}

/** Progress over the items the caller sees, and how many of them await the caller's decision. */
function progressColumns(eb: AnyBuilder, caller: Caller) {
  const { principal } = caller;
  const items = () =>
    eb
      .selectFrom('access_review_items as i')
      .innerJoin('user_groups as g', 'g.id', 'i.user_group_id')
      .whereRef('i.review_id', '=', 'r.id')
      .where((inner: AnyBuilder) => reviewItemVisibleTo(inner as never, principal));
  return [
    items()
      .select((inner: AnyBuilder) => inner.fn.countAll<number>().as('n'))
      .as('total'),
    items()
      .where('i.outcome', 'is not', null)
      .select((inner: AnyBuilder) => inner.fn.countAll<number>().as('n'))
      .as('decided'),
    items()
      .where('i.outcome', 'is', null)
      .where('r.status', '=', 'open')
      .where((inner: AnyBuilder) => decidesItemSql(inner, principal))
      .select((inner: AnyBuilder) => inner.fn.countAll<number>().as('n'))
      .as('to_decide'),
  ];
}

function scopeOf(review: Pick<AccessReviewsTable, 'scope_type' | 'scope_id'>): Scope {
  return { type: review.scope_type as ScopeType, id: review.scope_id };
}

function presentReview(r: AccessReviewsTable, names: ReadonlyMap<string, string>) {
  return {
    id: r.id,
    title: r.title,
    scope: { ...scopeOf(r), name: names.get(r.scope_id) ?? '' },
    dueAt: r.due_at,
    status: r.status,
    createdAt: r.created_at,
    closedAt: r.closed_at,
  };
}
