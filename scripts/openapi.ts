/**
 * Haven's OpenAPI document, as `GET /api/v1/openapi.json` serves it, from an app built on a
 * throwaway SQLite database.
 *
 *   npm run openapi -- [--out FILE]      the document (standard output without --out)
 *   npm run api-types [-- --check]       web/src/api/schema.d.ts, the web app's API types,
 *                                        generated from it by openapi-typescript (--check: fail
 *                                        when the file is not what the document gives)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import openapiTS from 'openapi-typescript';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { buildApp } from '../src/server/app.ts';

export const API_TYPES_FILE = path.resolve(import.meta.dirname, '../web/src/api/schema.d.ts');

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-openapi-'));
  const database = openDatabase({ dataDir });
  try {
    await migrateToLatest(database.db);
    const config = loadConfig({ HAVEN_DATA_DIR: dataDir, HAVEN_LOG_LEVEL: 'silent' });
    const app = await buildApp({ config, database });
    await app.ready();
    // A copy: the app keeps its own.
    const doc = JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
    await app.close();
    return doc;
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The web app's types, as openapi-typescript writes them from the document. */
export async function apiTypes(doc: Record<string, unknown>): Promise<string> {
  const body = await openapiTS(doc as Parameters<typeof openapiTS>[0], {
    // The comments carry the routes' summaries and descriptions into the editor.
    commentHeader:
      "/**\n * Generated from Haven's OpenAPI document by `npm run api-types`; do not edit.\n */\n\n",
  });
  return body;
}

async function main() {
  const { positionals, values } = parseArgs({
    args: process.argv.slice(2),
    options: { out: { type: 'string' }, check: { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const doc = await openApiDocument();
  if (positionals[0] === 'types') {
    const types = await apiTypes(doc);
    if (values.check) {
      const current = (() => {
        try {
          return readFileSync(API_TYPES_FILE, 'utf8');
        } catch {
          return '';
        }
      })();
      if (current !== types) {
        process.stderr.write(
          `${path.relative(process.cwd(), API_TYPES_FILE)} is not what the OpenAPI document gives: run \`npm run api-types\`\n`,
        );
        process.exitCode = 1;
      }
      return;
    }
    writeFileSync(API_TYPES_FILE, types);
    return;
  }
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  if (values.out) {
    mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    writeFileSync(values.out, text);
  } else process.stdout.write(text);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
