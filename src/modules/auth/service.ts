import { type Caller, derived } from '../../access/callers.ts';
import { abilitiesOf, holdsActiveRole } from '../../access/decide.ts';
import { enrolmentRequired } from '../../access/enrolment.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { HavenError, noRole, notFound } from '../../lib/errors.ts';
import { nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { findOrganisation, scopeNames } from '../organisations/repository.ts';
import { passwordSignInAllowed, passwordSignInOff } from '../sso/password-sign-in.ts';
import { findSignInAccounts, findUser, normaliseEmail } from '../users/repository.ts';
import { presentHeldGrant, presentUser } from '../users/service.ts';
import { claimAttempt, settleAttempt } from './attempts.ts';
import { decoyPasswordHash, verifyPassword } from './passwords.ts';
import { endSession, type SessionUser } from './sessions.ts';
import { openSignedInSession } from './sign-in.ts';
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

/** The password is right in more than one organisation: only those are named, for the caller to pick. */
function chooseOrganisation(accounts: { organisation_id: string; organisation_name: string }[]) {
  return new HavenError(
    409,
    'choose_organisation',
    'Choose an organisation',
    'This email and password sign in to more than one organisation: send `organisationId`, one of `organisations`',
    { organisations: accounts.map((a) => ({ id: a.organisation_id, name: a.organisation_name })) },
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

/**
 * The accounts whose password this is. Every account is verified (in parallel), and a decoy
 * hash when there is none or it has no password, so timing does not tell an unknown email from
 * a wrong password.
 */
async function passwordMatches<A extends { password_hash: string | null }>(
  accounts: A[],
  password: string,
): Promise<A[]> {
  const decoy = await decoyPasswordHash();
  if (accounts.length === 0) {
    await verifyPassword(decoy, password);
    return [];
  }
  const verified = await Promise.all(
    accounts.map((a) => verifyPassword(a.password_hash ?? decoy, password)),
  );
  return accounts.filter((a, i) => a.password_hash !== null && verified[i]);
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
   * per email and per client address, and each check is claimed against those counts before the
   * password is verified: after `maxFailures` for the email, or `maxFailuresPerAddress` from the
   * address, within the window, every further attempt is refused with 429 (logged, with
   * `Retry-After`) until the window has passed, however many arrive at once. With TOTP on, `totp` (a
   * current code or a recovery code) is needed too, and the new session counts as having passed
   * TOTP.
   *
   * An email may hold an account in several organisations: the password is tried against each
   * (or only the one in `organisationId`), and when it is right for more than one the answer is
   * 409 `choose_organisation`, naming just those, for the caller to send again with one.
   */
  async login(
    input: { email: string; password: string; totp?: string; organisationId?: string },
    client: ClientInfo,
  ) {
    const db = this.database.db;
    const email = normaliseEmail(input.email);
    const now = nowIso();
    const accounts = await findSignInAccounts(db, email, input.organisationId);
    // A refusal before the password is known to be right is audited in the account's own
    // organisation when there is one account to speak of, otherwise on the installation's chain.
    const claimedFor = accounts.length === 1 ? accounts[0]!.organisation_id : null;

    const attempt = await claimAttempt(this.database, this.config.login, {
      email,
      now,
      ip: client.ip,
      organisationId: claimedFor,
    });

    const matched = await passwordMatches(accounts, input.password);
    if (matched.length > 1) {
      await settleAttempt(db, attempt, 'choose_organisation');
      throw chooseOrganisation(matched);
    }
    const user = matched[0];
    if (!user) {
      await settleAttempt(db, attempt, 'failure');
      throw invalidCredentials().withAudit({ email }, claimedFor);
    }
    const organisationId = user.organisation_id;
    if (user.disabled_at) {
      await settleAttempt(db, attempt, 'disabled');
      throw new HavenError(
        403,
        'account_disabled',
        'Account disabled',
        'This account has been disabled',
      ).withAudit({ email }, organisationId);
    }
    if (!(await passwordSignInAllowed(db, organisationId))) {
      await settleAttempt(db, attempt, 'password_sign_in_off');
      throw passwordSignInOff().withAudit({ email }, organisationId);
    }
    const enrolment = await this.twoFactor.activeEnrolment(user.id);
    let secondFactor: SecondFactor | null = null;
    if (enrolment) {
      const typed = input.totp?.trim() ?? '';
      if (!typed) {
        await settleAttempt(db, attempt, 'totp_required');
        throw totpRequired().withAudit({ email }, organisationId);
      }
      secondFactor = await this.twoFactor.identify(enrolment, typed);
      if (!secondFactor) {
        await settleAttempt(db, attempt, 'invalid_code');
        throw invalidCode(401).withAudit({ email }, organisationId);
      }
    }
    const principal = await loadPrincipal(db, user.organisation_id, user.id);
    if (!holdsActiveRole(principal)) {
      await settleAttempt(db, attempt, 'no_role');
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
      const created = await openSignedInSession(change, {
        userId: user.id,
        organisationId: user.organisation_id,
        limits: this.config.session,
        mfaAt,
        client,
        method: 'password',
        meta: { secondFactor: secondFactor?.kind ?? null },
      });
      await settleAttempt(change.db, attempt, 'success');
      return { session: created, mfaAt };
    });
    if (!signedIn) {
      await settleAttempt(db, attempt, 'invalid_code');
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
   * on, when this session last passed it (`mfaAt`, null if never), and whether they must enrol
   * two-factor sign-in before anything else (`mfaEnrolmentRequired`: the answer the request's
   * authentication already reached, when the caller passes it; asked here otherwise).
   */
  /**
   * `GET /me`'s answer. With the request's kept caller (`src/access/callers.ts`) the parts that
   * rest on the caller's data alone (organisation, scope names, roles, abilities, two-factor
   * status) are worked out once per kept caller, and the user's row is the one read with the
   * session; the session's own step-up time is always current.
   */
  async me(
    principal: Principal,
    mfaAt: string | null,
    known?: { caller: Caller; user: SessionUser },
  ) {
    const db = this.database.db;
    const standing = async () => {
      const [organisation, names, totpStatus] = await Promise.all([
        findOrganisation(db, principal.organisationId),
        scopeNames(db, principal.organisationId),
        this.twoFactor.status(principal.userId),
      ]);
      if (!organisation) throw notFound('User');
      return {
        organisation: { id: organisation.id, name: organisation.name },
        roles: principal.grants.map((g) => presentHeldGrant(g, names)),
        abilities: abilitiesOf(principal),
        totpStatus,
      };
    };
    const [user, parts] = await Promise.all([
      known ? known.user : findUser(db, principal.organisationId, principal.userId),
      known ? derived(known.caller, 'me', standing) : standing(),
    ]);
    if (!user) throw notFound('User');
    return {
      ...presentUser(user),
      ...parts,
      mfaAt,
      mfaEnrolmentRequired:
        known?.caller.mfaEnrolmentRequired ??
        (await enrolmentRequired(db, principal, parts.totpStatus === 'active')),
    };
  }
}
