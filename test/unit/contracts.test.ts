import Fastify from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type ContractMode,
  noContent,
  rawContent,
  registerResponseContracts,
} from '../../src/server/contracts.ts';
import type { HavenApp } from '../../src/server/http.ts';

const open = { access: { public: true } } as const;
const record = z.object({ id: z.string(), name: z.string() });
/** What a service might build: more than the answer may carry. */
const built = { id: 'r1', name: 'Oak', secret: 'must not leave' };

let apps: HavenApp[] = [];
afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

/** A tiny app with Haven's zod compilers and the contract check, nothing else. */
function tinyApp(mode: ContractMode): HavenApp {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerResponseContracts(app, { mode });
  apps.push(app);
  return app;
}

/** Registers a route and starts the app; the error that stopped it, if any. */
async function start(app: HavenApp, add: (app: HavenApp) => void): Promise<Error | null> {
  try {
    add(app);
    await app.ready();
    return null;
  } catch (error) {
    return error as Error;
  }
}

describe('response contracts (strict)', () => {
  it('a JSON API route without a response schema stops the app from starting, naming it', async () => {
    const error = await start(tinyApp('strict'), (app) =>
      app.get('/api/v1/things/:id', { config: open }, async () => built),
    );
    expect(error?.message).toMatch(/GET \/api\/v1\/things\/:id.*no response schema/);
  });

  it('a route declaring only its errors stops it too', async () => {
    const error = await start(tinyApp('strict'), (app) =>
      app.post(
        '/api/v1/things',
        { config: open, schema: { response: { 400: z.object({ code: z.string() }) } } },
        // The types would refuse it too; the check is for what the types cannot see.
        async () => built as never,
      ),
    );
    expect(error?.message).toMatch(
      /POST \/api\/v1\/things.*no response schema for its success status/,
    );
  });

  it('starts with a schema per success status: JSON, no content, or a declared media type', async () => {
    const app = tinyApp('strict');
    const error = await start(app, (a) => {
      a.get('/api/v1/things/:id', { config: open, schema: { response: { 200: record } } }, () =>
        Promise.resolve(built),
      );
      a.delete(
        '/api/v1/things/:id',
        { config: open, schema: { response: { 204: noContent } } },
        async (_request, reply) => reply.code(204).send(),
      );
      a.get(
        '/api/v1/things/export',
        { config: open, schema: { response: { 200: rawContent('text/csv', 'One row a thing') } } },
        async (_request, reply) => reply.type('text/csv; charset=utf-8').send('id,name\nr1,Oak\n'),
      );
      // Outside the API (the web app's pages), nothing is required.
      a.get('/health-page', async () => 'ok');
    });
    expect(error).toBeNull();
    expect(app.responseContracts.offenders).toEqual([]);

    const one = await app.inject({ method: 'GET', url: '/api/v1/things/r1' });
    expect(one.json()).toEqual({ id: 'r1', name: 'Oak' });
    const gone = await app.inject({ method: 'DELETE', url: '/api/v1/things/r1' });
    expect([gone.statusCode, gone.body]).toEqual([204, '']);
    const csv = await app.inject({ method: 'GET', url: '/api/v1/things/export' });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe('id,name\nr1,Oak\n');
  });

  it('refuses at run time a JSON answer with a success status the route did not declare', async () => {
    const app = tinyApp('strict');
    await start(app, (a) =>
      a.post('/api/v1/things', { config: open, schema: { response: { 201: record } } }, () =>
        Promise.resolve(built),
      ),
    );
    const reply = await app.inject({ method: 'POST', url: '/api/v1/things' });
    expect(reply.statusCode).toBe(500);
    expect(reply.body).not.toContain('must not leave');
  });
});

describe('response contracts (report)', () => {
  it('starts, and lists every offending route and undeclared answer', async () => {
    const app = tinyApp('report');
    const error = await start(app, (a) => {
      a.get('/api/v1/loose', { config: open }, async () => built);
      a.delete('/api/v1/loose/:id', { config: open }, async (_request, reply) =>
        reply.code(204).send(),
      );
      a.post('/api/v1/typed', { config: open, schema: { response: { 201: record } } }, () =>
        Promise.resolve(built),
      );
    });
    expect(error).toBeNull();
    expect(app.responseContracts.offenders).toEqual([
      'GET /api/v1/loose: declares no response schema',
      'DELETE /api/v1/loose/:id: declares no response schema',
    ]);
    // Report mode changes no answer; it only records the one that left without a schema.
    expect((await app.inject({ method: 'POST', url: '/api/v1/typed' })).statusCode).toBe(200);
    expect(app.responseContracts.offenders).toContain(
      'POST /api/v1/typed: answered 200, which it declares no schema for',
    );
  });
});
