import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { describeInBrowser, useBrowserHaven } from './support/browser.ts';

/** The web app's files as the production build ships them (issue 17, item 5). */
describeInBrowser('the web app files', () => {
  const world = useBrowserHaven();

  async function firstScript(url: string): Promise<string> {
    const page = await (await fetch(url, { headers: { accept: 'text/html' } })).text();
    const src = /<script[^>]+src="([^"]+\.js)"/.exec(page)?.[1];
    expect(src).toMatch(/^\/assets\//);
    return `${url}${src}`;
  }

  it('serves pre-compressed assets to browsers that accept them, and the same bytes inside', async () => {
    const script = await firstScript(world().url);
    const plain = await fetch(script, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-encoding')).toBeNull();
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.length).toBeGreaterThan(10_000);

    // undici's fetch would decode for us: ask with node's own headers and read raw bytes.
    for (const [encoding, decode] of [
      ['br', brotliDecompressSync],
      ['gzip', gunzipSync],
    ] as const) {
      const { status, headers, raw } = await rawGet(script, encoding);
      expect(status).toBe(200);
      expect(headers['content-encoding']).toBe(encoding);
      expect(String(headers.vary ?? '')).toMatch(/accept-encoding/i);
      expect(raw.length).toBeLessThan(body.length / 2);
      expect(decode(raw).equals(body)).toBe(true);
    }
  });

  it('publishes no source maps', async () => {
    const script = await firstScript(world().url);
    const text = await (await fetch(script)).text();
    expect(text).not.toMatch(/sourceMappingURL/);
    expect((await fetch(`${script}.map`)).status).toBe(404);
  });
});

async function rawGet(url: string, encoding: string) {
  const http = await import('node:http');
  return new Promise<{ status: number; headers: Record<string, unknown>; raw: Buffer }>(
    (resolve, reject) => {
      http
        .get(url, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              raw: Buffer.concat(chunks),
            }),
          );
        })
        .on('error', reject);
    },
  );
}
