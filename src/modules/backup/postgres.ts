import { spawn } from 'node:child_process';

/**
 * pg_dump and pg_restore, run with the settings of Haven's `DATABASE_URL`. They get the connection
 * through libpq's environment variables, not on their command line, so the password never shows
 * in the process list; `options` (a search_path) is left out: they are told the schema instead.
 */
export function libpqEnvironment(databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  const env: Record<string, string> = {};
  if (url.hostname) env.PGHOST = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const fromQuery: Record<string, string> = {
    host: 'PGHOST',
    port: 'PGPORT',
    user: 'PGUSER',
    password: 'PGPASSWORD',
    dbname: 'PGDATABASE',
    sslmode: 'PGSSLMODE',
    sslrootcert: 'PGSSLROOTCERT',
    sslcert: 'PGSSLCERT',
    sslkey: 'PGSSLKEY',
    connect_timeout: 'PGCONNECT_TIMEOUT',
  };
  for (const [name, value] of url.searchParams) {
    const variable = fromQuery[name];
    if (variable) env[variable] = value;
  }
  return env;
}

/** The same connection to another database on the same server (restore's scratch copy). */
export function urlForDatabase(databaseUrl: string, database: string, schema?: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  url.searchParams.delete('options');
  if (schema) url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Whether `tool` (pg_dump, pg_restore) can be run from PATH. */
export async function hasPgTool(tool: string): Promise<boolean> {
  try {
    await runPgTool(tool, ['--version'], {});
    return true;
  } catch {
    return false;
  }
}

/** Runs a PostgreSQL client tool; rejects with its own words when it fails. */
export function runPgTool(
  tool: string,
  args: string[],
  env: Record<string, string>,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${tool} failed (exit ${code}): ${err.trim() || out.trim()}`));
    });
  });
}

/**
 * Drops a scratch database once the sessions Haven opened on it have gone. Not `WITH (FORCE)`
 * first: a pool's connections may still be closing, and a forced end reaches them as an error.
 */
export async function dropScratchDatabase(
  admin: { query: (text: string, values?: unknown[]) => Promise<{ rows: { n: string }[] }> },
  name: string,
): Promise<void> {
  const quoted = `"${name.replaceAll('"', '""')}"`;
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const { rows } = await admin.query(
      'select count(*) as n from pg_stat_activity where datname = $1',
      [name],
    );
    if (Number(rows[0]!.n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    await admin.query(`drop database if exists ${quoted}`);
  } catch {
    await admin.query(`drop database if exists ${quoted} with (force)`);
  }
}
