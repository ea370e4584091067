import fastifyRateLimit from '@fastify/rate-limit';
import type { Config } from '../config.ts';
import { HavenError } from '../lib/errors.ts';
import type { HavenApp } from './http.ts';

/**
 * A coarse request-rate limit per client address on the routes anyone may call to sign in or set
 * up (issue 13, item 6): each public route under these prefixes, whoever adds it (sign-in,
 * invitations, password resets, single sign-on), takes at most `max` requests per window from
 * one address, counted in this process's memory (`@fastify/rate-limit`). It bounds the work a
 * flood makes; guessing passwords is bounded by the failure counts in `modules/auth/attempts.ts`.
 */
const RATE_LIMITED_PREFIXES = ['/api/v1/auth/', '/api/v1/setup'];

function rateLimited(url: string): boolean {
  return RATE_LIMITED_PREFIXES.some((prefix) => url.startsWith(prefix));
}

export function tooManyRequests(retryAfter: number): HavenError {
  return new HavenError(
    429,
    'rate_limited',
    'Too many requests',
    `Too many requests from this network address; try again in ${retryAfter} seconds`,
    { retryAfter },
  );
}

/** Registers the limit; call before any route is added. `max` 0 turns it off. */
export async function registerRateLimit(app: HavenApp, limits: Config['rateLimit']) {
  if (limits.max === 0) return;
  // Added before the plugin's own onRoute hook, which reads `config.rateLimit`, so it runs first.
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (!access || !('public' in access) || !rateLimited(route.url)) return;
    if (route.config?.rateLimit !== undefined) return;
    route.config = {
      ...route.config,
      rateLimit: { max: limits.max, timeWindow: limits.windowMs },
    };
  });
  await app.register(fastifyRateLimit, {
    global: false,
    // Keyed on `request.ip`, which honours HAVEN_TRUST_PROXY; an IPv6 client by its /64.
    errorResponseBuilder: (_request, context) =>
      tooManyRequests(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
}
