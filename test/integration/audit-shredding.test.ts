import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from '../../src/db/migrate.ts';
import type { AuditEventsTable } from '../../src/db/tables.ts';
import { canonicalJson } from '../../src/lib/canonical-json.ts';
import { GENESIS_HASH, shredAuditRows } from '../../src/modules/audit/chain.ts';
import { runChange } from '../../src/modules/audit/change.ts';
import { verifyAuditChains } from '../../src/modules/audit/verify.ts';
import {
  createTestDatabase,
  type TestDatabase,
  whileNoSchemaIsDropped,
} from '../support/database.ts';
import { rawGet } from '../support/downloads.ts';
import type { TestHaven } from '../support/haven.ts';
import { useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

// Issue 16, retention: destroying a record shreds the payloads of the earlier audit rows about
// it, its actions and its documents; the chain still verifies and still shows tampering.

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
const CONTENT = /MKTITLE|mkname|MKACCOUNT|MKPLACE/;

/** The formula every row was hashed with before migration 0023, written out here on its own. */
function oldFormula(
  prevHash: string,
  row: Omit<AuditEventsTable, 'seq' | 'hash' | 'hash_version' | 'payload_digest' | 'shredded_at'>,
): string {
  const body = canonicalJson({
    id: row.id,
    chain_id: row.chain_id,
    organisation_id: row.organisation_id,
    at: row.at,
    category: row.category,
    action: row.action,
    actor_user_id: row.actor_user_id,
    target_type: row.target_type,
    target_id: row.target_id,
    before_json: row.before_json,
    after_json: row.after_json,
    meta_json: row.meta_json,
  });
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

/**
 * A standard concern past its day (six years from 2015), edited once, with an action given a
 * title and renamed, a document uploaded and downloaded, and the record read.
 */
async function recordWithHistory(h: TestHaven, s: School) {
  const dsl = s.users.dsl.token!;
  const created = await h.post('/api/v1/incidents', dsl, {
    schoolId: s.org.schoolId,
    studentIds: [s.students.a],
    categoryId: s.category('standard'),
    occurredAt: '2015-03-02T10:00:00Z',
    location: 'MKPLACE the bike shed',
    description: 'MKACCOUNT first telling.',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  const current = await h.get(`/api/v1/incidents/${id}`, dsl);
  expect(current.status).toBe(200);
  const edited = await h.patch(`/api/v1/incidents/${id}`, dsl, {
    revision: current.body.revision,
    description: 'MKACCOUNT second telling.',
  });
  expect(edited.status, JSON.stringify(edited.body)).toBe(200);
  const action = await h.post(`/api/v1/incidents/${id}/actions`, dsl, {
    title: 'MKTITLE call the parents',
    assignee: { type: 'user', id: s.users.dsl.id },
  });
  expect(action.status, JSON.stringify(action.body)).toBe(201);
  const actionId = action.body.id as string;
  const renamed = await h.patch(`/api/v1/actions/${actionId}`, dsl, {
    title: 'MKTITLE call both parents',
  });
  expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
  const doc = await h.request('POST', `/api/v1/incidents/${id}/documents`, {
    token: dsl,
    query: { filename: 'mkname-referral.pdf' },
    headers: { 'content-type': 'application/pdf' },
    body: PDF,
  });
  expect(doc.status, JSON.stringify(doc.body)).toBe(201);
  const documentId = doc.body.id as string;
  expect((await rawGet(h, dsl, `/api/v1/documents/${documentId}`)).status).toBe(200);
  return { id, actionId, documentId };
}

async function destroy(h: TestHaven, s: School, id: string) {
  const reply = await h.post(`/api/v1/retention/records/${id}/decisions`, s.users.dsl.token!, {
    action: 'destroy',
  });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', 'incident.destroy')
    .where('target_id', '=', id)
    .executeTakeFirstOrThrow();
}

/** Every row of the audit log about these targets, as the Owner reads it through the API. */
async function logAbout(h: TestHaven, s: School, targetIds: string[]) {
  const items: any[] = [];
  for (const targetId of targetIds) {
    const reply = await h.get('/api/v1/audit-log', s.t, { targetId, limit: 100 });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    items.push(...reply.body.items);
  }
  return items;
}

async function rowsAbout(h: TestHaven, ids: string[]) {
  return h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('target_id', 'in', ids)
    .orderBy('seq')
    .execute();
}

async function problems(h: TestHaven) {
  return (await verifyAuditChains(h.database.db)).problems;
}

/** Sets columns of one row, runs `check`, and puts the row back as it was. */
async function tampered(
  h: TestHaven,
  row: AuditEventsTable,
  set: Partial<AuditEventsTable>,
  check: () => Promise<void>,
) {
  const db = h.database.db;
  await db.updateTable('audit_events').set(set).where('id', '=', row.id).execute();
  await check();
  const back = Object.fromEntries(Object.keys(set).map((k) => [k, row[k as keyof typeof row]]));
  await db.updateTable('audit_events').set(back).where('id', '=', row.id).execute();
}

/** Rewrites a whole chain with the old formula, as if every row were written before 0023. */
async function asWrittenBefore0023(h: TestHaven, chainId: string) {
  const db = h.database.db;
  const rows = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('chain_id', '=', chainId)
    .orderBy('seq')
    .execute();
  let prev = GENESIS_HASH;
  for (const row of rows) {
    const hash = oldFormula(prev, { ...row, prev_hash: prev });
    await db
      .updateTable('audit_events')
      .set({ hash_version: 1, payload_digest: null, prev_hash: prev, hash })
      .where('id', '=', row.id)
      .execute();
    prev = hash;
  }
  await db
    .updateTable('audit_chains')
    .set({ last_hash: prev })
    .where('chain_id', '=', chainId)
    .execute();
}

describe('audit shredding on destruction', () => {
  const haven = useHaven();

  it('shreds every earlier row about the record, its actions and documents; the chain verifies', async () => {
    const h = haven();
    const s = await school(h);
    const { id, actionId, documentId } = await recordWithHistory(h, s);
    const ids = [id, actionId, documentId];

    // Before: the rows hold the title and the file name, the API shows them, all hashed v2.
    const earlier = await rowsAbout(h, ids);
    expect(JSON.stringify(earlier)).toMatch(/MKTITLE/);
    expect(JSON.stringify(earlier)).toMatch(/mkname/);
    expect(earlier.map((r) => r.hash_version)).toEqual(earlier.map(() => 2));
    expect(earlier.every((r) => /^[0-9a-f]{64}$/.test(r.payload_digest ?? ''))).toBe(true);
    expect(JSON.stringify(await logAbout(h, s, ids))).toMatch(/MKTITLE/);
    expect(earlier.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'incident.create',
        'incident.update',
        'incident.read',
        'action.create',
        'action.update',
        'document.upload',
        'document.read',
      ]),
    );

    const tomb = await destroy(h, s, id);

    // After: no row anywhere holds the content; each earlier row is shredded, hash untouched.
    const everything = await h.database.db.selectFrom('audit_events').selectAll().execute();
    expect(JSON.stringify(everything)).not.toMatch(CONTENT);
    const after = new Map(everything.map((r) => [r.id, r]));
    for (const row of earlier) {
      const now = after.get(row.id)!;
      expect(now).toMatchObject({
        before_json: null,
        after_json: null,
        meta_json: null,
        shredded_at: tomb.at,
        hash: row.hash,
        payload_digest: row.payload_digest,
      });
    }
    // The destruction says how many it shredded, and holds no content itself.
    expect(JSON.parse(tomb.meta_json!)).toMatchObject({
      shreddedAuditRows: earlier.length,
      auditRowsKeptWhole: 0,
    });
    const decision = everything.find((r) => r.action === 'retention.destroy' && r.at === tomb.at);
    expect(decision?.shredded_at).toBeNull();
    expect(tomb.shredded_at).toBeNull();

    // The audit log shows the rows, marked, with nothing of the record; and the access log too.
    const log = await logAbout(h, s, ids);
    expect(JSON.stringify(log)).not.toMatch(CONTENT);
    const shown = log.filter((e) => earlier.some((r) => r.id === e.id));
    expect(shown.length).toBeGreaterThan(0);
    for (const e of shown) expect(e).toMatchObject({ destroyed: true, before: null, after: null });
    expect(log.find((e) => e.id === tomb.id)).toMatchObject({
      destroyed: false,
      meta: { shreddedAuditRows: earlier.length },
    });
    const access = await h.get('/api/v1/access-log', s.t, { recordId: id });
    expect(access.status).toBe(200);
    expect(access.body.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(access.body)).not.toMatch(CONTENT);

    expect(await problems(h)).toEqual([]);
  });

  it('still reports tampering with shredded and whole rows', async () => {
    const h = haven();
    const s = await school(h);
    const { id } = await recordWithHistory(h, s);
    const tomb = await destroy(h, s, id);
    expect(await problems(h)).toEqual([]);
    const shredded = (await rowsAbout(h, [id])).find((r) => r.action === 'incident.update')!;
    expect(shredded.shredded_at).not.toBeNull();
    const edited = (row: AuditEventsTable, why: string) => async () => {
      const found = await problems(h);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ kind: 'edited', seq: row.seq, eventId: row.id });
      expect(found[0]!.message).toContain(why);
    };

    // A shredded row's action, its digest, or its payload put back without un-shredding it.
    await tampered(h, shredded, { action: 'incident.read' }, edited(shredded, 'its hash'));
    await tampered(h, shredded, { payload_digest: 'f'.repeat(64) }, edited(shredded, 'its hash'));
    await tampered(h, shredded, { after_json: '{"revision":2}' }, edited(shredded, 'shredded'));
    // Un-shredding a row without its payload: the digest no longer matches.
    await tampered(h, shredded, { shredded_at: null }, edited(shredded, 'digest'));

    // A whole version-2 row: its payload edited, nulled, or its digest changed to match an edit.
    await tampered(h, tomb, { after_json: '{"what":{}}' }, edited(tomb, 'digest'));
    await tampered(h, tomb, { after_json: null }, edited(tomb, 'digest'));
    await tampered(h, tomb, { hash_version: 1 }, edited(tomb, 'migration 0023'));
    const forged = { ...tomb, after_json: '{"what":{}}' };
    const digest = createHash('sha256')
      .update(
        canonicalJson({
          before_json: forged.before_json,
          after_json: forged.after_json,
          meta_json: forged.meta_json,
        }),
      )
      .digest('hex');
    await tampered(
      h,
      tomb,
      { after_json: forged.after_json, payload_digest: digest },
      edited(tomb, 'its hash'),
    );
    // Marked shredded but not blanked.
    await tampered(h, tomb, { shredded_at: tomb.at }, edited(tomb, 'still holds'));

    // Blanking a row outside a destruction, even dated as one, is seen: the counts differ.
    const other = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('chain_id', '=', s.org.organisationId)
      .where('action', '=', 'student.create')
      .orderBy('seq')
      .executeTakeFirstOrThrow();
    for (const when of [tomb.at, '2026-01-01T00:00:00.000Z']) {
      await tampered(
        h,
        other,
        { before_json: null, after_json: null, meta_json: null, shredded_at: when },
        async () => {
          const found = await problems(h);
          expect(found).toHaveLength(1);
          expect(found[0]).toMatchObject({ kind: 'edited', chainId: s.org.organisationId });
          expect(found[0]!.message).toContain('outside a destruction');
        },
      );
    }

    // Every row put back: it verifies again.
    expect(await problems(h)).toEqual([]);
  });

  it('leaves rows from before migration 0023 whole, hides them in the log, and still verifies', async () => {
    const h = haven();
    const s = await school(h);
    const { id, actionId, documentId } = await recordWithHistory(h, s);
    // Every chain of the organisation: its change chain and the read chains its reads went to.
    const chains = await h.database.db.selectFrom('audit_chains').select('chain_id').execute();
    const own = chains
      .map((c) => c.chain_id)
      .filter((c) => c === s.org.organisationId || c.startsWith(`${s.org.organisationId}/reads/`));
    expect(own.length).toBeGreaterThan(1);
    for (const chain of own) await asWrittenBefore0023(h, chain);
    expect(await problems(h)).toEqual([]);
    const before = await rowsAbout(h, [id, actionId, documentId]);
    expect(before.every((r) => r.hash_version === 1)).toBe(true);

    const tomb = await destroy(h, s, id);
    // Later rows are version 2 on the same chain; the old ones cannot be shredded.
    expect(tomb.hash_version).toBe(2);
    expect(JSON.parse(tomb.meta_json!)).toMatchObject({
      shreddedAuditRows: 0,
      auditRowsKeptWhole: before.length,
    });
    const stored = await rowsAbout(h, [id, actionId, documentId]);
    // The documented gap: their bytes stay in the database.
    expect(JSON.stringify(stored)).toMatch(/MKTITLE/);
    expect(stored.filter((r) => r.shredded_at !== null)).toEqual([]);
    expect(await problems(h)).toEqual([]);

    // The audit log does not show them: marked destroyed, before, after and meta blank.
    const log = await logAbout(h, s, [id, actionId, documentId]);
    expect(JSON.stringify(log)).not.toMatch(CONTENT);
    const old = log.filter((e) => before.some((r) => r.id === e.id));
    expect(old.map((e) => e.action)).toEqual(
      expect.arrayContaining(['incident.create', 'action.create', 'action.update']),
    );
    for (const e of old)
      expect(e).toMatchObject({ destroyed: true, before: null, after: null, meta: null });
    const page = await h.get('/api/v1/audit-log', s.t, { limit: 100 });
    expect(JSON.stringify(page.body)).not.toMatch(CONTENT);

    // A version-1 row marked shredded is an edit.
    const v1 = before.find((r) => r.action === 'action.create')!;
    await tampered(
      h,
      v1,
      { before_json: null, after_json: null, meta_json: null, shredded_at: tomb.at },
      async () => {
        const found = await problems(h);
        expect(found[0]).toMatchObject({ kind: 'edited', eventId: v1.id });
        expect(found[0]!.message).toContain('cannot be shredded');
      },
    );
    expect(await problems(h)).toEqual([]);
  });
});

describe('migration 0023 on a chain written before it', () => {
  let test: TestDatabase | undefined;
  afterEach(async () => {
    await test?.dispose();
    test = undefined;
  });

  it('keeps old rows as version 1; new rows are version 2; the mixed chain and an old head verify', async () => {
    test = await createTestDatabase({ migrate: false });
    const db = test.database.db;
    await whileNoSchemaIsDropped(() => migrateTo(db, '0022_transfers'));
    const at = (n: number) => `2026-10-0${n}T09:00:00.000Z`;
    let prev = GENESIS_HASH;
    for (let n = 1; n <= 3; n++) {
      const row = {
        id: `e${n}`,
        chain_id: 'o1',
        organisation_id: 'o1',
        at: at(n),
        category: 'change',
        action: 'action.update',
        actor_user_id: null,
        target_type: n === 3 ? 'user' : 'action',
        target_id: n === 3 ? 'u1' : 'a1',
        before_json: JSON.stringify({ title: `MKTITLE ${n}` }),
        after_json: JSON.stringify({ title: `MKTITLE ${n + 1}` }),
        meta_json: JSON.stringify({ via: 'api' }),
        prev_hash: prev,
      };
      const hash = oldFormula(prev, row);
      await db
        .insertInto('audit_events')
        .values({ ...row, seq: n, hash } as never)
        .execute();
      prev = hash;
    }
    await db
      .insertInto('audit_chains')
      .values({ chain_id: 'o1', last_seq: 3, last_hash: prev })
      .execute();
    const oldHead = { chainId: 'o1', seq: 3, hash: prev };

    await whileNoSchemaIsDropped(() => migrateToLatest(db));
    const migrated = await db
      .selectFrom('audit_events')
      .select(['id', 'hash_version', 'payload_digest', 'shredded_at'])
      .orderBy('seq')
      .execute();
    expect(migrated).toEqual(
      ['e1', 'e2', 'e3'].map((id) => ({
        id,
        hash_version: 1,
        payload_digest: null,
        shredded_at: null,
      })),
    );
    expect(await verifyAuditChains(db, [oldHead])).toMatchObject({ problems: [], rows: 3 });

    // New rows on the same chain: version 2; then one about the same action is shredded, the
    // version-1 rows are left whole, and the chain with its old head still verifies.
    const origin = { organisationId: 'o1', userId: null };
    await runChange(test.database, origin, async (change) => {
      change.record({
        action: 'action.update',
        targetType: 'action',
        targetId: 'a1',
        after: { title: 'MKTITLE new' },
      });
    });
    let counts = { shredded: -1, keptWhole: -1 };
    await runChange(test.database, origin, async (change) => {
      counts = await shredAuditRows(change.db, 'o1', change.now, [{ type: 'action', ids: ['a1'] }]);
      change.record({
        action: 'incident.destroy',
        targetType: 'incident',
        targetId: 'i1',
        meta: { shreddedAuditRows: counts.shredded },
      });
    });
    expect(counts).toEqual({ shredded: 1, keptWhole: 2 });
    const rows = await db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    expect(rows.map((r) => [r.seq, r.hash_version, r.shredded_at !== null])).toEqual([
      [1, 1, false],
      [2, 1, false],
      [3, 1, false],
      [4, 2, true],
      [5, 2, false],
    ]);
    expect(rows[3]!.prev_hash).toBe(oldHead.hash);
    expect(rows[3]!.after_json).toBeNull();
    const report = await verifyAuditChains(db, [oldHead]);
    expect(report).toMatchObject({ problems: [], rows: 5 });

    // An edit of an old row is still caught by the old formula.
    await sql`update audit_events set after_json = ${'{"title":"x"}'} where id = 'e2'`.execute(db);
    const broken = await verifyAuditChains(db);
    expect(broken.problems[0]).toMatchObject({ kind: 'edited', seq: 2, eventId: 'e2' });
  });
});
