import { z } from 'zod';
import type { Config } from '../../config.ts';
import { id } from '../../lib/schemas.ts';
import { cookieOptions, SESSION_COOKIE } from '../../server/authenticate.ts';
import { noContent } from '../../server/contracts.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { heldGrantSchema, userSchema } from '../users/routes.ts';
import type { AuthService } from './service.ts';
import { setSessionCookie, signedInAnswer } from './sign-in.ts';

export const meSchema = userSchema.extend({
  organisation: z.object({ id: z.string(), name: z.string() }),
  roles: z.array(heldGrantSchema),
  /** The permissions the caller holds at some scope (each request still checks its own scope). */
  abilities: z.array(z.string()),
  /** `pending` between POST /me/totp and its confirmation; `active`: sign-in needs a code. */
  totpStatus: z.enum(['off', 'pending', 'active']),
  /** When this session last passed TOTP (sign-in with a code, or step-up); null if never. */
  mfaAt: z.string().nullable(),
  /**
   * A school asks this user to enrol two-factor sign-in: until `POST /me/totp/confirm`, the
   * session reaches only `GET /me`, `POST /me/totp`, `POST /me/totp/confirm` and `POST /auth/logout`.
   */
  mfaEnrolmentRequired: z.boolean(),
  /** For a session signed in by cookie: the token its changes must send in `x-csrf-token`. */
  csrfToken: z.string().optional(),
});

const totpCode = z
  .string()
  .trim()
  .regex(/^\d{6}$/, 'must be the 6 digits shown by your authenticator app');

export function authRoutes(app: HavenApp, auth: AuthService, config: Config) {
  app.post('/api/v1/auth/login', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'Sign in',
      description:
        'Sets an HttpOnly session cookie and also returns the token for `Authorization: Bearer`. Requests signed in by cookie that change anything must send `x-csrf-token` with the returned `csrfToken`. With two-factor sign-in on, `totp` (the current 6-digit code, or an unused recovery code) is needed too: without it the answer is 401 `totp_required`, with a wrong or already used one 401 `invalid_code`. After 10 failed attempts (passwords or codes) for an email within 15 minutes, or 50 from one client address whatever the emails, further attempts answer 429 (`too_many_attempts`, `too_many_attempts_from_address`) with `Retry-After` (seconds until the oldest counted failure leaves the window); more than 60 requests a minute from one address answer 429 `rate_limited` (each configurable). An email may have an account in more than one organisation: when the password is right for several, the answer is 409 `choose_organisation` with `organisations: [{ id, name }]` (only those), and the same request with `organisationId` signs in to that one. `mfaEnrolmentRequired: true` when a school asks this user (a holder of a clearance, or of Deputy DSL or higher there) to enrol two-factor sign-in and they have not: the session then reaches only `GET /me`, `POST /me/totp`, `POST /me/totp/confirm` and `POST /auth/logout` (anything else is 403 `mfa_enrolment_required`) until enrolment is confirmed.',
      body: z.object({
        email: z.string().trim().min(1).max(254),
        password: z.string().min(1).max(256),
        totp: z
          .string()
          .trim()
          .max(40)
          .regex(/^[0-9A-Za-z\s-]*$/, 'must be a 6-digit code or a recovery code')
          .optional(),
        /** Which organisation's account, when the email has one in several (409 `choose_organisation`). */
        organisationId: id.optional(),
      }),
      response: {
        200: z.object({
          token: z.string(),
          csrfToken: z.string(),
          expiresAt: z.string(),
          user: meSchema,
          /** As `user.mfaEnrolmentRequired`: enrol two-factor sign-in before anything else. */
          mfaEnrolmentRequired: z.boolean(),
        }),
      },
    },
    handler: async (request, reply) => {
      const { session, user } = await auth.login(request.body, {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        requestId: request.id,
      });
      setSessionCookie(reply, request, config, session);
      return signedInAnswer(session, user);
    },
  });

  app.post('/api/v1/auth/logout', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['auth'],
      summary: 'Sign out: ends this session',
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      await auth.logout(authOf(request).session.sessionId, originOf(request));
      reply.clearCookie(SESSION_COOKIE, cookieOptions(config, request));
      return reply.code(204).send();
    },
  });

  app.get('/api/v1/me', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'The caller, with roles per scope',
      response: { 200: meSchema },
    },
    handler: async (request) => {
      const { principal, session, caller, viaCookie } = authOf(request);
      // Authentication has just worked out the caller (and whether they must enrol) and read the
      // user with the session: neither is asked twice a request.
      const me = await auth.me(principal, session.mfaAt, { caller, user: session.user });
      // The web app reloads with only its cookie; it reads the token back here. Another site
      // cannot: the cookie is SameSite=Strict and the answer is same-origin JSON.
      return viaCookie ? { ...me, csrfToken: session.csrfToken } : me;
    },
  });

  app.post('/api/v1/me/totp', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'Start setting up two-factor sign-in (TOTP)',
      description:
        'Answers a new base32 secret (SHA-1, 6 digits, 30 s), its `otpauth://` URI and that URI as a QR code (PNG data URL). Calling it again before confirming restarts with a new secret. 409 `conflict` once two-factor sign-in is on.',
      response: {
        200: z.object({ secret: z.string(), otpauthUri: z.string(), qrCode: z.string() }),
      },
    },
    handler: (request) => {
      const { session } = authOf(request);
      return auth.twoFactor.startEnrolment(session, originOf(request));
    },
  });

  app.post('/api/v1/me/totp/confirm', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'Turn two-factor sign-in on with a code from the app',
      description:
        'Answers 10 one-time recovery codes, shown only this once. From now on sign-in needs a code, and this session counts as having passed TOTP. A wrong code answers 400 `invalid_code`; 409 `conflict` if nothing is pending or it is already on.',
      body: z.object({ code: totpCode }).strict(),
      response: { 200: z.object({ recoveryCodes: z.array(z.string()) }) },
    },
    handler: (request) => {
      const { session } = authOf(request);
      return auth.twoFactor.confirm(session, request.body.code, originOf(request));
    },
  });

  app.delete('/api/v1/me/totp', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['me'],
      summary: 'Turn two-factor sign-in off',
      description:
        'Needs a current code or an unused recovery code (wrong or used: 401 `invalid_code`, counted like a failed sign-in). The recovery codes are deleted too. 409 `totp_not_enabled` if it is not on.',
      body: z
        .object({
          code: z
            .string()
            .trim()
            .min(1)
            .max(40)
            .regex(/^[0-9A-Za-z\s-]+$/, 'must be a 6-digit code or a recovery code'),
        })
        .strict(),
      response: { 204: noContent },
    },
    handler: async (request, reply) => {
      const { session } = authOf(request);
      await auth.twoFactor.disable(session, request.body.code, originOf(request));
      return reply.code(204).send();
    },
  });

  app.post('/api/v1/auth/step-up', {
    config: { access: { authenticated: true } },
    schema: {
      tags: ['auth'],
      summary: 'Pass a two-factor check in this session',
      description:
        'With a current code from the authenticator app, this session counts as having passed TOTP from now (`mfaAt`), as reading child-protection and allegation records needs. A wrong or already used code answers 401 `invalid_code` and counts like a failed sign-in; 409 `totp_not_enabled` without two-factor sign-in.',
      body: z.object({ code: totpCode }).strict(),
      response: { 200: z.object({ mfaAt: z.string() }) },
    },
    handler: (request) => {
      const { session } = authOf(request);
      return auth.twoFactor.stepUp(session, request.body.code, originOf(request));
    },
  });
}
