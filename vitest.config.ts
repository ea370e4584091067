import { defineConfig } from 'vitest/config';

// The HTTP integration suite runs once per database engine: SQLite always, PostgreSQL when
// HAVEN_TEST_DATABASE_URL is set. Each test gets its own fresh database (SQLite) or schema (PostgreSQL).
const engines = ['sqlite', ...(process.env.HAVEN_TEST_DATABASE_URL ? ['postgres'] : [])];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      ...engines.map((engine) => ({
        extends: true as const,
        test: {
          name: engine,
          include: ['test/integration/**/*.test.ts'],
          env: { HAVEN_TEST_ENGINE: engine },
        },
      })),
      // The web app in Debian's Chromium, against a Haven on a real port (SQLite: the API suite
      // covers both engines; these tests are about the pages).
      {
        extends: true as const,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['test/browser/global-setup.ts'],
          env: { HAVEN_TEST_ENGINE: 'sqlite' },
          fileParallelism: false,
        },
      },
    ],
  },
});
