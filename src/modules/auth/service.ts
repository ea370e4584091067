import type { Kysely } from 'kysely';
import { holdsActiveRole } from '../../access/decide.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { HavenError, noRole, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { addMs, nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { findOrganisation, scopeNames } from '../organisations/repository.ts';
import { findUser, findUserByEmail, normaliseEmail } from '../users/repository.ts';
import { presentHeldGrant, presentUser } from '../users/service.ts';
import { decoyPasswordHash, verifyPassword } from './passwords.ts';
import { createSession, endSession } from './sessions.ts';

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

async function recordAttempt(
  db: Kysely<DB>,
  email: string,
  outcome: string,
  now: string,
  ip: string | null,
) {
  await db
    .insertInto('login_attempts')
    .values({ id: newId(), email, at: now, outcome, ip })
    .execute();
}

export class AuthService {
  constructor(
    private readonly database: Database,
    private readonly config: Config,
  ) {}

  /**
   * Signs a user in. Failures are counted per account: after `maxFailures` within the window,
   * every further attempt is refused with 429 (and logged) until the window has passed.
   */
  async login(input: { email: string; password: string }, client: ClientInfo) {
    const db = this.database.db;
    const email = normaliseEmail(input.email);
    const now = nowIso();
    const user = await findUserByEmail(db, email);
    const organisationId = user?.organisation_id ?? null;

    const failures = await db
      .selectFrom('login_attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('email', '=', email)
      .where('outcome', '=', 'failure')
      .where('at', '>', addMs(now, -this.config.login.windowMs))
      .executeTakeFirstOrThrow();
    if (Number(failures.n) >= this.config.login.maxFailures) {
      await recordAttempt(db, email, 'throttled', now, client.ip);
      throw new HavenError(
        429,
        'too_many_attempts',
        'Too many attempts',
        'Too many failed sign-in attempts for this account; try again later',
      ).withAudit({ email }, organisationId);
    }

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
    const session = await runChange(this.database, origin, async (change) => {
      const created = await createSession(change.db, {
        userId: user.id,
        organisationId: user.organisation_id,
        now: change.now,
        limits: this.config.session,
        mfaAt: null,
        ip: client.ip,
        userAgent: client.userAgent,
      });
      await recordAttempt(change.db, email, 'success', change.now, client.ip);
      change.record({
        action: 'auth.login',
        targetType: 'session',
        targetId: created.sessionId,
        meta: { userAgent: client.userAgent?.slice(0, 200) ?? null },
      });
      return created;
    });
    return { session, user: await this.me(principal) };
  }

  async logout(sessionId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      await endSession(change.db, sessionId, change.now, 'logout');
      change.record({ action: 'auth.logout', targetType: 'session', targetId: sessionId });
    });
  }

  /** The caller, with the roles they hold per scope and where each comes from. */
  async me(principal: Principal) {
    const db = this.database.db;
    const [user, organisation, names] = await Promise.all([
      findUser(db, principal.organisationId, principal.userId),
      findOrganisation(db, principal.organisationId),
      scopeNames(db, principal.organisationId),
    ]);
    if (!user || !organisation) throw notFound('User');
    return {
      ...presentUser(user),
      organisation: { id: organisation.id, name: organisation.name },
      roles: principal.grants.map((g) => presentHeldGrant(g, names)),
    };
  }
}
