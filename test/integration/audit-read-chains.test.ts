import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/lib/ids.ts';
import {
  appendOneRead,
  GENESIS_HASH,
  READ_CHAINS,
  readChainId,
} from '../../src/modules/audit/chain.ts';
import { runRead } from '../../src/modules/audit/change.ts';
import { verifyAuditChains } from '../../src/modules/audit/verify.ts';
import { runHaven } from '../support/cli.ts';
import { testEngine } from '../support/database.ts';
import type { TestHaven } from '../support/haven.ts';
import { useHaven } from '../support/haven.ts';
import { type School, school } from '../support/school.ts';

// Issue 17, item 5: logged reads go to one of the organisation's K read chains, each its own hash
// chain with its own head; changes keep the organisation's single chain and its lock.

const onPostgres = testEngine() === 'postgres';

async function chainsOf(h: TestHaven, organisationId: string) {
  const heads = await h.database.db
    .selectFrom('audit_chains')
    .selectAll()
    .orderBy('chain_id')
    .execute();
  return heads.filter(
    (c) => c.chain_id === organisationId || c.chain_id.startsWith(`${organisationId}/reads/`),
  );
}

async function accessRows(h: TestHaven, organisationId: string, action: string) {
  return h.database.db
    .selectFrom('audit_events')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('action', '=', action)
    .orderBy('id')
    .execute();
}

/** A standard concern about child a, past its day (six years from 2015), logged by the DSL. */
async function oldConcern(h: TestHaven, s: School) {
  const created = await h.post('/api/v1/incidents', s.users.dsl.token!, {
    schoolId: s.org.schoolId,
    studentIds: [s.students.a],
    categoryId: s.category('standard'),
    occurredAt: '2015-03-02T10:00:00Z',
    location: 'MKPLACE the field',
    description: 'MKACCOUNT what was seen.',
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

describe('read chains', () => {
  const haven = useHaven();

  it('spreads 50 concurrent profile reads over several read chains; the change chain is untouched; every chain verifies', async () => {
    const h = haven();
    const s = await school(h);
    const org = s.org.organisationId;
    const changeHead = (await chainsOf(h, org)).find((c) => c.chain_id === org)!;

    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h.get(`/api/v1/students/${[s.students.a, s.students.b, s.students.c][i % 3]}`, s.t),
      ),
    );
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));

    const reads = await accessRows(h, org, 'student.read');
    expect(reads).toHaveLength(50);
    for (const row of reads) {
      expect(row.category).toBe('access');
      expect(row.chain_id).toMatch(new RegExp(`^${org}/reads/[0-${READ_CHAINS - 1}]$`));
    }
    const used = new Set(reads.map((r) => r.chain_id));
    expect(used.size).toBeGreaterThan(1);

    // The change chain did not move; each read chain is whole, numbered from 1 with no gap.
    const chains = await chainsOf(h, org);
    expect(chains.find((c) => c.chain_id === org)).toEqual(changeHead);
    for (const chainId of used) {
      const rows = await h.database.db
        .selectFrom('audit_events')
        .select(['seq'])
        .where('chain_id', '=', chainId)
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(chains.find((c) => c.chain_id === chainId)?.last_seq).toBe(rows.length);
    }

    const report = await verifyAuditChains(h.database.db);
    expect(report.problems).toEqual([]);
    for (const chainId of used) expect(report.heads.map((x) => x.chainId)).toContain(chainId);

    // The access log reads across the chains: the newest read first, each once.
    const log = await h.get('/api/v1/access-log', s.t, { recordId: s.students.a, limit: 100 });
    expect(log.status).toBe(200);
    const ids = log.body.items.map((e: { id: string }) => e.id);
    const expected = reads
      .filter((r) => r.target_id === s.students.a)
      .map((r) => r.id)
      .reverse();
    expect(ids).toEqual(expected);
    expect(new Set(log.body.items.map((e: { chain: string }) => e.chain)).size).toBeGreaterThan(1);

    // `haven audit verify` prints each chain's head, the read chains' too.
    const cli = await runHaven(h, ['audit', 'verify']);
    expect(cli.code, cli.err).toBe(0);
    for (const chainId of used) expect(cli.out).toContain(`head ${chainId}:`);
  });

  it('refuses anything but access rows in a read, and writes nothing', async () => {
    const h = haven();
    const s = await school(h);
    const before = await h.database.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    await expect(
      runRead(h.database, { organisationId: s.org.organisationId, userId: null }, async (c) => {
        c.record({ category: 'access', action: 'student.read', targetType: 'student' });
        c.record({ action: 'student.update', targetType: 'student' });
      }),
    ).rejects.toThrow(/reads only/);
    const after = await h.database.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('catches an edited, deleted or cut read-chain row', async () => {
    const h = haven();
    const s = await school(h);
    const org = s.org.organisationId;
    for (let i = 0; i < 3 * READ_CHAINS; i++)
      expect((await h.get(`/api/v1/students/${s.students.a}`, s.t)).status).toBe(200);
    const first = await verifyAuditChains(h.database.db);
    expect(first.problems).toEqual([]);
    const reads = await accessRows(h, org, 'student.read');
    const row = reads.find((r) => r.seq === 2)!;
    const chainId = row.chain_id;
    expect(chainId).toMatch(/\/reads\//);
    const db = h.database.db;

    // An edited payload.
    await db
      .updateTable('audit_events')
      .set({ after_json: '{"outcome":"not_found"}' })
      .where('id', '=', row.id)
      .execute();
    let found = (await verifyAuditChains(db)).problems;
    expect(found).toEqual([expect.objectContaining({ chainId, kind: 'edited', eventId: row.id })]);
    await db
      .updateTable('audit_events')
      .set({ after_json: row.after_json })
      .where('id', '=', row.id)
      .execute();
    expect((await verifyAuditChains(db)).problems).toEqual([]);

    // A deleted row.
    await db.deleteFrom('audit_events').where('id', '=', row.id).execute();
    found = (await verifyAuditChains(db)).problems;
    expect(found).toEqual([expect.objectContaining({ chainId, kind: 'deleted' })]);
    await db.insertInto('audit_events').values(row).execute();
    expect((await verifyAuditChains(db)).problems).toEqual([]);

    // The tail cut and the head rewritten to match: only a head kept elsewhere sees it.
    const mark = first.heads.find((x) => x.chainId === chainId)!;
    expect(mark.seq).toBeGreaterThan(2);
    await db
      .deleteFrom('audit_events')
      .where('chain_id', '=', chainId)
      .where('seq', '>', 2)
      .execute();
    await db
      .updateTable('audit_chains')
      .set({ last_seq: 2, last_hash: reads.find((r) => r.id === row.id)!.hash })
      .where('chain_id', '=', chainId)
      .execute();
    expect((await verifyAuditChains(db)).problems).toEqual([]);
    found = (await verifyAuditChains(db, [mark])).problems;
    expect(found).toEqual([expect.objectContaining({ chainId, kind: 'deleted' })]);
    expect(found[0]!.message).toMatch(/shorter than the expected head/);
  });

  it("destruction shreds the record's access rows in the read chains; the counts hold across chains", async () => {
    const h = haven();
    const s = await school(h);
    const org = s.org.organisationId;
    const dsl = s.users.dsl.token!;
    const id = await oldConcern(h, s);
    const reads = await Promise.all(
      Array.from({ length: 12 }, () => h.get(`/api/v1/incidents/${id}`, dsl)),
    );
    expect(reads.map((r) => r.status)).toEqual(reads.map(() => 200));
    // Reads of a child, which the destruction of the concern leaves alone.
    for (let i = 0; i < 4; i++)
      expect((await h.get(`/api/v1/students/${s.students.b}`, s.t)).status).toBe(200);
    const about = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('target_id', '=', id)
      .execute();
    const inReadChains = about.filter((r) => r.chain_id.startsWith(`${org}/reads/`));
    expect(inReadChains.length).toBe(12);
    expect(new Set(inReadChains.map((r) => r.chain_id)).size).toBeGreaterThan(1);
    expect(JSON.stringify(inReadChains)).toMatch(/outcome/);

    const destroyed = await h.post(`/api/v1/retention/records/${id}/decisions`, dsl, {
      action: 'destroy',
    });
    expect(destroyed.status, JSON.stringify(destroyed.body)).toBe(200);
    const tomb = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'incident.destroy')
      .where('target_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(tomb.chain_id).toBe(org);

    // Every earlier row about the concern, in whichever chain, is shredded at the destruction.
    const shredded = await h.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('shredded_at', '=', tomb.at)
      .execute();
    expect(shredded.map((r) => r.id).sort()).toEqual(about.map((r) => r.id).sort());
    for (const r of shredded)
      expect(r).toMatchObject({ before_json: null, after_json: null, meta_json: null });
    expect(JSON.parse(tomb.meta_json!)).toMatchObject({ shreddedAuditRows: about.length });
    expect(
      JSON.stringify(await h.database.db.selectFrom('audit_events').selectAll().execute()),
    ).not.toMatch(/MKPLACE|MKACCOUNT/);
    expect((await verifyAuditChains(h.database.db)).problems).toEqual([]);

    // Blanking another read-chain row, dated as the destruction: the organisation's count is off.
    const other = (await accessRows(h, org, 'student.read'))[0]!;
    await h.database.db
      .updateTable('audit_events')
      .set({ before_json: null, after_json: null, meta_json: null, shredded_at: tomb.at })
      .where('id', '=', other.id)
      .execute();
    const found = (await verifyAuditChains(h.database.db)).problems;
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: 'edited' });
    expect(found[0]!.message).toContain('outside a destruction');
    await h.database.db
      .updateTable('audit_events')
      .set({
        before_json: other.before_json,
        after_json: other.after_json,
        meta_json: other.meta_json,
        shredded_at: null,
      })
      .where('id', '=', other.id)
      .execute();
    expect((await verifyAuditChains(h.database.db)).problems).toEqual([]);
  });

  it.runIf(onPostgres)(
    'one-statement appends racing on one read chain each take the head the one before left',
    async () => {
      const h = haven();
      const s = await school(h);
      const org = s.org.organisationId;
      const chainId = readChainId(org, 0);
      const entry = (n: number) => ({
        id: newId(),
        chain_id: chainId,
        organisation_id: org,
        at: new Date(Date.UTC(2026, 10, 30, 9, 0, 0, n)).toISOString(),
        category: 'access',
        action: 'student.read',
        actor_user_id: null,
        target_type: 'student',
        target_id: s.students.a,
        before_json: null,
        after_json: JSON.stringify({ outcome: 'allowed', n, name: 'Zoë' }),
        meta_json: JSON.stringify({ via: 'api' }),
      });
      // No head row yet: nothing is written.
      expect(await appendOneRead(h.database.db, chainId, entry(0))).toBe(false);
      expect(await accessRows(h, org, 'student.read')).toEqual([]);
      await h.database.db
        .insertInto('audit_chains')
        .values({ chain_id: chainId, last_seq: 0, last_hash: GENESIS_HASH })
        .execute();
      // More at once than the pool has connections, all to the one chain.
      const done = await Promise.all(
        Array.from({ length: 40 }, (_, n) => appendOneRead(h.database.db, chainId, entry(n + 1))),
      );
      expect(done).toEqual(done.map(() => true));
      const rows = await h.database.db
        .selectFrom('audit_events')
        .select(['seq'])
        .where('chain_id', '=', chainId)
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(rows).toHaveLength(40);
      const report = await verifyAuditChains(h.database.db);
      expect(report.problems).toEqual([]);
      expect(report.heads).toContainEqual(expect.objectContaining({ chainId, seq: 40 }));
    },
  );

  it.runIf(onPostgres)(
    "a logged read does not wait for the organisation's change chain",
    async () => {
      const h = haven();
      const s = await school(h);
      const org = s.org.organisationId;
      const other = new pg.Client({ connectionString: h.db.env.DATABASE_URL });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select * from audit_chains where chain_id = $1 for update', [org]);
        const read = h.get(`/api/v1/students/${s.students.a}`, s.t);
        const answer = await Promise.race([
          read,
          new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5000)),
        ]);
        expect(answer === 'waited' ? answer : answer.status).toBe(200);
        const rows = await accessRows(h, org, 'student.read');
        expect(rows).toHaveLength(1);
        expect(rows[0]!.chain_id).toMatch(/\/reads\//);
      } finally {
        await other.query('rollback');
        await other.end();
      }
    },
  );
});
