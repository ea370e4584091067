import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useHaven } from '../support/haven.ts';

const webDir = mkdtempSync(path.join(tmpdir(), 'haven-web-'));
mkdirSync(path.join(webDir, 'assets'));
writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Haven page</title>');
writeFileSync(path.join(webDir, 'assets', 'app-1234.js'), 'console.log(1)');
afterAll(() => rmSync(webDir, { recursive: true, force: true }));

describe('the web app on the same port', () => {
  const haven = useHaven({ HAVEN_WEB_DIR: webDir });
  const html = { accept: 'text/html,application/xhtml+xml' };

  it('serves the page for the app routes a browser asks for', async () => {
    for (const url of ['/', '/students/abc', '/admin/user-groups']) {
      const reply = await haven().request('GET', url, { headers: html });
      expect(reply.status).toBe(200);
      expect(reply.body).toContain('Haven page');
      expect(reply.headers['cache-control']).toBe('no-cache');
    }
  });

  it('serves built files with long caching, and a missing file is a plain 404', async () => {
    const file = await haven().request('GET', '/assets/app-1234.js');
    expect(file.status).toBe(200);
    expect(file.headers['cache-control']).toContain('immutable');
    const missing = await haven().request('GET', '/assets/gone.js', { headers: html });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('never answers an API path with the page', async () => {
    const reply = await haven().request('GET', '/api/v1/nothing-here', { headers: html });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toContain('application/problem+json');
  });

  it('tells the web app whether first-run setup is open', async () => {
    expect((await haven().get('/api/v1/setup')).body).toEqual({ needed: true });
    await haven().post('/api/v1/setup', undefined, {
      organisationName: 'Oak Trust',
      schoolName: 'Oak Primary',
      owner: { email: 'o@oak.test', name: 'Olive Owner', password: 'copper-Kettle-41-harbour' },
    });
    expect((await haven().get('/api/v1/setup')).body).toEqual({ needed: false });
  });
});
