import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { type Config, loadConfig } from '../../src/config.ts';
import { buildApp, createServices, type Services } from '../../src/server/app.ts';
import type { HavenApp } from '../../src/server/http.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { answerContract } from './openapi-answers.ts';

export const STRONG_PASSWORD = 'copper-Kettle-41-harbour';

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

export interface RequestOptions {
  token?: string | undefined;
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
}

/** One running Haven on its own fresh database, driven through its real HTTP stack. */
export class TestHaven {
  constructor(
    readonly app: HavenApp,
    readonly db: TestDatabase,
    readonly config: Config,
    readonly services: Services,
  ) {}

  #checker: ReturnType<typeof answerContract> | undefined;

  /** Every answer is checked against the document this app serves. */
  #contract() {
    this.#checker ??= answerContract(this.app.swagger() as unknown as Record<string, unknown>);
    return this.#checker;
  }

  get database() {
    return this.db.database;
  }

  async request<T = any>(
    method: string,
    url: string,
    options: RequestOptions = {},
  ): Promise<Reply<T>> {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.query ?? {}))
      if (v !== undefined) query[k] = String(v);
    const response = await this.app.inject({
      method: method as 'GET',
      url,
      query,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    const text = response.body;
    let body: unknown = text;
    if (text && /json/.test(String(response.headers['content-type'] ?? '')))
      body = JSON.parse(text);
    const broken = this.#contract().problem(
      method,
      url,
      response.statusCode,
      response.headers['content-type'] as string | undefined,
      body,
    );
    if (broken) throw new Error(`Answer outside the OpenAPI document: ${broken}`);
    return { status: response.statusCode, body: body as T, headers: response.headers };
  }

  get<T = any>(url: string, token?: string, query?: RequestOptions['query']) {
    return this.request<T>('GET', url, { token, query });
  }
  post<T = any>(url: string, token: string | undefined, body?: unknown) {
    return this.request<T>('POST', url, { token, body: body ?? {} });
  }
  patch<T = any>(url: string, token: string | undefined, body: unknown) {
    return this.request<T>('PATCH', url, { token, body });
  }
  put<T = any>(url: string, token: string | undefined, body: unknown) {
    return this.request<T>('PUT', url, { token, body });
  }
  delete<T = any>(url: string, token: string | undefined) {
    return this.request<T>('DELETE', url, { token });
  }

  async close() {
    await this.app.close();
    await this.db.dispose();
  }
}

export async function startHaven(overrides: Record<string, string> = {}): Promise<TestHaven> {
  return startHavenWith(() => {}, overrides);
}

/** Starts a Haven after `customise` may replace services (for instance a controlled clock). */
export async function startHavenWith(
  customise: (services: Services, config: Config, database: TestDatabase['database']) => void,
  overrides: Record<string, string> = {},
): Promise<TestHaven> {
  const db = await createTestDatabase();
  const config = loadConfig({
    HAVEN_LOG_LEVEL: process.env.HAVEN_TEST_LOG_LEVEL ?? 'silent',
    // Every test signs in from 127.0.0.1, many times a minute: tests of these limits set their own.
    HAVEN_LOGIN_ADDRESS_MAX_FAILURES: '100000',
    HAVEN_AUTH_RATE_LIMIT: '100000',
    ...db.env,
    ...overrides,
  });
  const services = createServices(db.database, config);
  customise(services, config, db.database);
  const app = await buildApp({ config, database: db.database, services });
  return new TestHaven(app, db, config, services);
}

/** A fresh Haven for each test in the calling file. */
export function useHaven(overrides: Record<string, string> = {}): () => TestHaven {
  let haven: TestHaven | undefined;
  beforeEach(async () => {
    haven = await startHaven(overrides);
  });
  afterEach(async () => {
    await haven?.close();
    haven = undefined;
  });
  return () => {
    if (!haven) throw new Error('useHaven() is only available inside a test');
    return haven;
  };
}

/**
 * Like `useHaven`, but `customise` may replace services before the app is built (for instance
 * an AuthService with a controlled clock).
 */
export function useHavenWith(
  customise: (services: Services, config: Config, database: TestDatabase['database']) => void,
  overrides: Record<string, string> = {},
): () => TestHaven {
  let haven: TestHaven | undefined;
  beforeEach(async () => {
    haven = await startHavenWith(customise, overrides);
  });
  afterEach(async () => {
    await haven?.close();
    haven = undefined;
  });
  return () => {
    if (!haven) throw new Error('useHavenWith() is only available inside a test');
    return haven;
  };
}
