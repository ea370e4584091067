import { describe, expect, it } from 'vitest';
import { setupOrganisation } from '../support/factories.ts';
import { useHaven } from '../support/haven.ts';
import { answerContract } from '../support/openapi-answers.ts';

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

describe('the OpenAPI document as a contract', () => {
  const haven = useHaven();
  const methods = ['get', 'put', 'post', 'delete', 'patch'];

  it('names every operation once, and gives every operation its problem+json answers', async () => {
    const doc = (await haven().get('/api/v1/openapi.json')).body;
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const ids: string[] = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const method of methods) {
        const op = item[method];
        if (!op) continue;
        expect(op.operationId, `${method} ${path}`).toMatch(/^[a-z]+[A-Za-z0-9]*$/);
        ids.push(op.operationId);
        expect(op.responses.default, `${method} ${path}`).toEqual({
          $ref: '#/components/responses/Problem',
        });
        if (op.security?.length !== 0) {
          expect(op.responses['401'], `${method} ${path}`).toBeDefined();
          expect(op.responses['403'], `${method} ${path}`).toBeDefined();
        }
      }
    }
    expect(ids.length).toBeGreaterThan(100);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.components.responses.NotFound.content).toHaveProperty('application/problem+json');
  });

  it('marks public routes `security: []` and leaves the rest to the document-wide default', async () => {
    const doc = (await haven().get('/api/v1/openapi.json')).body;
    expect(doc.security).toEqual([{ bearer: [] }, { cookie: [] }]);
    expect(doc.paths['/api/v1/auth/login'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/students'].get.security).toBeUndefined();
    expect(doc.paths['/api/v1/students'].get.operationId).toBe('getStudents');
  });

  it('gives answer times `format: date-time`, and the answers keep it', async () => {
    const h = haven();
    const doc = (await h.get('/api/v1/openapi.json')).body;
    const student =
      doc.paths['/api/v1/students/{id}'].get.responses['200'].content['application/json'].schema;
    expect(student.properties.createdAt).toMatchObject({ type: 'string', format: 'date-time' });
    const org = await setupOrganisation(h);
    const made = await h.post('/api/v1/students', org.ownerToken, {
      schoolId: org.schoolId,
      givenName: 'Ada',
      familyName: 'Example',
    });
    expect(made.status).toBe(201);
    // The suite's checker (every answer of TestHaven passes through it) refuses a time that is
    // not one, an undeclared status, a media type the operation does not give, a missing field.
    const check = answerContract(doc);
    const url = `/api/v1/students/${made.body.id}`;
    const ct = 'application/json; charset=utf-8';
    expect(check.problem('GET', url, 200, ct, made.body)).toBeNull();
    expect(check.problem('GET', url, 200, ct, { ...made.body, createdAt: 'yesterday' })).toMatch(
      /createdAt must match format "date-time"/,
    );
    expect(check.problem('GET', url, 200, 'text/csv', 'a,b')).toMatch(/as text\/csv/);
    const { givenName: _, ...partial } = made.body;
    expect(check.problem('GET', url, 200, ct, partial)).toMatch(/givenName/);
    expect(check.problem('DELETE', url, 200, ct, {})).toMatch(/does not declare|outside/);
    expect(check.problem('GET', url, 404, 'application/problem+json', { status: 404 })).toMatch(
      /outside its schema/,
    );
  });
});
