import { createServer, request } from 'node:http';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GIVE_WAY_AFTER_MS, HavenSqliteDialect } from '../../src/db/sqlite-dialect.ts';

// better-sqlite3 runs statements on the event loop. Queries queued for Haven's one SQLite
// connection used to run back to back in one stretch of microtasks, so an HTTP request that needs
// no database waited for all of them. The dialect now lets the loop turn once statements have
// kept it for GIVE_WAY_AFTER_MS.

const sqlite = new BetterSqlite3(':memory:');
const db = new Kysely<unknown>({ dialect: new HavenSqliteDialect(sqlite) });
const server = createServer((_req, res) => res.end('ok'));
let port = 0;

/** A statement that keeps SQLite busy for about `ms` on this machine. */
let slowQuery: CompiledQuery;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  const rowsFor = (n: number) =>
    CompiledQuery.raw(
      `with recursive c(x) as (select 1 union all select x + 1 from c where x < ${n}) select count(*) as n from c`,
    );
  const t = performance.now();
  await db.executeQuery(rowsFor(200_000));
  const perRow = (performance.now() - t) / 200_000;
  slowQuery = rowsFor(Math.max(1000, Math.round(3 / perRow)));
});

afterAll(async () => {
  await db.destroy();
  await new Promise((resolve) => server.close(resolve));
});

/** An HTTP round trip to a handler that needs no database; resolves with the time it took. */
function ping(): Promise<number> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    request({ port, host: '127.0.0.1', path: '/' }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t));
    })
      .on('error', reject)
      .end();
  });
}

describe('queries queued for the SQLite connection give way to the event loop', () => {
  it('a request without database work is answered while 60 slow queries are queued', async () => {
    await ping();
    let done = 0;
    const started = performance.now();
    const queries = Array.from({ length: 60 }, () =>
      db.executeQuery(slowQuery).then(() => {
        done += 1;
      }),
    );
    // The ping's connection is made while the queries run: it needs the loop to poll.
    const pinged = ping().then((ms) => ({ ms, doneWhenAnswered: done }));
    await Promise.all(queries);
    const total = performance.now() - started;
    const { ms, doneWhenAnswered } = await pinged;
    // The queries took about 180 ms in all; the ping came in between them, not after.
    expect(total).toBeGreaterThan(8 * GIVE_WAY_AFTER_MS);
    expect(doneWhenAnswered).toBeLessThan(60);
    expect(ms).toBeLessThan(total / 2);
  });

  it('every query still runs, in the order it was queued', async () => {
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.executeQuery(slowQuery).then(() => order.push(i))),
    );
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
