import type { Kysely, Transaction } from 'kysely';
import {
  canResetTwoFactor,
  loadStaffPlaces,
  requireResetTwoFactor,
  twoFactorResetWithin,
} from '../../access/accounts.ts';
import { requireSomewhere } from '../../access/decide.ts';
import type { Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { DB, UserTotpTable } from '../../db/tables.ts';
import { conflict, HavenError, notFound } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { deriveKey, loadSecretKey } from '../documents/keys.ts';
import { partyName, queueSecurityAlert } from '../notifications/queue.ts';
import { findUser, normaliseEmail } from '../users/repository.ts';
import { claimAttempt, settleAttempt } from './attempts.ts';
import { openSecret, sealSecret } from './secret-seal.ts';
import { type ActiveSession, endUserSessions } from './sessions.ts';
import {
  hashRecoveryCode,
  looksLikeTotp,
  matchTotp,
  newRecoveryCode,
  newTotpSecret,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
  recoveryCodeMatches,
  totpQrCode,
  totpUri,
} from './totp.ts';

export type TotpStatus = 'off' | 'pending' | 'active';

/** A second factor that checked out, not yet spent. */
export type SecondFactor =
  | { kind: 'totp'; timeStep: number }
  | { kind: 'recovery_code'; codeId: string };

/**
 * A wrong or already used code. 401 where the code is the proof of identity (sign-in,
 * step-up, turning TOTP off), so the refusal is audited and counted like a wrong password;
 * 400 at enrolment, where it only shows the authenticator app was not set up right.
 */
export function invalidCode(status: 400 | 401): HavenError {
  return new HavenError(
    status,
    'invalid_code',
    status === 401 ? 'Unauthorized' : 'Invalid code',
    'The two-factor code is not right, or has already been used',
  );
}

function totpNotEnabled(): HavenError {
  return conflict(
    'Two-factor sign-in is not turned on for your account; set it up with POST /api/v1/me/totp',
    'totp_not_enabled',
  );
}

export interface TwoFactorOptions {
  /** The time TOTP codes are checked against, in ms since the epoch (tests move it). */
  clock?: () => number;
}

/** TOTP enrolment, one-time recovery codes and step-up (spec access-model section 4). */
export class TwoFactorService {
  readonly #clock: () => number;
  /** The installation's subkey for sealing TOTP secrets at rest. */
  readonly #key: Buffer;

  constructor(
    private readonly database: Database,
    private readonly config: Config,
    options: TwoFactorOptions = {},
  ) {
    this.#clock = options.clock ?? Date.now;
    this.#key = deriveKey(
      loadSecretKey({ secretKey: config.secretKey, dataDir: config.dataDir }),
      'totp',
    );
  }

  #secretOf(enrolment: Pick<UserTotpTable, 'user_id' | 'secret'>): string {
    return openSecret(this.#key, enrolment.user_id, enrolment.secret);
  }

  async status(userId: string, db: Kysely<DB> = this.database.db): Promise<TotpStatus> {
    const row = await db
      .selectFrom('user_totp')
      .select('confirmed_at')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return 'off';
    return row.confirmed_at ? 'active' : 'pending';
  }

  /** The user's TOTP enrolment if it is active (sign-in then needs a second factor). */
  activeEnrolment(userId: string): Promise<UserTotpTable | undefined> {
    return this.database.db
      .selectFrom('user_totp')
      .selectAll()
      .where('user_id', '=', userId)
      .where('confirmed_at', 'is not', null)
      .executeTakeFirst();
  }

  /**
   * Which second factor `typed` is (a current TOTP code, or an unused recovery code), without
   * spending it; null if it is neither. Spend it with `spend` in the transaction it unlocks.
   */
  async identify(enrolment: UserTotpTable, typed: string): Promise<SecondFactor | null> {
    const code = typed.replace(/\s/g, '');
    if (looksLikeTotp(code)) {
      const step = await matchTotp(
        this.#secretOf(enrolment),
        code,
        this.#clock(),
        enrolment.last_time_step,
      );
      return step === null ? null : { kind: 'totp', timeStep: step };
    }
    const recovery = normaliseRecoveryCode(code);
    if (!recovery) return null;
    const unused = await this.database.db
      .selectFrom('totp_recovery_codes')
      .select(['id', 'salt', 'code_hash'])
      .where('user_id', '=', enrolment.user_id)
      .where('used_at', 'is', null)
      .execute();
    const match = unused.find((c) => recoveryCodeMatches(recovery, c.salt, c.code_hash));
    return match ? { kind: 'recovery_code', codeId: match.id } : null;
  }

  /**
   * Spends a second factor: moves the last accepted time step on, or marks the recovery code
   * used. False if a concurrent request spent it first, so no code opens two sessions.
   */
  async spend(
    trx: Transaction<DB>,
    userId: string,
    factor: SecondFactor,
    now: string,
  ): Promise<boolean> {
    const result =
      factor.kind === 'totp'
        ? await trx
            .updateTable('user_totp')
            .set({ last_time_step: factor.timeStep })
            .where('user_id', '=', userId)
            .where('confirmed_at', 'is not', null)
            .where((eb) =>
              eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', factor.timeStep)]),
            )
            .executeTakeFirst()
        : await trx
            .updateTable('totp_recovery_codes')
            .set({ used_at: now })
            .where('id', '=', factor.codeId)
            .where('user_id', '=', userId)
            .where('used_at', 'is', null)
            .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Starts, or restarts, a pending enrolment with a new secret. 409 once TOTP is active. */
  async startEnrolment(session: ActiveSession, origin: ChangeOrigin) {
    const secret = newTotpSecret();
    const sealed = sealSecret(this.#key, session.userId, secret);
    await runChange(this.database, origin, async (change) => {
      const existing = await change.db
        .selectFrom('user_totp')
        .select('confirmed_at')
        .where('user_id', '=', session.userId)
        .executeTakeFirst();
      if (existing?.confirmed_at) {
        throw conflict('Two-factor sign-in is already on for your account');
      }
      if (existing) {
        await change.db
          .updateTable('user_totp')
          .set({ secret: sealed, created_at: change.now, last_time_step: null })
          .where('user_id', '=', session.userId)
          .execute();
      } else {
        await change.db
          .insertInto('user_totp')
          .values({
            user_id: session.userId,
            organisation_id: session.organisationId,
            secret: sealed,
            created_at: change.now,
            confirmed_at: null,
            last_time_step: null,
          })
          .execute();
      }
      // The secret itself is never written to the audit log.
      change.record({
        action: 'auth.totp.enrolment_started',
        targetType: 'user',
        targetId: session.userId,
        meta: { restarted: existing !== undefined },
      });
    });
    const otpauthUri = totpUri(secret, session.user.email);
    return { secret, otpauthUri, qrCode: await totpQrCode(otpauthUri) };
  }

  /**
   * Activates a pending enrolment with a code from the app, and answers the one-time recovery
   * codes (shown this once; only their hashes are kept). The code also counts as this
   * session's step-up, and cannot be used again at sign-in.
   */
  async confirm(session: ActiveSession, code: string, origin: ChangeOrigin) {
    return runChange(this.database, origin, async (change) => {
      const enrolment = await change.db
        .selectFrom('user_totp')
        .selectAll()
        .where('user_id', '=', session.userId)
        .executeTakeFirst();
      if (!enrolment) {
        throw conflict('Start setting up two-factor sign-in first with POST /api/v1/me/totp');
      }
      if (enrolment.confirmed_at) {
        throw conflict('Two-factor sign-in is already on for your account');
      }
      const step = await matchTotp(this.#secretOf(enrolment), code, this.#clock(), null);
      if (step === null) throw invalidCode(400);

      await change.db
        .updateTable('user_totp')
        .set({ confirmed_at: change.now, last_time_step: step })
        .where('user_id', '=', session.userId)
        .execute();
      await change.db
        .deleteFrom('totp_recovery_codes')
        .where('user_id', '=', session.userId)
        .execute();
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
      await change.db
        .insertInto('totp_recovery_codes')
        .values(
          recoveryCodes.map((c) => {
            const { salt, codeHash } = hashRecoveryCode(c);
            return {
              id: newId(),
              organisation_id: session.organisationId,
              user_id: session.userId,
              salt,
              code_hash: codeHash,
              created_at: change.now,
              used_at: null,
            };
          }),
        )
        .execute();
      await setSessionMfa(change.db, session.sessionId, change.now);
      change.record({
        action: 'auth.totp.enabled',
        targetType: 'user',
        targetId: session.userId,
        meta: { recoveryCodes: recoveryCodes.length, sessionId: session.sessionId },
      });
      return { recoveryCodes };
    });
  }

  /** Marks this session as having passed TOTP now. Wrong or reused codes count as failures. */
  async stepUp(session: ActiveSession, code: string, origin: ChangeOrigin) {
    const { enrolment, attempt } = await this.#checkedEnrolment(session, origin);
    const factor = await this.identify(enrolment, code);
    const mfaAt =
      factor &&
      (await runChange(this.database, origin, async (change) => {
        if (!(await this.spend(change.db, session.userId, factor, change.now))) return null;
        await setSessionMfa(change.db, session.sessionId, change.now);
        change.record({
          action: 'auth.step_up',
          targetType: 'session',
          targetId: session.sessionId,
          meta: { secondFactor: factor.kind },
        });
        return change.now;
      }));
    if (!mfaAt) return this.#refuseCode(attempt);
    await settleAttempt(this.database.db, attempt, 'code_ok');
    return { mfaAt };
  }

  /** Turns TOTP off with a current code or a recovery code; the recovery codes go with it. */
  async disable(session: ActiveSession, code: string, origin: ChangeOrigin): Promise<void> {
    const { enrolment, attempt } = await this.#checkedEnrolment(session, origin);
    const factor = await this.identify(enrolment, code);
    const done =
      factor &&
      (await runChange(this.database, origin, async (change) => {
        if (!(await this.spend(change.db, session.userId, factor, change.now))) return false;
        await change.db
          .deleteFrom('totp_recovery_codes')
          .where('user_id', '=', session.userId)
          .execute();
        await change.db.deleteFrom('user_totp').where('user_id', '=', session.userId).execute();
        change.record({
          action: 'auth.totp.disabled',
          targetType: 'user',
          targetId: session.userId,
          meta: { secondFactor: factor.kind },
        });
        return true;
      }));
    if (!done) await this.#refuseCode(attempt);
    await settleAttempt(this.database.db, attempt, 'code_ok');
  }

  /**
   * Another person's two-factor sign-in as the caller sees it (`GET /users/:id/totp`): whether it
   * is on, and whether the caller may reset it (`src/access/accounts.ts`), for the web app to
   * offer the reset only where it would be allowed. 404 for a user of another organisation.
   */
  async standingOf(principal: Principal, userId: string) {
    requireSomewhere(principal, 'users.mfa.reset');
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, userId);
    if (!user) throw notFound('User');
    const [status, staff] = await Promise.all([
      this.status(userId),
      loadStaffPlaces(db, principal.organisationId, userId),
    ]);
    return {
      status,
      abilities: { reset: status === 'active' && canResetTwoFactor(principal, staff) },
    };
  }

  /**
   * Resets another person's two-factor sign-in (a lost or stolen phone): their enrolment and
   * recovery codes are deleted and every session of theirs ends, in one change with its audit
   * row and a security alert to the Owners and DSLs over where they hold roles. They then sign
   * in with their password alone, and are held to enrolment again where their school asks. Who
   * may: `requireResetTwoFactor`. 409 `totp_not_enabled` when it is not on.
   */
  async resetFor(principal: Principal, userId: string, origin: ChangeOrigin): Promise<void> {
    requireSomewhere(principal, 'users.mfa.reset');
    const organisationId = principal.organisationId;
    await runChange(this.database, origin, async (change) => {
      const user = await findUser(change.db, organisationId, userId);
      if (!user) throw notFound('User');
      const staff = await loadStaffPlaces(change.db, organisationId, userId);
      requireResetTwoFactor(principal, staff);
      if ((await this.status(userId, change.db)) !== 'active') {
        throw conflict(`${user.name} has no two-factor sign-in to reset`, 'totp_not_enabled');
      }
      const codes = await change.db
        .deleteFrom('totp_recovery_codes')
        .where('user_id', '=', userId)
        .executeTakeFirst();
      await change.db.deleteFrom('user_totp').where('user_id', '=', userId).execute();
      // A lost or stolen phone: assume whoever holds it has signed in too.
      const sessionsEnded = await endUserSessions(change.db, userId, change.now, 'totp_reset');
      change.record({
        action: 'user.totp_reset',
        targetType: 'user',
        targetId: userId,
        before: { totpStatus: 'active' },
        after: { totpStatus: 'off' },
        meta: { sessionsEnded, recoveryCodesDeleted: Number(codes.numDeletedRows) },
      });
      const actor = await partyName(change, organisationId, {
        type: 'user',
        id: principal.userId,
      });
      await queueSecurityAlert(
        change,
        organisationId,
        twoFactorResetWithin(principal, staff),
        `${actor} reset the two-factor sign-in of ${user.name}: their sessions were ended, and they sign in with their password alone until they set it up again.`,
        // They are told too: a reset they did not ask for is someone taking over their account.
        [user.id],
      );
    });
  }

  /** The caller's active enrolment, and the code check claimed against the sign-in throttle. */
  async #checkedEnrolment(session: ActiveSession, origin: ChangeOrigin) {
    const enrolment = await this.activeEnrolment(session.userId);
    if (!enrolment) throw totpNotEnabled();
    const attempt = await claimAttempt(this.database, this.config.login, {
      email: normaliseEmail(session.user.email),
      now: nowIso(),
      ip: origin.ip ?? null,
      organisationId: session.organisationId,
    });
    return { enrolment, attempt };
  }

  async #refuseCode(attempt: string): Promise<never> {
    await settleAttempt(this.database.db, attempt, 'invalid_code');
    throw invalidCode(401);
  }
}

async function setSessionMfa(db: Kysely<DB> | Transaction<DB>, sessionId: string, now: string) {
  await db.updateTable('sessions').set({ mfa_at: now }).where('id', '=', sessionId).execute();
}
