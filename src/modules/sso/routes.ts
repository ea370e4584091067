import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { id } from '../../lib/schemas.ts';
import { cookieOptions } from '../../server/authenticate.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import type { ClientInfo } from '../auth/service.ts';
import { setSessionCookie } from '../auth/sign-in.ts';
import { DOMAIN, SSO_PROVIDER_KINDS } from './presets.ts';
import { callbackPath, MAX_PROVIDERS, type SsoService } from './service.ts';

/** The browser's half of a sign-in under way: sent back only to the callback. */
export const SSO_COOKIE = 'haven_sso';

const providerSchema = z.object({
  id,
  kind: z.enum(SSO_PROVIDER_KINDS),
  label: z.string().nullable(),
  tenantId: z.string().nullable(),
  issuer: z.string(),
  clientId: z.string(),
  /** The secret itself is never answered. */
  clientSecretSet: z.literal(true),
  allowedDomains: z.array(z.string()),
  /** Where the sign-in button points. */
  startUrl: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A provider as its Owner sees it: with the redirect URI to register at the provider, its own. */
const configuredProviderSchema = providerSchema.extend({ redirectUri: z.string() });

const settingsFields = {
  passwordSignIn: z.boolean(),
  createAccounts: z.boolean(),
  acceptProviderMfa: z.boolean(),
};

const configurationSchema = z.object({
  providers: z.array(configuredProviderSchema),
  ...settingsFields,
});

const domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(DOMAIN, 'must be a domain such as school.org.uk');

const providerInput = z
  .object({
    id: id.optional(),
    kind: z.enum(SSO_PROVIDER_KINDS),
    label: z.string().trim().min(1).max(60).nullable().optional(),
    // Null as the GET answers it for a provider that has none.
    tenantId: z.string().trim().max(64).nullable().optional(),
    issuer: z.string().trim().max(500).optional(),
    clientId: z.string().trim().min(1).max(255),
    clientSecret: z.string().min(1).max(2000).optional(),
    allowedDomains: z.array(domain).min(1, 'name at least one domain').max(50),
  })
  .strict();

const configurationInput = z
  .object({ providers: z.array(providerInput).max(MAX_PROVIDERS), ...settingsFields })
  .strict();

const redirect = z.undefined().describe('A redirect (302, `Location`)');

function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function clientOf(request: FastifyRequest): ClientInfo {
  return {
    ip: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
    requestId: request.id,
  };
}

/**
 * A refused start or callback is answered as every refusal is (and audited by the error
 * handler), then turned here into a redirect to the web app's sign-in page, which says why:
 * `/sign-in?sso_error=<code>`, the code of the refusal when it is single sign-on's own.
 */
async function toSignInPage(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if (reply.statusCode < 400) return payload;
  let code = 'sso_failed';
  try {
    const problem = JSON.parse(String(payload)) as { code?: unknown };
    if (typeof problem.code === 'string' && problem.code.startsWith('sso_')) code = problem.code;
    else if (problem.code === 'rate_limited') code = 'sso_rate_limited';
  } catch {
    // Not a problem document: the generic code.
  }
  reply.code(302);
  reply.removeHeader('content-type');
  reply.header('location', `/sign-in?sso_error=${encodeURIComponent(code)}`);
  return '';
}

export function ssoRoutes(app: HavenApp, sso: SsoService, config: Config) {
  app.get('/api/v1/organisation/sso', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: 'Single sign-on: the providers and switches (Owner)',
      description:
        'The client secrets are never answered (`clientSecretSet: true`). Each provider’s `redirectUri` is what to register at it: every provider has its own (`/api/v1/auth/oidc/<providerId>/callback`), so an answer is taken only for the provider it was asked of.',
      response: { 200: configurationSchema },
    },
    handler: (request) => sso.configuration(authOf(request).principal, requestOrigin(request)),
  });

  app.put('/api/v1/organisation/sso', {
    config: { access: { permission: 'organisation.update' } },
    schema: {
      tags: ['organisation'],
      summary: 'Replace the single sign-on providers and switches (Owner)',
      description:
        "Each provider: `kind` `microsoft` (send `tenantId`, the directory id, and Haven uses `https://login.microsoftonline.com/<tenantId>/v2.0`; or the whole `issuer`), `google` (`https://accounts.google.com`) or `oidc` (any `issuer`, https); `clientId`; `clientSecret`, needed for a new provider and kept when left out for an existing one (sent with its `id`; an id that is not one of this organisation's providers answers 404); `allowedDomains`, the email domains it may sign in (lower case); an optional `label` for the button. Providers left out are removed, with the sign-ins linked to them; changing a provider's issuer or client id forgets its links too. Switches: `passwordSignIn` (false: `POST /auth/login` answers 403 `password_sign_in_off` for this organisation's accounts, once the password is right; turning it off is refused with 409 `sso_not_proven` unless the caller has signed in through one of the providers, kept as they are), `createAccounts` (a person with a verified address in an allowed domain and no account gets one, as a Member who still needs a role), `acceptProviderMfa` (a sign-in whose ID token says it was multi-factor, `amr`, counts as a passed two-factor check at that moment). Answers as the GET.",
      body: configurationInput,
      response: { 200: configurationSchema },
    },
    handler: (request) =>
      sso.replace(
        authOf(request).principal,
        request.body,
        originOf(request),
        requestOrigin(request),
      ),
  });

  app.get('/api/v1/auth/sso-providers', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'The single sign-on buttons for the sign-in page',
      description:
        "Without `email`: the providers of the installation's organisation when it holds exactly one, else none. With `email`: the providers whose allowed domains include its domain, whichever organisation they belong to. `passwordSignIn` is false when every organisation answered about has turned password sign-in off.",
      querystring: z.object({ email: z.string().trim().toLowerCase().max(254).optional() }),
      response: {
        200: z.object({
          items: z.array(
            z.object({
              id,
              kind: z.enum(SSO_PROVIDER_KINDS),
              label: z.string(),
              organisationName: z.string(),
              startUrl: z.string(),
            }),
          ),
          passwordSignIn: z.boolean(),
        }),
      },
    },
    handler: async (request) => {
      const email = request.query.email;
      if (email === undefined) return sso.publicProviders(undefined);
      const asked = email.slice(email.lastIndexOf('@') + 1);
      if (!DOMAIN.test(asked)) return { items: [], passwordSignIn: true };
      return sso.publicProviders(asked);
    },
  });

  app.get('/api/v1/auth/oidc/:providerId/start', {
    config: { access: { public: true } },
    onSend: toSignInPage,
    schema: {
      tags: ['auth'],
      summary: 'Start signing in through a provider: redirects to it',
      description:
        'Redirects to the provider (authorization code flow with PKCE S256, state and nonce) and sets a short-lived cookie binding the sign-in to this browser. An unknown provider, or one that cannot be reached, redirects to `/sign-in?sso_error=sso_unknown_provider` or `sso_unavailable`.',
      params: z.object({ providerId: id }),
      response: { 302: redirect },
    },
    handler: async (request, reply) => {
      const { providerId } = request.params;
      const started = await sso.start(providerId, requestOrigin(request));
      reply.setCookie(SSO_COOKIE, started.browserSecret, {
        ...cookieOptions(config, request),
        // Sent on the provider's redirect back, a cross-site top-level GET: Lax, not Strict.
        sameSite: 'lax',
        path: callbackPath(providerId),
        maxAge: Math.floor(started.maxAgeMs / 1000),
      });
      return reply.redirect(started.location, 302);
    },
  });

  app.get('/api/v1/auth/oidc/:providerId/callback', {
    config: { access: { public: true } },
    onSend: async (request, reply, payload) => {
      const { providerId } = request.params as { providerId: string };
      reply.clearCookie(SSO_COOKIE, {
        ...cookieOptions(config, request),
        sameSite: 'lax',
        path: callbackPath(providerId),
      });
      return toSignInPage(request, reply, payload);
    },
    schema: {
      tags: ['auth'],
      summary: 'The provider’s answer: signs in and redirects to the web app',
      description:
        "The provider’s redirect URI (each provider has its own). Checks the sign-in was started in this browser, with this provider, and not yet used (each is used once, within 10 minutes), exchanges the code (PKCE) and checks the ID token (signature, issuer, audience, nonce). The person is the one linked to the provider's `sub`, else the user of the organisation with the email address the provider vouches for, within the provider's allowed domains. Success sets the session cookie and redirects to `/`; otherwise a redirect to `/sign-in?sso_error=<code>`: `sso_state` (not started in this browser, tampered or used), `sso_expired`, `sso_cancelled`, `sso_failed`, `sso_unverified_email`, `sso_domain`, `sso_no_account`, `sso_disabled`, `sso_no_role` (a Member who still needs a role), `sso_rate_limited`.",
      querystring: z
        .object({
          code: z.string().max(4096),
          state: z.string().max(1024),
          error: z.string().max(200),
          error_description: z.string().max(2000),
          iss: z.string().max(500),
        })
        .partial()
        .loose(),
      params: z.object({ providerId: id }),
      response: { 302: redirect },
    },
    handler: async (request, reply) => {
      const at = request.url.indexOf('?');
      const query = new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1));
      const session = await sso.finish(
        request.params.providerId,
        query,
        request.cookies[SSO_COOKIE],
        clientOf(request),
      );
      setSessionCookie(reply, request, config, session);
      return reply.redirect('/', 302);
    },
  });
}
