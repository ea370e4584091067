import type { Kysely } from 'kysely';
import { recipientsReading } from '../../access/notifications.ts';
import type { DB, Sensitivity } from '../../db/tables.ts';
import {
  type AccessReviewEmailPayload,
  renderAccessReviewEmail,
} from '../access-reviews/reminders.ts';
import {
  type AccountEmailContext,
  type AccountEmailPayload,
  renderAccountEmail,
  wipedAccountPayload,
} from '../accounts/emails.ts';
import type { Email } from './mailer.ts';

/**
 * The text of each email, made when it is sent. An email names the school, the sensitivity and a
 * link, and never a child, what happened, or an action's title (which a DSL writes freely): the
 * link leads to the record, which the reader opens under the access rules after signing in.
 */

export type OutboxPayload =
  | { kind: 'incident_logged'; incidentId: string }
  | { kind: 'digest'; schoolId: string; date: string; incidentIds: string[] }
  | { kind: 'action_due'; incidentId: string; actionId: string }
  | { kind: 'security'; message: string }
  // An access review's reminder (src/modules/access-reviews/reminders.ts).
  | AccessReviewEmailPayload
  // An invitation or a password reset: the link's token, sealed (src/modules/accounts/emails.ts).
  | AccountEmailPayload;

/** What an email is written with, besides its payload. */
export type RenderContext = AccountEmailContext;

/**
 * The payload to keep once an email is done with (sent, given up or withdrawn): without the
 * secret an account email carries, or null when it carries none.
 */
export function wipedPayload(payload: OutboxPayload): OutboxPayload | null {
  return payload.kind === 'invitation' || payload.kind === 'password_reset'
    ? wipedAccountPayload(payload)
    : null;
}

const described: Record<Sensitivity, { one: string; many: string }> = {
  standard: { one: 'a new concern', many: 'concerns' },
  child_protection: { one: 'a new child-protection concern', many: 'child-protection concerns' },
  allegation: { one: 'a new allegation against staff', many: 'allegations against staff' },
};

const footer = (publicUrl: string) =>
  `\n\nYou receive this because of your role in Haven (${publicUrl}). ` +
  'Sign in to read it; this email holds nothing about the child or what happened.';

/**
 * The email for one recipient, or null when they may no longer read anything it is about (it is
 * then withdrawn, not sent).
 */
export async function renderEmail(
  db: Kysely<DB>,
  to: { userId: string | null; organisationId: string },
  payload: OutboxPayload,
  context: RenderContext,
): Promise<Omit<Email, 'to'> | null> {
  const { publicUrl } = context;
  if (payload.kind === 'invitation' || payload.kind === 'password_reset')
    return renderAccountEmail(db, payload, context);
  if (payload.kind === 'access_review') return renderAccessReviewEmail(db, payload, context);
  if (payload.kind === 'security')
    return {
      subject: 'Haven security alert',
      text: `${payload.message}${footer(publicUrl)}`,
    };
  const incidentIds = payload.kind === 'digest' ? payload.incidentIds : [payload.incidentId];
  if (!to.userId) return null;
  const readable = await recipientsReading(db, { organisationId: to.organisationId }, incidentIds, {
    type: 'user',
    id: to.userId,
  });
  const ids = new Set(readable.map((r) => r.incident_id));
  if (ids.size === 0) return null;
  const rows = await db
    .selectFrom('incidents as i')
    .innerJoin('schools as s', 's.id', 'i.school_id')
    .select(['i.id', 'i.sensitivity', 's.name as school'])
    .where('i.id', 'in', [...ids])
    .orderBy('i.created_at')
    .orderBy('i.id')
    .execute();
  const link = (id: string) => `${publicUrl}/incidents/${id}`;
  const first = rows[0];
  if (!first) return null;
  if (payload.kind === 'incident_logged')
    return {
      subject: `Haven: ${described[first.sensitivity].one} at ${first.school}`,
      text: `There is ${described[first.sensitivity].one} at ${first.school}.\n\n${link(first.id)}${footer(publicUrl)}`,
    };
  if (payload.kind === 'action_due')
    return {
      subject: `Haven: an action of yours is due at ${first.school}`,
      text: `An action assigned to you, on a record at ${first.school}, is due.\n\n${link(first.id)}${footer(publicUrl)}`,
    };
  const lines = rows.map((r) => `- ${described[r.sensitivity].one}: ${link(r.id)}`);
  return {
    subject: `Haven: ${rows.length} new ${rows.length === 1 ? 'concern' : 'concerns'} at ${first.school} (digest for ${payload.date})`,
    text: `Concerns logged at ${first.school} since the last digest:\n\n${lines.join('\n')}${footer(publicUrl)}`,
  };
}
