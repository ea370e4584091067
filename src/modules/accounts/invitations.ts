import { HavenError } from '../../lib/errors.ts';
import type { Change } from '../audit/change.ts';
import { queueAccountEmails } from '../notifications/queue.ts';
import { accountEmailPayload } from './emails.ts';
import { type InvitationView, issueTokens } from './tokens.ts';

/** Invitations need email: without SMTP one would reach nobody, so Haven says so. */
export function emailOff(): HavenError {
  return new HavenError(
    409,
    'email_off',
    'Email is off',
    'Haven sends no email on this installation (HAVEN_SMTP_URL is not set), so an invitation would reach nobody. Add the person with a password instead, or set up email.',
  );
}

/**
 * Sends invitations: a token valid 7 days per person (replacing any earlier one), its link sealed
 * into an email queued in the same change. Used by `POST /users` (`invite: true`), the resend
 * route and `haven users import --invite`.
 */
export class Invitations {
  constructor(
    /** The installation's `account_tokens` subkey. */
    private readonly key: Buffer,
    private readonly mail: { smtpUrl: string | undefined },
  ) {}

  get emailOn(): boolean {
    return Boolean(this.mail.smtpUrl);
  }

  requireEmail(): void {
    if (!this.emailOn) throw emailOff();
  }

  /**
   * Invites `users` of the organisation in `change`. `audit`: a `user.invite` row per person
   * (`resend` says whether it replaced an earlier invitation), or one summary row per 10,000
   * people for a bulk import. Neither the token nor its hash is written to the audit log.
   */
  async send(
    change: Change,
    organisationId: string,
    users: readonly { id: string; email: string }[],
    options: { createdBy: string | null; audit: 'each' | 'summary'; resend?: boolean },
  ): Promise<Map<string, InvitationView>> {
    this.requireEmail();
    const issued = await issueTokens(change.db, {
      organisationId,
      userIds: users.map((u) => u.id),
      purpose: 'invitation',
      createdBy: options.createdBy,
      now: change.now,
    });
    const address = new Map(users.map((u) => [u.id, u.email]));
    await queueAccountEmails(
      change,
      organisationId,
      issued.map((t) => ({
        userId: t.userId,
        address: address.get(t.userId)!,
        payload: accountEmailPayload(this.key, 'invitation', t),
      })),
    );
    const views = new Map(
      issued.map((t): [string, InvitationView] => [
        t.userId,
        { sentAt: t.createdAt, expiresAt: t.expiresAt },
      ]),
    );
    const expiresAt = issued[0]?.expiresAt;
    if (options.audit === 'each')
      for (const t of issued)
        change.record({
          action: 'user.invite',
          targetType: 'user',
          targetId: t.userId,
          after: { expiresAt: t.expiresAt },
          meta: { resend: options.resend ?? false },
        });
    else
      for (let i = 0; i < issued.length; i += 10_000) {
        const slice = issued.slice(i, i + 10_000);
        change.record({
          action: 'user.invite',
          targetType: 'user_import',
          after: { count: slice.length, userIds: slice.map((t) => t.userId), expiresAt },
        });
      }
    return views;
  }
}
