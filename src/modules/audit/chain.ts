import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Engine } from '../../db/database.ts';
import type { AuditEventsTable, DB } from '../../db/tables.ts';
import { canonicalJson } from '../../lib/canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);
export const INSTALLATION_CHAIN = 'installation';

/** The fields a row's hash covers. `seq` is left out on purpose: order is proven by `prev_hash`. */
export type HashedFields = Omit<AuditEventsTable, 'hash' | 'prev_hash' | 'seq'>;

export function eventHash(prevHash: string, row: HashedFields): string {
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

export function chainIdFor(organisationId: string | null): string {
  return organisationId ?? INSTALLATION_CHAIN;
}

export interface ChainHead {
  lastSeq: number;
  lastHash: string;
}

/**
 * Takes the chain's head for the rest of the transaction. On PostgreSQL the row lock
 * serialises every change in an organisation, which also protects invariants such as
 * "at least one Owner" from racing transactions; SQLite's BEGIN IMMEDIATE already does.
 */
export async function lockChain(
  trx: Transaction<DB>,
  engine: Engine,
  chainId: string,
): Promise<ChainHead> {
  await trx
    .insertInto('audit_chains')
    .values({ chain_id: chainId, last_seq: 0, last_hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('chain_id').doNothing())
    .execute();
  let query = trx
    .selectFrom('audit_chains')
    .select(['last_seq', 'last_hash'])
    .where('chain_id', '=', chainId);
  if (engine === 'postgres') query = query.forUpdate();
  const head = await query.executeTakeFirstOrThrow();
  return { lastSeq: head.last_seq, lastHash: head.last_hash };
}

/** Appends rows to a locked chain and moves its head, in the caller's transaction. */
export async function appendToChain(
  trx: Transaction<DB>,
  chainId: string,
  head: ChainHead,
  rows: HashedFields[],
): Promise<ChainHead> {
  let { lastSeq, lastHash } = head;
  const stored: AuditEventsTable[] = [];
  for (const row of rows) {
    const hash = eventHash(lastHash, row);
    lastSeq += 1;
    stored.push({ ...row, seq: lastSeq, prev_hash: lastHash, hash });
    lastHash = hash;
  }
  // Inserted in slices to stay under both engines' bound-parameter limits.
  for (let i = 0; i < stored.length; i += 500) {
    await trx
      .insertInto('audit_events')
      .values(stored.slice(i, i + 500))
      .execute();
  }
  await trx
    .updateTable('audit_chains')
    .set({ last_seq: lastSeq, last_hash: lastHash })
    .where('chain_id', '=', chainId)
    .execute();
  return { lastSeq, lastHash };
}
