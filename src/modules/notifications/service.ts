import type { Kysely } from 'kysely';
import { z } from 'zod';
import { requirePermission, schoolsWith } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import { assignableExists, visibleUserGroupIds } from '../../access/user-groups.ts';
import type { Database } from '../../db/database.ts';
import type {
  AssigneeType,
  DB,
  NotificationChannel,
  NotificationRulesTable,
  OutboxStatus,
} from '../../db/tables.ts';
import { HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, toPage } from '../../lib/pagination.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';

export interface NotificationRule {
  recipient: { type: AssigneeType; id: string };
  channel: NotificationChannel;
}

/** Whom a school's new categories tell, and how (seed 002's recommended defaults). */
export async function createDefaultNotificationRules(
  change: Change,
  school: { id: string; organisationId: string },
): Promise<void> {
  const db = change.db;
  const categories = await db
    .selectFrom('categories')
    .select(['id', 'name', 'sensitivity'])
    .where('school_id', '=', school.id)
    .where('deleted_at', 'is', null)
    .execute();
  const group = async (systemKey: string) =>
    (
      await db
        .selectFrom('user_groups')
        .select('id')
        .where('organisation_id', '=', school.organisationId)
        .where('system_key', '=', systemKey)
        .where('deleted_at', 'is', null)
        .executeTakeFirst()
    )?.id;
  const team = await group(`safeguarding_team:${school.id}`);
  const allegations = await group(`allegations:${school.id}`);
  // A school office group, if the school already has one: it hears of first aid at once.
  const office = await db
    .selectFrom('user_groups')
    .select('id')
    .where('organisation_id', '=', school.organisationId)
    .where('deleted_at', 'is', null)
    .where('home_scope_type', '=', 'school')
    .where('home_scope_id', '=', school.id)
    .where((eb) => eb(eb.fn('lower', ['name']), 'like', '%office%'))
    .orderBy('name')
    .executeTakeFirst();
  const rules: (NotificationRule & { categoryId: string })[] = [];
  const add = (
    categoryId: string,
    groupId: string | undefined,
    channels: NotificationChannel[],
  ) => {
    if (!groupId) return;
    for (const channel of channels)
      rules.push({ categoryId, recipient: { type: 'user_group', id: groupId }, channel });
  };
  for (const c of categories) {
    if (c.sensitivity === 'child_protection') add(c.id, team, ['alert', 'immediate_email']);
    else if (c.sensitivity === 'allegation') add(c.id, allegations, ['alert', 'immediate_email']);
    else {
      add(c.id, team, ['digest_email']);
      if (c.name.toLowerCase() === 'first aid') add(c.id, office?.id, ['immediate_email']);
    }
  }
  if (rules.length === 0) return;
  await db
    .insertInto('notification_rules')
    .values(
      rules.map(
        (r): NotificationRulesTable => ({
          id: newId(),
          organisation_id: school.organisationId,
          category_id: r.categoryId,
          recipient_type: r.recipient.type,
          recipient_id: r.recipient.id,
          channel: r.channel,
          created_by: change.origin.userId,
          created_at: change.now,
        }),
      ),
    )
    .execute();
  change.record({
    action: 'notification_rules.defaults',
    targetType: 'school',
    targetId: school.id,
    after: rules,
  });
}

const outboxCursor = z.tuple([z.string(), z.string()]);

/**
 * Each category's notification rules (Admin and above where the category belongs), and the
 * outbox as Admins see it: what was sent, what is waiting, what failed and why.
 */
export class NotificationService {
  constructor(private readonly database: Database) {}

  async #category(db: Kysely<DB>, principal: Principal, categoryId: string) {
    const category = await db
      .selectFrom('categories')
      .select(['id', 'school_id'])
      .where('id', '=', categoryId)
      .where('organisation_id', '=', principal.organisationId)
      .executeTakeFirst();
    if (!category) throw notFound('Category');
    requirePermission(
      principal,
      'categories.manage',
      category.school_id
        ? { type: 'school', id: category.school_id }
        : { type: 'organisation', id: principal.organisationId },
    );
    return category;
  }

  async #rules(db: Kysely<DB>, principal: Principal, categoryId: string) {
    const rows = await db
      .selectFrom('notification_rules as r')
      .leftJoin('users as u', (j) =>
        j.onRef('u.id', '=', 'r.recipient_id').on('r.recipient_type', '=', 'user'),
      )
      .leftJoin('user_groups as g', (j) =>
        j.onRef('g.id', '=', 'r.recipient_id').on('r.recipient_type', '=', 'user_group'),
      )
      .select([
        'r.recipient_type',
        'r.recipient_id',
        'r.channel',
        'u.name as user_name',
        'g.name as group_name',
      ])
      .where('r.category_id', '=', categoryId)
      .orderBy('r.channel')
      .orderBy('r.recipient_type')
      .orderBy('r.recipient_id')
      .execute();
    const seen = await visibleUserGroupIds(
      db,
      principal,
      rows.filter((r) => r.recipient_type === 'user_group').map((r) => r.recipient_id),
    );
    return {
      rules: rows.map((r) => ({
        recipient: {
          type: r.recipient_type,
          id: r.recipient_id,
          name:
            r.recipient_type === 'user'
              ? (r.user_name ?? '')
              : seen.has(r.recipient_id)
                ? (r.group_name ?? '')
                : 'a group you cannot see',
        },
        channel: r.channel,
      })),
    };
  }

  async rules(principal: Principal, categoryId: string) {
    await this.#category(this.database.db, principal, categoryId);
    return this.#rules(this.database.db, principal, categoryId);
  }

  /** Replaces a category's rules as a whole; the change is in the audit log, before and after. */
  async replaceRules(
    principal: Principal,
    categoryId: string,
    rules: NotificationRule[],
    origin: ChangeOrigin,
  ) {
    return runChange(this.database, origin, async (change) => {
      await this.#category(change.db, principal, categoryId);
      const unique = new Map(
        rules.map((r) => [`${r.recipient.type}:${r.recipient.id}:${r.channel}`, r]),
      );
      for (const [index, r] of [...unique.values()].entries())
        if (!(await assignableExists(change.db, principal, r.recipient)))
          throw new HavenError(404, 'not_found', 'Not found', 'Recipient not found', {
            field: `rules.${index}.recipient.id`,
          });
      const before = await this.#rules(change.db, principal, categoryId);
      await change.db
        .deleteFrom('notification_rules')
        .where('category_id', '=', categoryId)
        .execute();
      if (unique.size > 0)
        await change.db
          .insertInto('notification_rules')
          .values(
            [...unique.values()].map((r) => ({
              id: newId(),
              organisation_id: principal.organisationId,
              category_id: categoryId,
              recipient_type: r.recipient.type,
              recipient_id: r.recipient.id,
              channel: r.channel,
              created_by: principal.userId,
              created_at: change.now,
            })),
          )
          .execute();
      const after = await this.#rules(change.db, principal, categoryId);
      change.record({
        action: 'notification_rules.replace',
        targetType: 'category',
        targetId: categoryId,
        before: before.rules,
        after: after.rules,
      });
      return after;
    });
  }

  /** Emails of the schools where the caller is Admin (all, at the organisation), newest first. */
  async outbox(
    principal: Principal,
    query: { status?: OutboxStatus | undefined; limit: number; cursor?: string | undefined },
  ) {
    const schools = schoolsWith(principal, 'settings.manage');
    if (schools !== 'all' && schools.length === 0)
      requirePermission(principal, 'settings.manage', {
        type: 'organisation',
        id: principal.organisationId,
      });
    const after = decodeCursor(query.cursor, outboxCursor);
    let select = this.database.db
      .selectFrom('outbox as o')
      .leftJoin('users as u', 'u.id', 'o.to_user_id')
      .select([
        'o.id',
        'o.kind',
        'o.school_id',
        'o.to_address',
        'u.name as to_name',
        'o.status',
        'o.attempts',
        'o.last_error',
        'o.subject',
        'o.created_at',
        'o.sent_at',
        'o.next_attempt_at',
      ])
      .where('o.organisation_id', '=', principal.organisationId);
    if (schools !== 'all') select = select.where('o.school_id', 'in', schools);
    if (query.status) select = select.where('o.status', '=', query.status);
    if (after)
      select = select.where((eb) =>
        eb.or([
          eb('o.created_at', '<', after[0]),
          eb.and([eb('o.created_at', '=', after[0]), eb('o.id', '<', after[1])]),
        ]),
      );
    const rows = await select
      .orderBy('o.created_at', 'desc')
      .orderBy('o.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    return toPage(
      rows,
      query.limit,
      (r) => ({
        id: r.id,
        kind: r.kind,
        schoolId: r.school_id,
        to: { address: r.to_address, name: r.to_name },
        status: r.status,
        attempts: Number(r.attempts),
        lastError: r.last_error,
        subject: r.subject,
        createdAt: r.created_at,
        sentAt: r.sent_at,
        nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
      }),
      (r) => [r.created_at, r.id],
    );
  }

  /** Sends a failed email again (from its first attempt), as soon as the worker next passes. */
  async retry(principal: Principal, outboxId: string, origin: ChangeOrigin) {
    await runChange(this.database, origin, async (change) => {
      const email = await change.db
        .selectFrom('outbox')
        .select(['id', 'school_id', 'status'])
        .where('id', '=', outboxId)
        .where('organisation_id', '=', principal.organisationId)
        .executeTakeFirst();
      if (!email) throw notFound('Email');
      requirePermission(
        principal,
        'settings.manage',
        email.school_id
          ? { type: 'school', id: email.school_id }
          : { type: 'organisation', id: principal.organisationId },
      );
      if (email.status !== 'failed')
        throw new HavenError(409, 'not_failed', 'Conflict', 'Only a failed email is sent again');
      await change.db
        .updateTable('outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_at: change.now, last_error: null })
        .where('id', '=', outboxId)
        .execute();
      change.record({ action: 'outbox.retry', targetType: 'outbox', targetId: outboxId });
    });
  }
}
