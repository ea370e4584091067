import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addMembers, createStudent, createUser, setupOrganisation } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]);

/** Sends a file the way the web app does: the bytes as the body, with their Content-Type. */
async function upload(
  h: TestHaven,
  token: string | undefined,
  url: string,
  bytes: Buffer,
  contentType: string,
  filename = 'report.pdf',
) {
  return h.request('POST', url, {
    token,
    query: { filename },
    headers: { 'content-type': contentType },
    body: bytes,
  });
}

function storedFiles(h: TestHaven): string[] {
  const root = path.join(h.config.dataDir, 'documents');
  try {
    return readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

async function school(h: TestHaven) {
  const org = await setupOrganisation(h);
  const t = org.ownerToken;
  const atSchool = { type: 'school' as const, id: org.schoolId };
  await h.patch(`/api/v1/schools/${org.schoolId}/settings`, t, { requireMfaForSensitive: false });
  const student = await createStudent(h, t, { schoolId: org.schoolId, yearGroup: 9 });
  const teams = await h.get('/api/v1/user-groups', t, { limit: 200 });
  const team = teams.body.items.find((g: any) => g.name.startsWith('Safeguarding Team')).id;
  const deputy = await createUser(h, t, { role: 'deputy_dsl', scope: atSchool });
  const admin = await createUser(h, t, { role: 'admin', scope: atSchool });
  const outsider = await createUser(h, t, { role: 'viewer', scope: atSchool });
  await addMembers(h, t, team, [deputy.id, admin.id]);
  return { org, t, student, team: team as string, deputy, admin, outsider };
}

describe('documents', () => {
  const haven = useHaven({ HAVEN_MAX_UPLOAD_BYTES: '4096' });

  it('a Deputy DSL uploads; an Admin is refused; the file is stored encrypted and comes back intact', async () => {
    const h = haven();
    const s = await school(h);
    const url = `/api/v1/students/${s.student}/documents`;
    const refused = await upload(h, s.admin.token, url, PDF, 'application/pdf');
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/Deputy DSL/);
    expect(storedFiles(h)).toEqual([]);

    const created = await upload(h, s.deputy.token, url, PDF, 'application/pdf');
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ contentType: 'application/pdf', size: PDF.length });
    const [file] = storedFiles(h);
    expect(file).toBeDefined();
    expect(readFileSync(file!).includes(PDF.subarray(0, 8))).toBe(false);
    expect(statSync(path.join(h.config.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);

    const list = await h.get(url, s.deputy.token);
    expect(list.body.items.map((d: any) => d.id)).toEqual([created.body.id]);
    const download = await h.app.inject({
      method: 'GET',
      url: `/api/v1/documents/${created.body.id}`,
      headers: { authorization: `Bearer ${s.deputy.token}` },
    });
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(download.headers['content-disposition']).toContain('attachment');
    expect(download.rawPayload.equals(PDF)).toBe(true);

    // Someone who cannot see the child cannot see the file either, and the refusal is logged.
    expect((await h.get(`/api/v1/documents/${created.body.id}`, s.outsider.token)).status).toBe(
      404,
    );
    expect((await h.get(url, s.outsider.token)).status).toBe(404);
    const log = await h.get('/api/v1/access-log', s.t, { recordId: created.body.id });
    expect(log.body.items.map((e: any) => [e.actor.id, e.after.outcome])).toEqual(
      expect.arrayContaining([
        [s.deputy.id, 'allowed'],
        [s.outsider.id, 'not_found'],
      ]),
    );
    // The allowed read names the file and the team whose link let the deputy see the child.
    const allowed = log.body.items.find((e: any) => e.after.outcome === 'allowed');
    expect(allowed).toMatchObject({
      record: { type: 'document', id: created.body.id, label: 'report.pdf' },
      allowedBy: {
        kind: 'user_group',
        userGroup: { id: s.team, name: expect.stringMatching(/^Safeguarding Team/) },
        studentGroup: { name: expect.stringMatching(/^All students/) },
      },
    });
  });

  it('a disguised executable or an oversize file is refused and nothing is stored', async () => {
    const h = haven();
    const s = await school(h);
    const url = `/api/v1/students/${s.student}/documents`;
    const disguised = await upload(h, s.deputy.token, url, EXE, 'application/pdf', 'report.pdf');
    expect(disguised.status).toBe(415);
    expect(disguised.body.code).toBe('unsupported_media_type');
    const big = Buffer.concat([PDF, Buffer.alloc(5000, 0x20)]);
    const oversize = await upload(h, s.deputy.token, url, big, 'application/pdf');
    expect(oversize.status).toBe(413);
    expect(oversize.body.code).toBe('payload_too_large');
    expect(storedFiles(h)).toEqual([]);
    const rows = await h.database.db.selectFrom('documents').selectAll().execute();
    expect(rows).toEqual([]);
  });

  it('a document whose stored bytes were altered fails its download with a clear error', async () => {
    const h = haven();
    const s = await school(h);
    const created = await upload(
      h,
      s.deputy.token,
      `/api/v1/students/${s.student}/documents`,
      Buffer.from('Notes from the strategy meeting.\n'),
      'text/plain',
      'notes.txt',
    );
    expect(created.status).toBe(201);
    const [file] = storedFiles(h);
    const bytes = readFileSync(file!);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    writeFileSync(file!, bytes);
    const download = await h.get(`/api/v1/documents/${created.body.id}`, s.deputy.token);
    expect(download.status).toBe(500);
    expect(download.body.code).toBe('document_corrupt');
  });

  it('documents on an incident follow the incident', async () => {
    const h = haven();
    const s = await school(h);
    const categories = (await h.get('/api/v1/categories', s.t)).body.items;
    const incident = await h.post('/api/v1/incidents', s.deputy.token, {
      schoolId: s.org.schoolId,
      studentIds: [s.student],
      categoryId: categories.find((c: any) => c.sensitivity === 'standard').id,
      occurredAt: '2026-11-20T10:00:00Z',
      description: 'Disclosure in class',
    });
    expect(incident.status).toBe(201);
    const url = `/api/v1/incidents/${incident.body.id}/documents`;
    const created = await upload(h, s.deputy.token, url, PDF, 'application/pdf');
    expect(created.status).toBe(201);
    await h.put(`/api/v1/incidents/${incident.body.id}/exclusions`, s.deputy.token, {
      userIds: [s.admin.id],
    });
    expect((await h.get(`/api/v1/documents/${created.body.id}`, s.admin.token)).status).toBe(404);
    expect((await h.get(url, s.admin.token)).status).toBe(404);
    expect((await h.get(`/api/v1/documents/${created.body.id}`, s.deputy.token)).status).toBe(200);
  });
});
