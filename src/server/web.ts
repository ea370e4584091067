import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HavenApp } from './http.ts';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Haven</title></head>
<body><main><h1>Haven</h1>
<p>The web app has not been built. Run <code>npm run build</code> (or <code>npm start</code>, which builds it first).</p>
<p>The API answers at <a href="/api/docs">/api/docs</a>.</p></main></body></html>`;

/**
 * The web app: the built files under `webDir`, and its page for every other GET that asks for
 * HTML (the app routes in the browser). Nothing here is behind sign-in: the pages hold no data;
 * every record comes from the API, which decides.
 */
export async function registerWebApp(app: HavenApp, webDir: string) {
  const indexPath = path.join(webDir, 'index.html');
  const built = existsSync(indexPath);
  if (built) {
    await app.register(fastifyStatic, {
      root: webDir,
      prefix: '/',
      wildcard: false,
      index: false,
      // The build writes `.br` and `.gz` twins of every text asset; a browser that accepts one
      // gets it (with Vary: Accept-Encoding), without compressing on each request.
      preCompressed: true,
      // Hashed file names never change content; the page itself is always revalidated.
      setHeaders: (res, filePath) => {
        // A cache in between must keep the compressed and the plain answer apart.
        res.setHeader('vary', 'accept-encoding');
        res.setHeader(
          'cache-control',
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        );
      },
      cacheControl: false,
      decorateReply: false,
    });
  }
  const page = built ? readFileSync(indexPath, 'utf8') : NOT_BUILT;
  return function sendPage(request: FastifyRequest, reply: FastifyReply): boolean {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const url = request.url.split('?')[0] ?? '';
    if (url.startsWith('/api/') || url === '/api') return false;
    // A missing file (a path with an extension) is a real 404, not the app.
    if (path.extname(url) !== '') return false;
    if (!String(request.headers.accept ?? '').includes('text/html')) return false;
    reply.code(200).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);
    return true;
  };
}
