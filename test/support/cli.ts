import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../src/cli/main.ts';
import { whileNoSchemaIsDropped } from './database.ts';
import type { TestHaven } from './haven.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `haven <args>` in this process against the test's database. */
export async function runHaven(
  h: TestHaven,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  // Every command migrates first: kept apart from other tests' schema drops (see database.ts).
  const code = await whileNoSchemaIsDropped(() =>
    main(args, {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: { HAVEN_LOG_LEVEL: 'silent', ...h.db.env, ...env },
    }),
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Runs the real `bin/haven.mjs` in a child process against the test's database. */
export async function spawnHaven(h: TestHaven, args: string[]): Promise<CliResult> {
  const bin = path.resolve(import.meta.dirname, '../../bin/haven.mjs');
  try {
    const { stdout, stderr } = await whileNoSchemaIsDropped(() =>
      promisify(execFile)(process.execPath, [bin, ...args], {
        env: { PATH: process.env.PATH, HAVEN_LOG_LEVEL: 'silent', ...h.db.env },
      }),
    );
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}
