import { abilitiesOf, holdsActiveRole } from '../../access/decide.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { HavenError, noRole, notFound } from '../../lib/errors.ts';
import { nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { findOrganisation, scopeNames } from '../organisations/repository.ts';
import { findUser, findUserByEmail, normaliseEmail } from '../users/repository.ts';
import { presentHeldGrant, presentUser } from '../users/service.ts';
import { recordAttempt, refuseIfThrottled } from './attempts.ts';
import { decoyPasswordHash, verifyPassword } from './passwords.ts';
import { createSession, endSession } from './sessions.ts';
import {
  invalidCode,
  type SecondFactor,
  type TwoFactorOptions,
  TwoFactorService,
} from './two-factor.ts';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

function invalidCredentials(): HavenError {
  return new HavenError(
    401,
    'invalid_credentials',
    'Unauthorized',
    'The email or password is not right',
  );
}

function totpRequired(): HavenError {
  return new HavenError(
    401,
    'totp_required',
    'Two-factor code needed',
    'Send `totp`: the 6-digit code from your authenticator app, or one of your recovery codes',
  );
}

export class AuthService {
  readonly twoFactor: TwoFactorService;

  constructor(
    private readonly database: Database,
    private readonly config: Config,
    options: TwoFactorOptions = {},
  ) {
    this.twoFactor = new TwoFactorService(database, config, options);
  }

  /**
   * Signs a user in. Failures (wrong passwords, wrong or reused two-factor codes) are counted
   * per account: after `maxFailures` within the window, every further attempt is refused with
   * 429 (and logged) until the window has passed. With TOTP on, `totp` (a current code or a
   * recovery code) is needed too, and the new session counts as having passed TOTP.
   */
  async login(input: { email: string; password: string; totp?: string }, client: ClientInfo) {
    const db = this.database.db;
    const email = normaliseEmail(input.email);
    const now = nowIso();
    const user = await findUserByEmail(db, email);
    const organisationId = user?.organisation_id ?? null;

    await refuseIfThrottled(db, this.config.login, { email, now, ip: client.ip, organisationId });

    // Without an account, a decoy hash is verified all the same so timing reveals nothing.
    const passwordOk = await verifyPassword(
      user?.password_hash ?? (await decoyPasswordHash()),
      input.password,
    );
    if (!user?.password_hash || !passwordOk || user.removed_at) {
      await recordAttempt(db, email, 'failure', now, client.ip);
      throw invalidCredentials().withAudit({ email }, organisationId);
    }
    if (user.disabled_at) {
      await recordAttempt(db, email, 'disabled', now, client.ip);
      throw new HavenError(
        403,
        'account_disabled',
        'Account disabled',
        'This account has been disabled',
      ).withAudit({ email }, organisationId);
    }
    const enrolment = await this.twoFactor.activeEnrolment(user.id);
    let secondFactor: SecondFactor | null = null;
    if (enrolment) {
      const typed = input.totp?.trim() ?? '';
      if (!typed) {
        await recordAttempt(db, email, 'totp_required', now, client.ip);
        throw totpRequired().withAudit({ email }, organisationId);
      }
      secondFactor = await this.twoFactor.identify(enrolment, typed);
      if (!secondFactor) {
        await recordAttempt(db, email, 'invalid_code', now, client.ip);
        throw invalidCode(401).withAudit({ email }, organisationId);
      }
    }
    const principal = await loadPrincipal(db, user.organisation_id, user.id);
    if (!holdsActiveRole(principal)) {
      await recordAttempt(db, email, 'no_role', now, client.ip);
      throw noRole().withAudit({ email }, organisationId);
    }

    const origin: ChangeOrigin = {
      organisationId: user.organisation_id,
      userId: user.id,
      requestId: client.requestId,
      ...(client.ip ? { ip: client.ip } : {}),
      via: 'api',
    };
    const signedIn = await runChange(this.database, origin, async (change) => {
      // A concurrent sign-in spent the same code first: this one changes nothing.
      if (
        secondFactor &&
        !(await this.twoFactor.spend(change.db, user.id, secondFactor, change.now))
      ) {
        return null;
      }
      const mfaAt = secondFactor ? change.now : null;
      const created = await createSession(change.db, {
        userId: user.id,
        organisationId: user.organisation_id,
        now: change.now,
        limits: this.config.session,
        mfaAt,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      await recordAttempt(change.db, email, 'success', change.now, client.ip);
      change.record({
        action: 'auth.login',
        targetType: 'session',
        targetId: created.sessionId,
        meta: {
          userAgent: client.userAgent?.slice(0, 200) ?? null,
          secondFactor: secondFactor?.kind ?? null,
        },
      });
      return { session: created, mfaAt };
    });
    if (!signedIn) {
      await recordAttempt(db, email, 'invalid_code', now, client.ip);
      throw invalidCode(401).withAudit({ email }, organisationId);
    }
    return { session: signedIn.session, user: await this.me(principal, signedIn.mfaAt) };
  }

  async logout(sessionId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      await endSession(change.db, sessionId, change.now, 'logout');
      change.record({ action: 'auth.logout', targetType: 'session', targetId: sessionId });
    });
  }

  /**
   * The caller, with the roles they hold per scope and where each comes from, whether TOTP is
   * on, and when this session last passed it (`mfaAt`, null if never).
   */
  async me(principal: Principal, mfaAt: string | null) {
    const db = this.database.db;
    const [user, organisation, names, totpStatus] = await Promise.all([
      findUser(db, principal.organisationId, principal.userId),
      findOrganisation(db, principal.organisationId),
      scopeNames(db, principal.organisationId),
      this.twoFactor.status(principal.userId),
    ]);
    if (!user || !organisation) throw notFound('User');
    return {
      ...presentUser(user),
      organisation: { id: organisation.id, name: organisation.name },
      roles: principal.grants.map((g) => presentHeldGrant(g, names)),
      abilities: abilitiesOf(principal),
      totpStatus,
      mfaAt,
    };
  }
}
