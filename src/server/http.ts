import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Caller } from '../access/callers.ts';
import type { Permission } from '../access/permissions.ts';
import type { Principal } from '../access/principal.ts';
import { unauthorized } from '../lib/errors.ts';
import type { ChangeOrigin } from '../modules/audit/change.ts';
import type { ActiveSession } from '../modules/auth/sessions.ts';

/**
 * What a route needs before its handler runs. Every API route must declare one; a route
 * without a declaration is refused when the app is built (fail closed).
 */
export type RouteAccess = { public: true } | { authenticated: true } | { permission: Permission };

export interface AuthContext {
  principal: Principal;
  session: ActiveSession;
  /** The caller as kept for this session (`src/access/callers.ts`): `principal` is its. */
  caller: Caller;
  viaCookie: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export type HavenApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** The signed-in caller; routes that declared access always have one. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}

/** Where a change made through this request comes from, for the audit log. */
export function originOf(request: FastifyRequest): ChangeOrigin {
  return {
    organisationId: request.auth?.principal.organisationId ?? null,
    userId: request.auth?.principal.userId ?? null,
    requestId: request.id,
    ip: request.ip,
    via: 'api',
  };
}
