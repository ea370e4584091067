import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { runPrepared } from '../../db/prepared.ts';
import { sqlTrue } from '../../db/sql.ts';
import type { DB } from '../../db/tables.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { addMs } from '../../lib/time.ts';
import type { PresentableUser } from '../users/service.ts';

/** Only a hash of a session token is stored, so a copy of the database opens no sessions. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface SessionLimits {
  idleMs: number;
  absoluteMs: number;
}

export interface NewSession {
  sessionId: string;
  token: string;
  csrfToken: string;
  expiresAt: string;
}

export async function createSession(
  db: Kysely<DB> | Transaction<DB>,
  input: {
    userId: string;
    organisationId: string;
    now: string;
    limits: SessionLimits;
    mfaAt: string | null;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<NewSession> {
  const token = newSecret();
  const csrfToken = newSecret();
  const sessionId = newId();
  const expiresAt = addMs(input.now, input.limits.absoluteMs);
  await db
    .insertInto('sessions')
    .values({
      id: sessionId,
      token_hash: tokenHash(token),
      user_id: input.userId,
      organisation_id: input.organisationId,
      csrf_token: csrfToken,
      created_at: input.now,
      last_seen_at: input.now,
      expires_at: expiresAt,
      mfa_at: input.mfaAt,
      ended_at: null,
      end_reason: null,
      ip: input.ip,
      user_agent: input.userAgent?.slice(0, 500) ?? null,
    })
    .execute();
  // Whatever the way in (password, invitation, single sign-on): the person is active from their
  // first sign-in, and the access audit reads when they were last in.
  await db
    .updateTable('users')
    .set((eb) => ({
      last_sign_in_at: input.now,
      activated_at: eb.fn.coalesce('activated_at', eb.val(input.now)),
    }))
    .where('id', '=', input.userId)
    .execute();
  return { sessionId, token, csrfToken, expiresAt };
}

export interface ActiveSession {
  sessionId: string;
  userId: string;
  organisationId: string;
  csrfToken: string;
  mfaAt: string | null;
  lastSeenAt: string;
  /** The user has confirmed two-factor sign-in (TOTP). */
  totpActive: boolean;
  /** The user's row as `GET /me` presents it, read with the session. */
  user: SessionUser;
  /** The organisation's access epoch (`src/access/callers.ts`); null if it has none yet. */
  accessEpoch: string | null;
}

export type SessionUser = PresentableUser;

/**
 * The live session for a token, or null. A session is live while it has not been ended,
 * its absolute limit has not passed, it has been used within the idle limit, and its user
 * is neither disabled nor removed. Read on every request: one statement, compiled once.
 */
export async function findActiveSession(
  db: Kysely<DB>,
  token: string,
  now: string,
  limits: SessionLimits,
): Promise<ActiveSession | null> {
  const [row] = await runPrepared(
    db,
    'sessions.active',
    (p) =>
      db
        .selectFrom('sessions as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select([
          's.id',
          's.user_id',
          's.organisation_id',
          's.csrf_token',
          's.mfa_at',
          's.last_seen_at',
          'u.name',
          'u.email',
          'u.created_at',
          'u.updated_at',
          'u.disabled_at',
          'u.activated_at',
          'u.last_sign_in_at',
        ])
        .select((eb) => [
          eb
            .exists(
              eb
                .selectFrom('user_totp as t')
                .select('t.user_id')
                .whereRef('t.user_id', '=', 's.user_id')
                .where('t.confirmed_at', 'is not', null),
            )
            .as('totp_active'),
          eb
            .selectFrom('access_epochs as e')
            .select('e.epoch')
            .whereRef('e.organisation_id', '=', 's.organisation_id')
            .as('access_epoch'),
        ])
        .where('s.token_hash', '=', p.value('token'))
        .where('s.ended_at', 'is', null)
        .where('s.expires_at', '>', p.value('now'))
        .where('s.last_seen_at', '>', p.value('idleSince'))
        .where('u.disabled_at', 'is', null)
        .where('u.removed_at', 'is', null),
    { token: tokenHash(token), now, idleSince: addMs(now, -limits.idleMs) },
  );
  if (!row) return null;
  return {
    sessionId: row.id,
    userId: row.user_id,
    organisationId: row.organisation_id,
    csrfToken: row.csrf_token,
    mfaAt: row.mfa_at,
    lastSeenAt: row.last_seen_at,
    totpActive: sqlTrue(row.totp_active),
    user: {
      id: row.user_id,
      email: row.email,
      name: row.name,
      created_at: row.created_at,
      updated_at: row.updated_at,
      disabled_at: row.disabled_at,
      activated_at: row.activated_at,
      last_sign_in_at: row.last_sign_in_at,
    },
    accessEpoch: row.access_epoch === null ? null : String(row.access_epoch),
  };
}

/** Records use of a session; written at most once a minute per session to spare the database. */
export async function touchSession(db: Kysely<DB>, session: ActiveSession, now: string) {
  if (Date.parse(now) - Date.parse(session.lastSeenAt) < 60_000) return;
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now })
    .where('id', '=', session.sessionId)
    .execute();
}

export async function endSession(
  db: Kysely<DB> | Transaction<DB>,
  sessionId: string,
  now: string,
  reason: string,
) {
  await db
    .updateTable('sessions')
    .set({ ended_at: now, end_reason: reason })
    .where('id', '=', sessionId)
    .where('ended_at', 'is', null)
    .execute();
}

/** Ends every open session of a user at once (disabled, removed, password changed). */
export async function endUserSessions(
  db: Kysely<DB> | Transaction<DB>,
  userId: string,
  now: string,
  reason: string,
  exceptSessionId?: string,
): Promise<number> {
  let query = db
    .updateTable('sessions')
    .set({ ended_at: now, end_reason: reason })
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null);
  if (exceptSessionId) query = query.where('id', '<>', exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
