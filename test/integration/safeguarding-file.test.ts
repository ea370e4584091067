import { describe, expect, it, vi } from 'vitest';
import { renderFilePdf } from '../../src/modules/safeguarding-file/render-pdf.ts';
import { pdfPages, rawGet } from '../support/downloads.ts';
import {
  addMembers,
  addSchool,
  blockStudent,
  createUser,
  setupOrganisation,
  type TestUser,
} from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';
import { headTeachers, logConcern, type School, school } from '../support/school.ts';
import { enrolTotp, useHavenWithTotpClock } from '../support/two-factor.ts';

// Issue 16, item 3: the child's safeguarding file, as JSON and as a printable PDF, holds what the
// caller may read and nothing else, and every download is in the access log.

const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

/** The child's file, its exact bytes. */
function download(h: TestHaven, token: string | undefined, studentId: string, format = '') {
  return rawGet(
    h,
    token,
    `/api/v1/students/${studentId}/safeguarding-file`,
    format ? { format } : {},
  );
}

/** The text of every page of a PDF, one string. */
async function pdfText(bytes: Buffer): Promise<string> {
  return (await pdfPages(bytes)).join('\n').replace(/\s+/g, ' ');
}

async function fileRows(h: TestHaven) {
  const rows = await h.database.db
    .selectFrom('audit_events')
    .select(['category', 'actor_user_id', 'target_type', 'target_id', 'after_json'])
    .where('action', '=', 'student.safeguarding_file')
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, after: JSON.parse(r.after_json ?? 'null') }));
}

async function auditCount(h: TestHaven): Promise<number> {
  const row = await h.database.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function upload(h: TestHaven, token: string, url: string, filename: string) {
  const reply = await h.request('POST', url, {
    token,
    query: { filename },
    headers: { 'content-type': 'application/pdf' },
    body: PDF,
  });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

async function action(h: TestHaven, token: string, incidentId: string, title: string, to: string) {
  const reply = await h.post(`/api/v1/incidents/${incidentId}/actions`, token, {
    title,
    assignee: { type: 'user', id: to },
  });
  expect(reply.status).toBe(201);
  return reply.body.id as string;
}

async function edit(h: TestHaven, token: string, id: string, patch: object) {
  const current = await h.get(`/api/v1/incidents/${id}`, token);
  expect(current.status).toBe(200);
  const reply = await h.patch(`/api/v1/incidents/${id}`, token, {
    revision: current.body.revision,
    ...patch,
  });
  expect(reply.status).toBe(200);
}

/**
 * Child A's records, each with a marker in its text: a standard concern edited once (its first
 * account a readable earlier version), a child-protection concern, an allegation about Colin,
 * a standard concern Vera is excluded from, and one lowered from child protection to standard
 * (its child-protection version readable only with the clearance); actions and documents on
 * each, and a document on A's own file. Colin and the DSL hold the allegations clearance.
 */
async function records(h: TestHaven, s: School) {
  const dsl = s.users.dsl.token!;
  const a = s.students.a;
  await headTeachers(h, s, [s.users.colleague.id, s.users.dsl.id]);
  const std = await logConcern(h, s, dsl, { description: 'Said MKSTDEARLY at break.' });
  await edit(h, dsl, std, { description: 'Said MKSTDNOW at break.' });
  const cp = await logConcern(h, s, dsl, {
    sensitivity: 'child_protection',
    description: 'Disclosed MKCPTEXT to the class teacher.',
  });
  const allegation = await logConcern(h, s, dsl, {
    sensitivity: 'allegation',
    subjectUserId: s.users.colleague.id,
    description: 'Parent reports MKALLEGTEXT about a member of staff.',
  });
  const excluded = await logConcern(h, s, dsl, { description: 'Family matter MKEXCLTEXT.' });
  const ex = await h.put(`/api/v1/incidents/${excluded}/exclusions`, dsl, {
    userIds: [s.users.viewer.id],
  });
  expect(ex.status).toBe(200);
  const lowered = await logConcern(h, s, dsl, {
    sensitivity: 'child_protection',
    description: 'First account MKLOWEREDCP.',
  });
  await edit(h, dsl, lowered, {
    categoryId: s.category('standard'),
    description: 'Now standard MKLOWEREDNOW.',
  });
  const dslId = s.users.dsl.id;
  await action(h, dsl, std, 'MKACTSTD follow up', dslId);
  await action(h, dsl, cp, 'MKACTCP refer to social care', dslId);
  await action(h, dsl, allegation, 'MKACTALLEG tell the LADO', dslId);
  await action(h, dsl, excluded, 'MKACTEXCL speak to parent', dslId);
  await upload(h, dsl, `/api/v1/incidents/${std}/documents`, 'mkdocstd.pdf');
  await upload(h, dsl, `/api/v1/incidents/${cp}/documents`, 'mkdoccp.pdf');
  await upload(h, dsl, `/api/v1/incidents/${allegation}/documents`, 'mkdocalleg.pdf');
  await upload(h, dsl, `/api/v1/students/${a}/documents`, 'mkdocchild.pdf');
  return { ids: { std, cp, allegation, excluded, lowered } };
}

const every = {
  std: ['MKSTDNOW', 'MKSTDEARLY', 'MKACTSTD', 'mkdocstd.pdf'],
  cp: ['MKCPTEXT', 'MKACTCP', 'mkdoccp.pdf'],
  allegation: ['MKALLEGTEXT', 'MKACTALLEG', 'mkdocalleg.pdf'],
  excluded: ['MKEXCLTEXT', 'MKACTEXCL'],
  loweredNow: ['MKLOWEREDNOW'],
  loweredCp: ['MKLOWEREDCP'],
  child: ['mkdocchild.pdf'],
};
type Part = keyof typeof every;

/** The file as JSON and as PDF text, checked to show exactly these parts' markers. */
async function expectFile(h: TestHaven, user: TestUser, studentId: string, shown: Part[]) {
  const json = await download(h, user.token, studentId, 'json');
  expect(json.status).toBe(200);
  expect(json.headers['content-type']).toMatch(/^application\/json/);
  const pdf = await download(h, user.token, studentId, 'pdf');
  expect(pdf.status).toBe(200);
  expect(pdf.headers['content-type']).toBe('application/pdf');
  expect(pdf.headers['content-disposition']).toMatch(/^attachment; filename="safeguarding-file-/);
  const text = await pdfText(pdf.bytes);
  const jsonText = json.bytes.toString('utf8');
  for (const part of Object.keys(every) as Part[]) {
    for (const marker of every[part]) {
      const wanted = shown.includes(part);
      expect(jsonText.includes(marker), `${user.name} JSON ${marker}`).toBe(wanted);
      expect(text.includes(marker), `${user.name} PDF ${marker}`).toBe(wanted);
    }
  }
  // It says whose view it is, and never that (or how much) was left out.
  expect(text).toContain(`As seen by ${user.name}`);
  expect(text).not.toMatch(/withheld|held back|not shown|hidden/i);
  expect(jsonText).not.toMatch(/withheld|held back|not shown|hidden/i);
  return JSON.parse(jsonText);
}

describe("the child's safeguarding file", () => {
  const haven = useHaven();

  it('lists every concern, version, action and document the caller may read, and nothing else', async () => {
    const h = haven();
    const s = await school(h);
    const { ids } = await records(h, s);
    const a = s.students.a;

    // The DSL (child protection; allegations through the head teachers) reads it all.
    const full = await expectFile(h, s.users.dsl, a, Object.keys(every) as Part[]);
    expect(full.child).toMatchObject({ id: a, familyName: 'Adams', yearGroup: 9 });
    expect(full.child.school.name).toBe('Oak Primary');
    expect(full.asSeenBy).toEqual({ id: s.users.dsl.id, name: 'Dina DSL' });
    expect(full.madeBy).toEqual(full.asSeenBy);
    // Oldest first, with the earlier versions inside their concern.
    const concerns = full.entries.filter((e: any) => e.kind === 'concern');
    expect(concerns.map((e: any) => e.concern.id).sort()).toEqual(Object.values(ids).sort());
    const ats = full.entries.map((e: any) => e.at);
    expect(ats).toEqual([...ats].sort());
    const std = concerns.find((e: any) => e.concern.id === ids.std).concern;
    expect(std.description).toContain('MKSTDNOW');
    expect(std.revisions).toHaveLength(1);
    expect(std.revisions[0].description).toContain('MKSTDEARLY');
    expect(std.actions.map((x: any) => x.title)).toEqual(['MKACTSTD follow up']);
    expect(std.documents.map((d: any) => d.name)).toEqual(['mkdocstd.pdf']);
    expect(std.reporter).toBe('Dina DSL');
    const own = full.entries.filter((e: any) => e.kind === 'document');
    expect(own.map((e: any) => e.document)).toEqual([
      expect.objectContaining({ name: 'mkdocchild.pdf', size: PDF.length }),
    ]);

    // A Viewer without clearance, excluded from one record: standard records only, and of the
    // lowered record its current version, not its child-protection one.
    const vera = await expectFile(h, s.users.viewer, a, ['std', 'loweredNow', 'child']);
    const veraIds = JSON.stringify(vera);
    for (const hidden of [ids.cp, ids.allegation, ids.excluded])
      expect(veraIds).not.toContain(hidden);
    const lowered = vera.entries.find((e: any) => e.concern?.id === ids.lowered).concern;
    expect(lowered.revisions).toEqual([]);

    // Colin, the allegation's subject (with the allegations clearance): not the allegation.
    await expectFile(h, s.users.colleague, a, ['std', 'excluded', 'loweredNow', 'child']);

    // A member of the Year 9 team blocked from A, someone at another school, another
    // organisation, a child the caller cannot see: 404, as for the child's record itself.
    const blocked = await createUser(h, s.t, {
      name: 'Bea Blocked',
      role: 'viewer',
      scope: s.atSchool,
    });
    await addMembers(h, s.t, s.team, [blocked.id]);
    await blockStudent(h, s.t, blocked.id, a);
    const elm = await addSchool(h, s.t, 'Elm Academy');
    const elmDsl = await createUser(h, s.t, {
      name: 'Elm DSL',
      role: 'dsl',
      scope: { type: 'school', id: elm },
    });
    const other = await setupOrganisation(h, { organisation: 'Ash Trust', school: 'Ash School' });
    const before = await auditCount(h);
    for (const [token, id] of [
      [blocked.token, a],
      [elmDsl.token, a],
      [other.ownerToken, a],
      [s.users.viewer.token, s.students.c],
      [s.users.dsl.token, 'no-such-child'],
    ] as const) {
      for (const format of ['json', 'pdf']) {
        const refused = await download(h, token, id, format);
        expect(refused.status, `${format} ${id}`).toBe(404);
        expect(refused.bytes.toString()).not.toMatch(/MK[A-Z]/);
      }
    }
    // The blocked member of staff reads the child's classmate, so the 404 is the block's.
    expect((await download(h, blocked.token, s.students.b, 'json')).status).toBe(200);
    const bad = await h.get(`/api/v1/students/${a}/safeguarding-file`, s.users.dsl.token, {
      format: 'docx',
    });
    expect(bad.status).toBe(400);
    // Refusals write nothing (the blocked member's own download of B aside).
    expect(await auditCount(h)).toBe(before + 1);
  }, 60_000);

  it('writes every download to the access log, and refusals not at all', async () => {
    const h = haven();
    const s = await school(h);
    await records(h, s);
    const a = s.students.a;
    expect(await fileRows(h)).toEqual([]);
    await download(h, s.users.dsl.token, a, 'pdf');
    await download(h, s.users.viewer.token, a);
    await download(h, s.users.viewer.token, s.students.c, 'pdf');
    await download(h, s.users.viewer.token, a, 'xml');
    const rows = await fileRows(h);
    expect(rows.map((r) => [r.category, r.actor_user_id, r.target_type, r.target_id])).toEqual([
      ['access', s.users.dsl.id, 'student', a],
      ['access', s.users.viewer.id, 'student', a],
    ]);
    expect(rows.map((r) => [r.after.outcome, r.after.format])).toEqual([
      ['allowed', 'pdf'],
      ['allowed', 'json'],
    ]);
    // The path that let Vera see the child: the Year 9 team's link.
    expect(rows[1]!.after.path).toMatchObject({ user_group_id: s.team });
    // The row says nothing of what the file held (those who read it may not read the records).
    // (Markers are upper case, as ids never are; the row holds the outcome, format and path only.)
    expect(rows.map((r) => r.after_json).join()).not.toMatch(/MK[A-Z]{3}|incident|concern/);
    for (const r of rows)
      expect(Object.keys(r.after).sort()).toEqual(['format', 'outcome', 'path']);
    // The access log shows it to an Admin who sees the child.
    const log = await h.get('/api/v1/access-log', s.t, { limit: 50 });
    expect(log.status).toBe(200);
    expect(JSON.stringify(log.body)).toContain('student.safeguarding_file');
  }, 60_000);

  it('the same file renders to the same PDF bytes, and the download is that rendering', async () => {
    const h = haven();
    const s = await school(h);
    await records(h, s);
    const a = s.students.a;
    const dsl = s.users.dsl.token;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    let first: Awaited<ReturnType<typeof download>>;
    try {
      first = await download(h, dsl, a, 'pdf');
      const second = await download(h, dsl, a, 'pdf');
      const json = await download(h, dsl, a, 'json');
      expect(first.status).toBe(200);
      expect(first.bytes.subarray(0, 5).toString()).toBe('%PDF-');
      expect(second.bytes.equals(first.bytes)).toBe(true);
      const file = JSON.parse(json.bytes.toString('utf8'));
      const rendered = await renderFilePdf(file);
      expect(rendered.equals(first.bytes)).toBe(true);
      expect((await renderFilePdf(file)).equals(rendered)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    // Made at another moment, the file says so, and is other bytes.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = await download(h, dsl, a, 'pdf');
    expect(later.status).toBe(200);
    expect(later.bytes.equals(first.bytes)).toBe(false);
    const text = await pdfText(later.bytes);
    expect(text).toContain('Safeguarding file');
    expect(text).toMatch(/Page 1 of \d+/);
  }, 60_000);
});

describe("the child's safeguarding file and the two-factor step-up", () => {
  const { haven, clock } = useHavenWithTotpClock();

  it('is refused with mfa_required while a step-up would add records, and whole after it', async () => {
    const h = haven();
    const s = await school(h, { stepUp: true });
    const dsl = s.users.dsl.token!;
    await logConcern(h, s, dsl, { description: 'Standard MKSTEPSTD.' });
    await logConcern(h, s, dsl, {
      sensitivity: 'child_protection',
      description: 'Sensitive MKSTEPCP.',
    });
    const before = await auditCount(h);
    const refused = await download(h, dsl, s.students.a, 'json');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.bytes.toString()).code).toBe('mfa_required');
    expect(refused.bytes.toString()).not.toContain('MKSTEP');
    expect(await fileRows(h)).toEqual([]);
    // A child with no sensitive records: the file is whole without a step-up.
    expect((await download(h, dsl, s.students.b, 'json')).status).toBe(200);
    // The Viewer would gain nothing from a step-up: their file is whole.
    const vera = await download(h, s.users.viewer.token, s.students.a, 'json');
    expect(vera.status).toBe(200);
    expect(vera.bytes.toString()).toContain('MKSTEPSTD');
    expect(vera.bytes.toString()).not.toContain('MKSTEPCP');
    // Enrolling passes a step-up for this session.
    await enrolTotp(h, dsl, clock);
    const whole = await download(h, dsl, s.students.a, 'pdf');
    expect(whole.status).toBe(200);
    const text = await pdfText(whole.bytes);
    expect(text).toContain('MKSTEPSTD');
    expect(text).toContain('MKSTEPCP');
    expect(await auditCount(h)).toBeGreaterThan(before);
  }, 60_000);
});
