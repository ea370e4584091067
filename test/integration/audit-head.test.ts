import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHaven } from '../support/cli.ts';
import { createUser, setupOrganisation, type TestOrg } from '../support/factories.ts';
import { type TestHaven, useHaven } from '../support/haven.ts';

async function someHistory(h: TestHaven): Promise<TestOrg> {
  const org = await setupOrganisation(h);
  await h.patch(`/api/v1/schools/${org.schoolId}`, org.ownerToken, { name: 'Oak Primary School' });
  await createUser(h, org.ownerToken, { name: 'First Teacher' });
  await createUser(h, org.ownerToken, { name: 'Second Teacher' });
  return org;
}

/** `head <chain>:<seq>:<hash>` lines, by chain. */
function heads(out: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of out.matchAll(/^head ((\S+):\d+:[0-9a-f]{64})$/gm))
    found.set(match[2]!, match[1]!);
  return found;
}

/** Cuts the last `n` rows of a chain and points its head at the row before, as a careful forger would. */
async function cutTail(h: TestHaven, chainId: string, n: number) {
  const last = await h.database.db
    .selectFrom('audit_events')
    .select(['seq'])
    .where('chain_id', '=', chainId)
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow();
  await h.database.db
    .deleteFrom('audit_events')
    .where('chain_id', '=', chainId)
    .where('seq', '>', last.seq - n)
    .execute();
  const newLast = await h.database.db
    .selectFrom('audit_events')
    .select(['seq', 'hash'])
    .where('chain_id', '=', chainId)
    .orderBy('seq', 'desc')
    .executeTakeFirstOrThrow();
  await h.database.db
    .updateTable('audit_chains')
    .set({ last_seq: newLast.seq, last_hash: newLast.hash })
    .where('chain_id', '=', chainId)
    .execute();
}

describe('audit verify against a head kept elsewhere', () => {
  const haven = useHaven();

  it('prints each chain head; a cut tail with a rewritten head passes plain verify but not --expect', async () => {
    const h = haven();
    const org = await someHistory(h);
    const first = await runHaven(h, ['audit', 'verify']);
    expect(first.code).toBe(0);
    const kept = heads(first.out);
    expect([...kept.keys()].sort()).toEqual([org.organisationId, 'installation'].sort());
    const orgHead = kept.get(org.organisationId)!;
    const expectAll = [...kept.values()].flatMap((head) => ['--expect', head]);

    // The heads still hold while the chains grow.
    await createUser(h, org.ownerToken, { name: 'Third Teacher' });
    expect((await runHaven(h, ['audit', 'verify', ...expectAll])).code).toBe(0);

    await cutTail(h, org.organisationId, 3);
    // Documented limitation: without a head kept elsewhere a tidy cut cannot be seen.
    expect((await runHaven(h, ['audit', 'verify'])).code).toBe(0);

    const checked = await runHaven(h, ['audit', 'verify', '--expect', orgHead]);
    expect(checked.code).toBe(1);
    expect(checked.out).toContain(`BROKEN chain ${org.organisationId}`);
    expect(checked.out).toMatch(/shorter than the expected head/);

    // A file of the lines printed earlier serves as well.
    const file = path.join(h.config.dataDir, 'heads.txt');
    writeFileSync(file, `${first.out}\n`);
    const fromFile = await runHaven(h, ['audit', 'verify', '--expect-file', file]);
    expect(fromFile.code).toBe(1);
    expect(fromFile.out).toContain(`BROKEN chain ${org.organisationId}`);
    expect(fromFile.out).not.toContain('BROKEN chain installation');
  });

  it('fails a chain whose row at the expected sequence has another hash, or that is missing', async () => {
    const h = haven();
    const org = await someHistory(h);
    const kept = heads((await runHaven(h, ['audit', 'verify'])).out);
    const orgHead = kept.get(org.organisationId)!;

    // Cut the tail, then write new history over the same sequence numbers.
    await cutTail(h, org.organisationId, 2);
    await createUser(h, org.ownerToken, { name: 'Replacement One' });
    await createUser(h, org.ownerToken, { name: 'Replacement Two' });
    expect((await runHaven(h, ['audit', 'verify'])).code).toBe(0);
    const rewritten = await runHaven(h, ['audit', 'verify', '--expect', orgHead]);
    expect(rewritten.code).toBe(1);
    expect(rewritten.out).toMatch(
      new RegExp(`BROKEN chain ${org.organisationId}: row \\d+ no longer has the expected hash`),
    );

    const missing = await runHaven(h, [
      'audit',
      'verify',
      '--expect',
      `nochain:3:${'a'.repeat(64)}`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('BROKEN chain nochain');

    const malformed = await runHaven(h, ['audit', 'verify', '--expect', 'not-a-head']);
    expect(malformed.code).toBe(2);
    // A file of heads that holds none, or a garbled one, is refused rather than passed.
    const empty = path.join(h.config.dataDir, 'no-heads.txt');
    writeFileSync(empty, 'OK: nothing here\n');
    expect((await runHaven(h, ['audit', 'verify', '--expect-file', empty])).code).toBe(2);
    const garbled = path.join(h.config.dataDir, 'garbled.txt');
    writeFileSync(garbled, 'head installation:1:not-a-hash\n');
    expect((await runHaven(h, ['audit', 'verify', '--expect-file', garbled])).code).toBe(2);
  });
});
