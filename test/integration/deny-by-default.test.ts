import { describe, expect, it } from 'vitest';
import { useHaven } from '../support/haven.ts';

/** Routes anyone may call: health, first-run setup, sign-in and the API's own description. */
const PUBLIC = new Set([
  'GET /api/v1/health',
  'GET /api/v1/ready',
  'GET /api/v1/setup',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  // Invitations and password reset: the link's token (or the email) is the caller's proof.
  'POST /api/v1/auth/accept-invitation',
  'POST /api/v1/auth/password-reset',
  'POST /api/v1/auth/password-reset/confirm',
  // Single sign-on: the sign-in buttons, and the redirects to and from the provider.
  'GET /api/v1/auth/sso-providers',
  'GET /api/v1/auth/oidc/{providerId}/start',
  'GET /api/v1/auth/oidc/{providerId}/callback',
]);

describe('deny by default', () => {
  const haven = useHaven();

  it('every route in the API description refuses a caller who is not signed in (401)', async () => {
    const h = haven();
    const openapi = (await h.get('/api/v1/openapi.json')).body;
    const routes = Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((m) => [m.toUpperCase(), path] as const),
    );
    expect(routes.length).toBeGreaterThan(60);
    const open: string[] = [];
    for (const [method, path] of routes) {
      if (PUBLIC.has(`${method} ${path}`)) continue;
      const url = path.replace(/\{[^}]+\}/g, '01JZZZZZZZZZZZZZZZZZZZZZZZ');
      const reply = await h.request(
        method,
        url,
        method === 'GET' || method === 'DELETE' ? {} : { body: {} },
      );
      if (reply.status !== 401) open.push(`${method} ${path}: ${reply.status}`);
    }
    expect(open).toEqual([]);
  });
});
