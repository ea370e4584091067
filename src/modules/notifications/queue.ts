import { partyMembers } from '../../access/notifications.ts';
import type { Scope } from '../../access/scopes.ts';
import { chunks } from '../../db/sql.ts';
import type {
  AssigneeType,
  NoticesTable,
  NotificationChannel,
  OutboxTable,
} from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import type { AccountEmailPayload } from '../accounts/emails.ts';
import type { Change } from '../audit/change.ts';
import { raiseAlerts } from './alerts.ts';

/**
 * What a change asks to be told, written in the change's own transaction (so a notification is
 * never lost, nor sent for a change that rolled back). Alerts in the app are addressed to the
 * rule's user or group and filtered by the record policy whenever they are read; emails are
 * queued as notices, whose recipients the worker decides when it sends them.
 */

interface QueuedIncident {
  id: string;
  organisationId: string;
  schoolId: string;
  categoryId: string;
}

/** How a new concern was passed on, for its reporter's receipt. */
export type Delivery = 'immediate' | 'digest' | 'none';

/**
 * Queues the notifications of a new concern by its category's rules, and answers how it was
 * passed on: at once (an alert or an immediate email), in the day's digest only, or not at all.
 */
export async function queueIncidentNotifications(
  change: Change,
  incident: QueuedIncident,
): Promise<Delivery> {
  const rules = await change.db
    .selectFrom('notification_rules')
    .select(['recipient_type', 'recipient_id', 'channel'])
    .where('organisation_id', '=', incident.organisationId)
    .where('category_id', '=', incident.categoryId)
    .execute();
  await queueRules(change, incident, rules);
  if (rules.some((r) => r.channel !== 'digest_email')) return 'immediate';
  return rules.length > 0 ? 'digest' : 'none';
}

/**
 * Tells one person of a new concern at once (an alert and an email), beside its category's
 * rules: the Owner an allegation is handed to when its subject is the allegations manager.
 */
export async function queueIncidentNotice(
  change: Change,
  incident: QueuedIncident,
  userId: string,
): Promise<void> {
  await queueRules(change, incident, [
    { recipient_type: 'user', recipient_id: userId, channel: 'alert' },
    { recipient_type: 'user', recipient_id: userId, channel: 'immediate_email' },
  ]);
}

async function queueRules(
  change: Change,
  incident: QueuedIncident,
  rules: readonly {
    recipient_type: AssigneeType;
    recipient_id: string;
    channel: NotificationChannel;
  }[],
): Promise<void> {
  await raiseAlerts(
    change,
    incident.organisationId,
    rules
      .filter((r) => r.channel === 'alert')
      .map((r) => ({
        kind: 'incident_logged' as const,
        to: { type: r.recipient_type, id: r.recipient_id },
        incidentId: incident.id,
      })),
  );
  const emails = rules.filter((r) => r.channel !== 'alert');
  if (emails.length > 0)
    await change.db
      .insertInto('notices')
      .values(
        emails.map(
          (r): NoticesTable => ({
            id: newId(),
            organisation_id: incident.organisationId,
            school_id: incident.schoolId,
            kind: 'incident_logged',
            channel: r.channel === 'digest_email' ? 'digest_email' : 'immediate_email',
            recipient_type: r.recipient_type,
            recipient_id: r.recipient_id,
            incident_id: incident.id,
            action_id: null,
            message: null,
            // A digest's notices wait for the school's digest time.
            status: r.channel === 'digest_email' ? 'held' : 'pending',
            created_at: change.now,
            handled_at: null,
          }),
        ),
      )
      .execute();
}

/**
 * A security alert (spec section 2, rule 5): Owner, DSL or Deputy DSL granted, a group's
 * clearances changed, a block lifted. The Owners and DSLs over `within` (the grant's scope, the
 * group's home, the child's school) get it in the app and by immediate email, and so do those
 * in `alsoTell`. The message names staff, roles and groups, never a child.
 */
export async function queueSecurityAlert(
  change: Change,
  organisationId: string,
  within: readonly Scope[],
  message: string,
  /** People told besides the watchers: the person whose account it was done to. */
  alsoTell: readonly string[] = [],
): Promise<void> {
  const watchers = await partyMembers(change.db, { organisationId }, { type: 'watchers', within });
  const recipients = [
    ...watchers,
    ...alsoTell
      .filter((id) => !watchers.some((w) => w.user_id === id))
      .map((user_id) => ({ user_id })),
  ];
  if (recipients.length === 0) return;
  const rows = recipients.map(({ user_id }) => ({ user_id, id: newId() }));
  await raiseAlerts(
    change,
    organisationId,
    rows.map(({ user_id }) => ({ kind: 'security' as const, userId: user_id, message })),
  );
  await change.db
    .insertInto('notices')
    .values(
      rows.map(({ user_id, id }) => ({
        id,
        organisation_id: organisationId,
        school_id: within.find((s) => s.type === 'school')?.id ?? null,
        kind: 'security' as const,
        channel: 'immediate_email' as const,
        recipient_type: 'user' as const,
        recipient_id: user_id,
        incident_id: null,
        action_id: null,
        message,
        status: 'pending' as const,
        created_at: change.now,
        handled_at: null,
      })),
    )
    .execute();
}

/** A person's or a group's name for a security alert's text (the id if it is gone). */
export async function partyName(
  change: Change,
  organisationId: string,
  party: { type: 'user' | 'user_group'; id: string | null },
): Promise<string> {
  if (!party.id) return 'Haven';
  const row = await change.db
    .selectFrom(party.type === 'user' ? 'users' : 'user_groups')
    .select('name')
    .where('id', '=', party.id)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  return row?.name ?? party.id;
}

/**
 * Emails about a person's own account (an invitation, a password reset), straight into the
 * outbox: their recipient is the account's owner, not decided by a record policy. The worker
 * withdraws one whose link no longer opens anything when its turn comes.
 */
export async function queueAccountEmails(
  change: Change,
  organisationId: string,
  emails: readonly { userId: string; address: string; payload: AccountEmailPayload }[],
  /** Due from (default: now); a request the worker handles is due from when it was made. */
  dueAt: string = change.now,
): Promise<void> {
  for (const slice of chunks(emails))
    await change.db
      .insertInto('outbox')
      .values(
        slice.map(
          (e): OutboxTable => ({
            id: newId(),
            organisation_id: organisationId,
            notice_id: null,
            school_id: null,
            kind: e.payload.kind,
            to_user_id: e.userId,
            to_address: e.address,
            payload: JSON.stringify(e.payload),
            status: 'pending',
            attempts: 0,
            next_attempt_at: dueAt,
            locked_until: null,
            last_error: null,
            subject: null,
            created_at: change.now,
            sent_at: null,
          }),
        ),
      )
      .execute();
}
