import type { FastifyReply, FastifyRequest } from 'fastify';
import { Callers } from '../access/callers.ts';
import { holdsActiveRole, requireSomewhere } from '../access/decide.ts';
import { enrolmentRequiredError, reachableWhileEnrolling } from '../access/enrolment.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { HavenError, noRole, unauthorized } from '../lib/errors.ts';
import { nowIso } from '../lib/time.ts';
import { findActiveSession, touchSession } from '../modules/auth/sessions.ts';
import { authenticateScim } from '../modules/scim/tokens.ts';
import type { HavenApp } from './http.ts';

export const SESSION_COOKIE = 'haven_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

export function cookieOptions(config: Config, request: FastifyRequest) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: config.cookieSecure === 'auto' ? request.protocol === 'https' : config.cookieSecure,
  };
}

/** The SCIM service's routes (`src/modules/scim`): a SCIM token, never a session. */
const SCIM_PREFIX = '/scim/';

/**
 * Deny by default: every route under /api/v1 must declare its access, every route under /scim/
 * must declare `scim` (and only those may), and each request is authenticated and gated here
 * before validation or the handler runs.
 */
export function registerAuthentication(app: HavenApp, database: Database, config: Config) {
  app.decorateRequest('auth', null);
  // Callers kept by session while their organisation's access epoch holds (src/access/callers.ts).
  const callers = new Callers(database.db);
  app.decorateRequest('scim', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/v1/') && !route.config?.access) {
      throw new Error(`Route ${route.method} ${route.url} does not declare its access`);
    }
    const underScim = route.url.startsWith(SCIM_PREFIX);
    if (underScim !== Boolean(route.config?.scim) || (underScim && route.config?.access)) {
      throw new Error(
        `Route ${route.method} ${route.url}: routes under ${SCIM_PREFIX} declare config.scim (SCIM token), and only they`,
      );
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    request.auth = null;
    request.scim = null;
    if (request.routeOptions.config?.scim) {
      request.scim = await authenticateScim(database.db, request);
      return;
    }
    const access = request.routeOptions.config?.access;
    if (!access || 'public' in access) return;

    const bearer = bearerToken(request);
    const token = bearer ?? request.cookies[SESSION_COOKIE] ?? null;
    if (!token) throw unauthorized();

    const now = nowIso();
    const session = await findActiveSession(database.db, token, now, config.session);
    if (!session) throw unauthorized('Your session has ended or is not valid; sign in again');

    const caller = await callers.of(session);
    const { principal } = caller;
    request.auth = { principal, session, caller, viaCookie: bearer === null };
    if (!holdsActiveRole(principal)) throw noRole();

    if (request.auth.viaCookie && !SAFE_METHODS.has(request.method)) {
      if (request.headers[CSRF_HEADER] !== session.csrfToken) {
        throw new HavenError(
          403,
          'csrf_failed',
          'Forbidden',
          `Requests signed in by cookie must send the ${CSRF_HEADER} header from sign-in`,
        );
      }
    }
    // Where a school asks for two-factor enrolment, nothing else until it is done.
    if (
      caller.mfaEnrolmentRequired &&
      !reachableWhileEnrolling(request.method, request.routeOptions.url ?? '')
    )
      throw enrolmentRequiredError();
    if ('permission' in access) requireSomewhere(principal, access.permission);
    await touchSession(database.db, session, now);
  });
}
