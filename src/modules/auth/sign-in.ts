import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.ts';
import { cookieOptions, SESSION_COOKIE } from '../../server/authenticate.ts';
import type { Change } from '../audit/change.ts';
import type { ClientInfo } from './service.ts';
import { createSession, type NewSession, type SessionLimits } from './sessions.ts';

/**
 * Signing a person in once they have proved who they are, whatever the proof (a password, an
 * invitation link, single sign-on): the session is made in the change that accepted the proof,
 * and audited there as `auth.login` with how they came in. The answer is the one of
 * `POST /auth/login`: `setSessionCookie` and `signedInAnswer`.
 */
export async function openSignedInSession(
  change: Change,
  input: {
    userId: string;
    organisationId: string;
    limits: SessionLimits;
    /** When this sign-in passed a second factor (null: it did not). */
    mfaAt: string | null;
    client: ClientInfo;
    /** How they proved it, for the audit row (`password`, `invitation`, `sso`). */
    method: string;
    meta?: Record<string, unknown>;
  },
): Promise<NewSession> {
  const created = await createSession(change.db, {
    userId: input.userId,
    organisationId: input.organisationId,
    now: change.now,
    limits: input.limits,
    mfaAt: input.mfaAt,
    ip: input.client.ip,
    userAgent: input.client.userAgent,
  });
  change.record({
    action: 'auth.login',
    targetType: 'session',
    targetId: created.sessionId,
    meta: {
      userAgent: input.client.userAgent?.slice(0, 200) ?? null,
      method: input.method,
      ...input.meta,
    },
  });
  return created;
}

/** The HttpOnly session cookie, as `POST /auth/login` sets it. */
export function setSessionCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  config: Config,
  session: NewSession,
): void {
  reply.setCookie(SESSION_COOKIE, session.token, {
    ...cookieOptions(config, request),
    expires: new Date(session.expiresAt),
  });
}

/** The body of a sign-in's answer (`POST /auth/login`): the bearer token, CSRF token and `me`. */
export function signedInAnswer<U extends { mfaEnrolmentRequired: boolean }>(
  session: NewSession,
  user: U,
) {
  return {
    token: session.token,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt,
    user,
    mfaEnrolmentRequired: user.mfaEnrolmentRequired,
  };
}
