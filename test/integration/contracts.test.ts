import { describe, expect, it } from 'vitest';
import { setupOrganisation } from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';

describe('response contracts of the real app', () => {
  const haven = useHaven();

  it('starts strict: every route declares its answers, so none is listed', () => {
    const { mode, offenders } = haven().app.responseContracts;
    expect(mode).toBe('strict');
    expect(offenders).toEqual([]);
  });

  it('documents answers without a body and answers that are not JSON', async () => {
    const h = haven();
    const doc = (await h.get('/api/v1/openapi.json')).body;
    const responses = (path: string, method: string) => doc.paths[path][method].responses;
    expect(Object.keys(responses('/api/v1/students/{id}', 'delete'))).toContain('204');
    expect(responses('/api/v1/students/export', 'get')['200'].content).toHaveProperty('text/csv');
  });

  it('still sends the CSV export as CSV and a 204 with no body', async () => {
    const h = haven();
    const org = await setupOrganisation(h);
    const csv = await h.get('/api/v1/students/export', org.ownerToken);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(String(csv.body).split('\n')[0]).toMatch(/^id,upn,givenName/);
    const out = await h.request('POST', '/api/v1/auth/logout', { token: org.ownerToken });
    expect([out.status, out.body]).toEqual([204, '']);
  });
});
