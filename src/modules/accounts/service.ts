import { holdsActiveRole, requireManageUser } from '../../access/decide.ts';
import { loadHeldGrants, loadPrincipal, type Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { AccountTokenPurpose } from '../../db/tables.ts';
import { conflict, HavenError, noRole, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { addMs, nowIso } from '../../lib/time.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { hashPassword } from '../auth/passwords.ts';
import type { ClientInfo } from '../auth/service.ts';
import { endUserSessions, type NewSession } from '../auth/sessions.ts';
import { openSignedInSession } from '../auth/sign-in.ts';
import { queueAccountEmails } from '../notifications/queue.ts';
import { passwordSignInAllowed, passwordSignInOff } from '../sso/password-sign-in.ts';
import { findSignInAccounts, findUser, normaliseEmail } from '../users/repository.ts';
import { checkPassword } from '../users/service.ts';
import { accountEmailPayload } from './emails.ts';
import { Invitations } from './invitations.ts';
import {
  findLiveToken,
  type InvitationView,
  invalidToken,
  issueTokens,
  retireTokens,
  spendToken,
  tokensMadeSince,
} from './tokens.ts';

/** At most this many reset emails per account and hour; further requests are answered alike and dropped. */
export const RESETS_PER_HOUR = 3;

function accountDisabled(): HavenError {
  return new HavenError(
    403,
    'account_disabled',
    'Account disabled',
    'This account has been disabled',
  );
}

function originFor(organisationId: string, userId: string | null, client: ClientInfo) {
  return {
    organisationId,
    userId,
    requestId: client.requestId,
    ...(client.ip ? { ip: client.ip } : {}),
    via: 'api' as const,
  };
}

/**
 * Accounts that work without an Admin typing a password: invitations (sent, resent, accepted)
 * and password reset by email. Every link is a single-use token (`tokens.ts`); every change is
 * audited in the account's organisation, without the token.
 */
export class AccountService {
  readonly invitations: Invitations;

  constructor(
    private readonly database: Database,
    private readonly config: Pick<Config, 'session' | 'mail'>,
    /** The installation's `account_tokens` subkey. */
    key: Buffer,
  ) {
    this.invitations = new Invitations(key, config.mail);
  }

  /**
   * Sends a user a new invitation (Admin, as for editing them); the link of the earlier one
   * stops working. Refused for a disabled user, one who has already set a password or signed
   * in (they reset their password instead), and without email.
   */
  async resendInvitation(
    principal: Principal,
    userId: string,
    origin: ChangeOrigin,
  ): Promise<InvitationView & { delivery: 'email' }> {
    return runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const user = await findUser(change.db, organisationId, userId);
      if (!user) throw notFound('User');
      requireManageUser(principal, await loadHeldGrants(change.db, organisationId, userId));
      this.invitations.requireEmail();
      if (user.disabled_at)
        throw conflict(
          'This user is disabled: enable them before inviting them',
          'account_disabled',
        );
      if (user.activated_at)
        throw conflict(
          'This user has already set a password or signed in; they can reset their password from the sign-in page',
          'already_active',
        );
      const sent = await this.invitations.send(change, organisationId, [user], {
        createdBy: principal.userId,
        audit: 'each',
        resend: true,
      });
      return { ...sent.get(user.id)!, delivery: 'email' as const };
    });
  }

  /**
   * The invited person sets their password (the usual strength rules) and is signed in as at
   * `POST /auth/login`. A Member who holds no role yet has their password set, and is then
   * answered 403 `no_role` as sign-in would answer them.
   */
  async acceptInvitation(
    input: { token: string; password: string },
    client: ClientInfo,
  ): Promise<{ session: NewSession; principal: Principal }> {
    const found = await this.#usable('invitation', input.token);
    checkPassword(input.password, 'password', [found.name, found.email]);
    const passwordHash = await hashPassword(input.password);
    const origin = originFor(found.organisation_id, found.user_id, client);
    const done = await runChange(this.database, origin, async (change) => {
      await this.#spend(change, 'invitation', found.id, found.user_id, found.organisation_id);
      await setPassword(change, found.user_id, passwordHash);
      change.record({
        action: 'user.invitation_accept',
        targetType: 'user',
        targetId: found.user_id,
      });
      const principal = await loadPrincipal(change.db, found.organisation_id, found.user_id);
      if (!holdsActiveRole(principal)) return { principal, session: null };
      const session = await openSignedInSession(change, {
        userId: found.user_id,
        organisationId: found.organisation_id,
        limits: this.config.session,
        mfaAt: null,
        client,
        method: 'invitation',
      });
      return { principal, session };
    });
    if (!done.session) throw noRole().withAudit({ email: found.email }, found.organisation_id);
    return { session: done.session, principal: done.principal };
  }

  /**
   * Asks for reset links for an email. The answer must not tell whether an account uses it, in
   * what it says nor in how long it takes: every request, known email or not, is the same one
   * insert, and the worker does the rest (`handleResetRequests`). Without email, nothing (answers
   * whether email is on, which is the same for every address).
   */
  async requestPasswordReset(email: string, client: ClientInfo): Promise<boolean> {
    if (!this.invitations.emailOn) return false;
    await this.database.db
      .insertInto('password_reset_requests')
      .values({
        id: newId(),
        email: normaliseEmail(email),
        requested_at: nowIso(),
        ip: client.ip,
        request_id: client.requestId,
      })
      .execute();
    return true;
  }

  /** Sets a new password with a reset link; every session of the user ends. */
  async confirmPasswordReset(
    input: { token: string; password: string },
    client: ClientInfo,
  ): Promise<void> {
    const found = await this.#usable('password_reset', input.token);
    checkPassword(input.password, 'password', [found.name, found.email]);
    const passwordHash = await hashPassword(input.password);
    const origin = originFor(found.organisation_id, found.user_id, client);
    await runChange(this.database, origin, async (change) => {
      await this.#spend(change, 'password_reset', found.id, found.user_id, found.organisation_id);
      await setPassword(change, found.user_id, passwordHash);
      const sessionsEnded = await endUserSessions(
        change.db,
        found.user_id,
        change.now,
        'password_reset',
      );
      change.record({
        action: 'user.password_reset',
        targetType: 'user',
        targetId: found.user_id,
        meta: { sessionsEnded },
      });
    });
  }

  /** The live token and its user, checked before the (slow) password hashing. */
  async #usable(purpose: AccountTokenPurpose, token: string) {
    const found = await findLiveToken(this.database.db, purpose, token, nowIso());
    // An invitation is for someone who has never been in; once they have, its link is dead.
    if (!found || (purpose === 'invitation' && found.activated_at)) throw invalidToken();
    if (found.disabled_at) throw accountDisabled().withAudit({}, found.organisation_id);
    // An organisation that signs in only through its identity provider sets no passwords.
    if (!(await passwordSignInAllowed(this.database.db, found.organisation_id)))
      throw passwordSignInOff().withAudit({}, found.organisation_id);
    return found;
  }

  /** Spends the token in the change, checking again what may have changed since `#usable`. */
  async #spend(
    change: Change,
    purpose: AccountTokenPurpose,
    tokenId: string,
    userId: string,
    organisationId: string,
  ) {
    if (!(await spendToken(change.db, tokenId, change.now))) throw invalidToken();
    const user = await findUser(change.db, organisationId, userId);
    if (!user) throw invalidToken();
    if (purpose === 'invitation' && user.activated_at) throw invalidToken();
    if (user.disabled_at) throw accountDisabled().withAudit({}, organisationId);
  }
}

/** The new password; the person is active from now, and no other link of theirs still opens anything. */
async function setPassword(change: Change, userId: string, passwordHash: string) {
  await change.db
    .updateTable('users')
    .set((eb) => ({
      password_hash: passwordHash,
      updated_at: change.now,
      activated_at: eb.fn.coalesce('activated_at', eb.val(change.now)),
    }))
    .where('id', '=', userId)
    .execute();
  await retireTokens(change.db, [userId], change.now);
}

/** Requests the worker takes at a time. */
const REQUEST_BATCH = 50;

/**
 * The password resets asked for, as the notification worker handles them on each pass: each
 * request is claimed (deleted) and every account using its email that may sign in, one per
 * organisation, gets its own link (valid one hour, replacing an earlier one) in an email naming
 * its organisation, at most `RESETS_PER_HOUR` per account and hour. A request the worker reaches
 * more than an hour late is dropped: the person has asked again, or given up. Answers how many
 * requests it handled. A worker that dies after claiming a request loses it (it is asked again).
 */
export async function handleResetRequests(
  database: Database,
  key: Buffer,
  now: Date,
): Promise<number> {
  let handled = 0;
  for (;;) {
    const due = database.db
      .selectFrom('password_reset_requests')
      .select('id')
      .orderBy('requested_at')
      .orderBy('id')
      .limit(REQUEST_BATCH);
    const claimed = await database.db
      .deleteFrom('password_reset_requests')
      .where('id', 'in', database.engine === 'postgres' ? due.forUpdate().skipLocked() : due)
      .returningAll()
      .execute();
    const stale = addMs(now.toISOString(), -3_600_000);
    for (const request of claimed)
      if (request.requested_at > stale) await sendResetLinks(database, key, request);
    handled += claimed.length;
    if (claimed.length < REQUEST_BATCH) return handled;
  }
}

async function sendResetLinks(
  database: Database,
  key: Buffer,
  request: { email: string; requested_at: string; ip: string | null; request_id: string | null },
): Promise<void> {
  const accounts = await findSignInAccounts(database.db, request.email);
  for (const account of accounts) {
    if (account.disabled_at) continue;
    if (!(await passwordSignInAllowed(database.db, account.organisation_id))) continue;
    const origin: ChangeOrigin = {
      organisationId: account.organisation_id,
      userId: null,
      ...(request.request_id ? { requestId: request.request_id } : {}),
      ...(request.ip ? { ip: request.ip } : {}),
      via: 'api',
    };
    await runChange(database, origin, async (change) => {
      const since = addMs(change.now, -3_600_000);
      if (
        (await tokensMadeSince(change.db, account.id, 'password_reset', since)) >= RESETS_PER_HOUR
      )
        return;
      const [issued] = await issueTokens(change.db, {
        organisationId: account.organisation_id,
        userIds: [account.id],
        purpose: 'password_reset',
        createdBy: null,
        now: change.now,
      });
      await queueAccountEmails(
        change,
        account.organisation_id,
        [
          {
            userId: account.id,
            address: account.email,
            payload: accountEmailPayload(key, 'password_reset', issued!),
          },
        ],
        request.requested_at,
      );
      change.record({
        action: 'user.password_reset_request',
        targetType: 'user',
        targetId: account.id,
        after: { expiresAt: issued!.expiresAt },
      });
    });
  }
}
