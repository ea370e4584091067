/**
 * The yardstick of `bench/http-goals.ts`: one Fastify route and nothing else, in a process of its
 * own, run the way `haven serve` runs (through tsx, on the same Fastify), with the logger off.
 *
 *   PORT=4000 node --import tsx bench/bare-fastify.ts
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ ok: true, service: 'bare', at: 1 }));
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
