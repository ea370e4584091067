import type { Kysely } from 'kysely';
import { decidesItem, findVisibleReviewItem } from '../../access/access-reviews.ts';
import { viewerOf } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { ScopeType } from '../../access/scopes.ts';
import { loadHoldings, loadStanding, userGroupAbilities } from '../../access/user-groups.ts';
import type { DB } from '../../db/tables.ts';
import { notFound } from '../../lib/errors.ts';
import { scopeNames } from '../organisations/repository.ts';
import { visibleStudentNames } from '../students/repository.ts';
import { currentLinksOfGroup, currentOwners } from '../user-groups/repository.ts';

/** How many members an item lists (the group's own page pages through all of them). */
const MEMBERS_SHOWN = 500;
/** How many changes of each kind an item lists, newest first. */
const CHANGES_SHOWN = 500;

type ChangeKind = 'member' | 'owner' | 'link' | 'grant' | 'clearance';

interface Span {
  valid_from: string;
  valid_to: string | null;
}

/**
 * One item as its reviewer sees it: the group's members, owners, role grants, links and
 * clearances now, and what changed since the group was last reviewed (or created), each change
 * with who made it and when, from the history rows and the audit rows of the same change.
 */
export async function reviewItemDetail(
  db: Kysely<DB>,
  principal: Principal,
  reviewId: string,
  itemId: string,
) {
  const found = await findVisibleReviewItem(db, principal, reviewId, itemId);
  if (!found) throw notFound('Access review item');
  const { review, item, group, standing } = found;
  const org = principal.organisationId;
  const groupId = group.id;
  const since = item.since;
  // A closed review shows what its reviewers saw changed: up to its close.
  const until = review.closed_at;
  const window = <Q extends { where: (...args: never[]) => Q }>(q: Q, alias: string): Q =>
    // biome-ignore lint/suspicious/noExplicitAny: the same span filter over any history table
    (q as any).where((eb: any) =>
      eb.or([
        eb.and([
          eb(`${alias}.valid_from`, '>', since),
          ...(until ? [eb(`${alias}.valid_from`, '<=', until)] : []),
        ]),
        eb.and([
          eb(`${alias}.valid_to`, '>', since),
          ...(until ? [eb(`${alias}.valid_to`, '<=', until)] : []),
        ]),
      ]),
    );

  const [
    owners,
    holdings,
    links,
    members,
    memberChanges,
    ownerChanges,
    linkChanges,
    grantChanges,
    clearanceChanges,
    auditRows,
    names,
    groupStanding,
  ] = await Promise.all([
    currentOwners(db, groupId),
    loadHoldings(db, groupId),
    currentLinksOfGroup(db, groupId),
    db
      .selectFrom('user_group_members as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.id', 'u.name', 'u.email', 'm.valid_from'])
      .where('m.user_group_id', '=', groupId)
      .where('m.valid_to', 'is', null)
      .orderBy('u.name')
      .orderBy('u.id')
      .limit(MEMBERS_SHOWN)
      .execute(),
    window(
      db
        .selectFrom('user_group_members as m')
        .innerJoin('users as u', 'u.id', 'm.user_id')
        .select(['u.id', 'u.name', 'm.valid_from', 'm.valid_to'])
        .where('m.user_group_id', '=', groupId),
      'm',
    )
      .orderBy('m.valid_from', 'desc')
      .limit(CHANGES_SHOWN)
      .execute(),
    window(
      db
        .selectFrom('user_group_owners as o')
        .innerJoin('users as u', 'u.id', 'o.user_id')
        .select(['u.id', 'u.name', 'o.valid_from', 'o.valid_to'])
        .where('o.user_group_id', '=', groupId),
      'o',
    )
      .orderBy('o.valid_from', 'desc')
      .limit(CHANGES_SHOWN)
      .execute(),
    window(
      db
        .selectFrom('student_links as l')
        .leftJoin('student_groups as sg', 'sg.id', 'l.student_group_id')
        .select([
          'l.id',
          'l.student_group_id',
          'l.student_id',
          'sg.name as student_group_name',
          'l.created_by',
          'l.removed_by',
          'l.valid_from',
          'l.valid_to',
        ])
        .where('l.user_group_id', '=', groupId),
      'l',
    )
      .orderBy('l.valid_from', 'desc')
      .limit(CHANGES_SHOWN)
      .execute(),
    window(
      db
        .selectFrom('role_grants as g')
        .select([
          'g.id',
          'g.role',
          'g.scope_type',
          'g.scope_id',
          'g.reason',
          'g.granted_by',
          'g.revoked_by',
          'g.valid_from',
          'g.valid_to',
        ])
        .where('g.user_group_id', '=', groupId),
      'g',
    )
      .orderBy('g.valid_from', 'desc')
      .limit(CHANGES_SHOWN)
      .execute(),
    window(
      db
        .selectFrom('user_group_clearances as c')
        .select(['c.id', 'c.clearance', 'c.valid_from', 'c.valid_to'])
        .where('c.user_group_id', '=', groupId),
      'c',
    )
      .orderBy('c.valid_from', 'desc')
      .limit(CHANGES_SHOWN)
      .execute(),
    // Who made each change: the audit rows of the group in the window (one change, one instant).
    db
      .selectFrom('audit_events')
      .select(['at', 'actor_user_id', 'meta_json'])
      .where('target_id', '=', groupId)
      .where('target_type', '=', 'user_group')
      .where('organisation_id', '=', org)
      .where('category', '=', 'change')
      .where('at', '>', since)
      .$if(until !== null, (q) => q.where('at', '<=', until!))
      .execute(),
    scopeNames(db, org),
    loadStanding(db, principal, group),
  ]);

  const actorAt = new Map<string, { userId: string | null; accessReviewId: string | null }>();
  for (const row of auditRows) {
    const meta = row.meta_json ? (JSON.parse(row.meta_json) as Record<string, unknown>) : {};
    actorAt.set(row.at, {
      userId: row.actor_user_id,
      accessReviewId: typeof meta.accessReviewId === 'string' ? meta.accessReviewId : null,
    });
  }
  const linkedStudents = [
    ...links.flatMap((l) => (l.student_id ? [l.student_id] : [])),
    ...linkChanges.flatMap((l) => (l.student_id ? [l.student_id] : [])),
  ];
  const studentNames = await visibleStudentNames(
    db,
    { organisationId: org },
    viewerOf(principal),
    linkedStudents,
  );
  const student = (id: string | null) =>
    id === null ? null : studentNames.has(id) ? { id, name: studentNames.get(id) ?? '' } : null;

  interface Change {
    kind: ChangeKind;
    change: 'added' | 'removed';
    at: string;
    byUserId: string | null;
    accessReviewId: string | null;
    subject: Record<string, unknown>;
  }
  const changes: Change[] = [];
  const push = (
    kind: ChangeKind,
    row: Span,
    subject: Record<string, unknown>,
    by?: { added: string | null; removed: string | null },
  ) => {
    for (const change of ['added', 'removed'] as const) {
      const at = change === 'added' ? row.valid_from : row.valid_to;
      if (at === null || at <= since || (until !== null && at > until)) continue;
      const audited = actorAt.get(at);
      changes.push({
        kind,
        change,
        at,
        byUserId: (change === 'added' ? by?.added : by?.removed) ?? audited?.userId ?? null,
        accessReviewId: audited?.accessReviewId ?? null,
        subject,
      });
    }
  };
  for (const m of memberChanges) push('member', m, { user: { id: m.id, name: m.name } });
  for (const o of ownerChanges) push('owner', o, { user: { id: o.id, name: o.name } });
  for (const l of linkChanges)
    push(
      'link',
      l,
      {
        link: {
          id: l.id,
          studentGroup: l.student_group_id
            ? { id: l.student_group_id, name: l.student_group_name ?? '' }
            : null,
          student: student(l.student_id),
          redacted: l.student_id !== null && !studentNames.has(l.student_id),
        },
      },
      { added: l.created_by, removed: l.removed_by },
    );
  for (const g of grantChanges)
    push(
      'grant',
      g,
      {
        grant: {
          id: g.id,
          role: g.role,
          scope: {
            type: g.scope_type as ScopeType,
            id: g.scope_id,
            name: names.get(g.scope_id) ?? '',
          },
          reason: g.reason,
        },
      },
      { added: g.granted_by, removed: g.revoked_by },
    );
  for (const c of clearanceChanges) push('clearance', c, { clearance: c.clearance });
  changes.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));

  const actorIds = [...new Set(changes.flatMap((c) => (c.byUserId ? [c.byUserId] : [])))];
  const actors =
    actorIds.length === 0
      ? new Map<string, string>()
      : new Map(
          (
            await db
              .selectFrom('users')
              .select(['id', 'name'])
              .where('organisation_id', '=', org)
              .where('id', 'in', actorIds)
              .execute()
          ).map((u) => [u.id, u.name]),
        );

  const open = review.status === 'open';
  const decides = open && decidesItem(standing);
  const live = group.deleted_at === null;
  const groupAbilities = userGroupAbilities(principal, groupStanding, holdings);
  const addedSince = (at: string) => at > since;
  return {
    id: item.id,
    reviewId: review.id,
    reviewTitle: review.title,
    reviewStatus: review.status,
    since,
    status: item.outcome ?? (open ? ('undecided' as const) : ('not_decided' as const)),
    decision: item.outcome
      ? {
          outcome: item.outcome,
          note: item.note ?? '',
          decidedAt: item.decided_at ?? '',
          decidedBy: item.decided_by,
        }
      : null,
    userGroup: {
      id: group.id,
      name: group.name,
      description: group.description,
      rationale: group.rationale,
      deleted: !live,
      memberCount: live ? group.member_count : 0,
      homeScope: {
        type: group.home_scope_type as ScopeType,
        id: group.home_scope_id,
        name: names.get(group.home_scope_id) ?? '',
      },
    },
    members: (live ? members : []).map((m) => ({
      id: m.id,
      name: m.name,
      email: m.email,
      since: m.valid_from,
      new: addedSince(m.valid_from),
    })),
    owners: (live ? owners : []).map((o) => ({
      id: o.id,
      name: o.name,
      email: o.email,
      since: o.valid_from,
      new: addedSince(o.valid_from),
    })),
    roleGrants: holdings.grants.map((g) => ({
      id: g.id,
      role: g.role,
      scope: { ...g.scope, name: names.get(g.scope.id) ?? '' },
      reason: g.reason,
      since: g.since,
      new: addedSince(g.since),
    })),
    studentLinks: links.map((l) => ({
      id: l.id,
      since: l.valid_from,
      new: addedSince(l.valid_from),
      studentGroup: l.student_group_id
        ? {
            id: l.student_group_id,
            name: l.student_group_name ?? '',
            kind: l.student_group_kind ?? '',
          }
        : null,
      student: student(l.student_id),
      redacted: l.student_id !== null && !studentNames.has(l.student_id),
    })),
    clearances: holdings.clearances.map((c) => ({ clearance: c })),
    changes: changes.map((c) => ({
      kind: c.kind,
      change: c.change,
      at: c.at,
      by: c.byUserId ? { id: c.byUserId, name: actors.get(c.byUserId) ?? '' } : null,
      accessReviewId: c.accessReviewId,
      ...c.subject,
    })),
    abilities: {
      decide: decides,
      // Changes made here carry the review's id; the group's own rules still decide each one.
      manageMembers: decides && live && groupAbilities.manageMembers,
      manageOwners: decides && live && groupAbilities.manageOwners,
      manageLinks: decides && live && groupAbilities.manageLinks,
      manageClearances: decides && live && groupAbilities.manageClearances,
    },
  };
}
