import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import autocannon from 'autocannon';
import type { Database } from '../src/db/database.ts';
import { createSession } from '../src/modules/auth/sessions.ts';
import { peakRssMb } from './stats.ts';

export interface HttpResult {
  persona: string;
  requestsPerSecond: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  errors: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Starts `haven serve` on the benchmark's database, in its own process, as it runs in production. */
async function startServer(
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const bin = path.resolve(import.meta.dirname, '../bin/haven.mjs');
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: {
      PATH: process.env.PATH,
      HAVEN_LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/api/v1/health`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('Haven did not start');
}

/** `GET /api/v1/students?limit=50` per persona, under load from autocannon; and the server's peak memory. */
export async function runHttp(
  database: Database,
  serverEnv: Record<string, string>,
  personas: { name: string; userId: string; organisationId: string }[],
  length: { seconds: number } | { amount: number },
): Promise<{ rows: HttpResult[]; serverPeakMb: number }> {
  const tokens = new Map<string, string>();
  for (const p of personas) {
    const session = await createSession(database.db, {
      userId: p.userId,
      organisationId: p.organisationId,
      now: new Date().toISOString(),
      limits: { idleMs: 3_600_000, absoluteMs: 3_600_000 },
      mfaAt: null,
      ip: null,
      userAgent: 'bench',
    });
    tokens.set(p.name, session.token);
  }
  const { url, child } = await startServer(serverEnv);
  try {
    const results: HttpResult[] = [];
    for (const p of personas) {
      const result = await autocannon({
        url: `${url}/api/v1/students?limit=50`,
        connections: 8,
        ...('seconds' in length ? { duration: length.seconds } : { amount: length.amount }),
        headers: { authorization: `Bearer ${tokens.get(p.name)}` },
      });
      results.push({
        persona: p.name,
        requestsPerSecond: result.requests.average,
        latencyMedianMs: result.latency.p50,
        latencyP99Ms: result.latency.p99,
        errors: result.errors + result.non2xx,
      });
    }
    // The server's own peak resident memory, read before it stops.
    return { rows: results, serverPeakMb: peakRssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
  }
}
