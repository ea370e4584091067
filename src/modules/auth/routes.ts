import { z } from 'zod';
import type { Config } from '../../config.ts';
import { cookieOptions, SESSION_COOKIE } from '../../server/authenticate.ts';
import { authOf, type HavenApp, originOf } from '../../server/http.ts';
import { heldGrantSchema, userSchema } from '../users/routes.ts';
import type { AuthService } from './service.ts';

export const meSchema = userSchema.extend({
  organisation: z.object({ id: z.string(), name: z.string() }),
  roles: z.array(heldGrantSchema),
});

export function authRoutes(app: HavenApp, auth: AuthService, config: Config) {
  app.post('/api/v1/auth/login', {
    config: { access: { public: true } },
    schema: {
      tags: ['auth'],
      summary: 'Sign in',
      description:
        'Sets an HttpOnly session cookie and also returns the token for `Authorization: Bearer`. Requests signed in by cookie that change anything must send `x-csrf-token` with the returned `csrfToken`. After 10 failed attempts on an account within 15 minutes, further attempts answer 429.',
      body: z.object({
        email: z.string().trim().min(1).max(254),
        password: z.string().min(1).max(256),
        totp: z.string().max(20).optional(),
      }),
      response: {
        200: z.object({
          token: z.string(),
          csrfToken: z.string(),
          expiresAt: z.string(),
          user: meSchema,
        }),
      },
    },
    handler: async (request, reply) => {
      const { session, user } = await auth.login(request.body, {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        requestId: request.id,
      });
      reply.setCookie(SESSION_COOKIE, session.token, {
        ...cookieOptions(config, request),
        expires: new Date(session.expiresAt),
      });
      return {
        token: session.token,
        csrfToken: session.csrfToken,
        expiresAt: session.expiresAt,
        user,
      };
    },
  });

  app.post('/api/v1/auth/logout', {
    config: { access: { authenticated: true } },
    schema: { tags: ['auth'], summary: 'Sign out: ends this session' },
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
    handler: (request) => auth.me(authOf(request).principal),
  });
}
