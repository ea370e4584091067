import { createHash } from 'node:crypto';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Engine } from '../../db/database.ts';
import type { AuditEventsTable, DB } from '../../db/tables.ts';
import { canonicalJson } from '../../lib/canonical-json.ts';

export const GENESIS_HASH = '0'.repeat(64);
export const INSTALLATION_CHAIN = 'installation';

/** A row as a change hands it to the chain: its place, hash formula and digest are the chain's. */
export type ChainEntry = Omit<
  AuditEventsTable,
  'hash' | 'prev_hash' | 'seq' | 'hash_version' | 'payload_digest' | 'shredded_at'
>;

/**
 * The fields a row's hash is computed from. `seq` is left out on purpose: order is proven by
 * `prev_hash`. `shredded_at` is left out too: shredding must not change the hash.
 */
export type HashedFields = ChainEntry & Pick<AuditEventsTable, 'hash_version' | 'payload_digest'>;

/** The formula Haven writes rows with (migration 0023 on). */
export const HASH_VERSION = 2;

type Payloads = Pick<AuditEventsTable, 'before_json' | 'after_json' | 'meta_json'>;

/** SHA-256 of the canonical JSON of a row's three payloads, as stored (text or null). */
export function payloadDigest(row: Payloads): string {
  const body = canonicalJson({
    before_json: row.before_json,
    after_json: row.after_json,
    meta_json: row.meta_json,
  });
  return createHash('sha256').update(body).digest('hex');
}

/**
 * Version 1 (rows written before migration 0023) hashes the payloads themselves, so they can
 * never be blanked; version 2 hashes their digest in their place, so a row's payloads can be
 * shredded (set to null) while its hash, and every hash after it, stays true.
 */
export function eventHash(prevHash: string, row: HashedFields): string {
  return createHash('sha256').update(prevHash).update('\n').update(eventBody(row)).digest('hex');
}

/** What a row's hash covers after its predecessor's hash and a newline: the canonical JSON of its fields. */
function eventBody(row: HashedFields): string {
  const fields = {
    id: row.id,
    chain_id: row.chain_id,
    organisation_id: row.organisation_id,
    at: row.at,
    category: row.category,
    action: row.action,
    actor_user_id: row.actor_user_id,
    target_type: row.target_type,
    target_id: row.target_id,
  };
  return row.hash_version === 1
    ? canonicalJson({
        ...fields,
        before_json: row.before_json,
        after_json: row.after_json,
        meta_json: row.meta_json,
      })
    : canonicalJson({
        ...fields,
        hash_version: row.hash_version,
        payload_digest: row.payload_digest,
      });
}

/**
 * The organisation's change chain (every write), or the installation's. Reads of sensitive records
 * go to the organisation's read chains instead (`readChainId`).
 */
export function chainIdFor(organisationId: string | null): string {
  return organisationId ?? INSTALLATION_CHAIN;
}

/**
 * How many read chains an organisation's access log is spread over. Each is a hash chain with its
 * own head, so K logged reads can append at once without waiting on each other or on the
 * organisation's change chain. Changing K needs no migration: verify walks every chain there is.
 */
export const READ_CHAINS = 8;

const READS = '/reads/';

/** `<organisationId>/reads/<k>`: one of the organisation's read chains (access rows only). */
export function readChainId(organisationId: string, k: number): string {
  return `${organisationId}${READS}${k}`;
}

/** The organisation a chain belongs to (its change chain or one of its read chains); null for the installation's. */
export function organisationOfChain(chainId: string): string | null {
  if (chainId === INSTALLATION_CHAIN) return null;
  const at = chainId.indexOf(READS);
  return at < 0 ? chainId : chainId.slice(0, at);
}

export function isReadChain(chainId: string): boolean {
  return chainId.includes(READS);
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

/** The chain's head row, if it has none yet (its first row is appended in the same transaction). */
async function createChain(trx: Transaction<DB>, chainId: string): Promise<void> {
  await trx
    .insertInto('audit_chains')
    .values({ chain_id: chainId, last_seq: 0, last_hash: GENESIS_HASH })
    .onConflict((oc) => oc.column('chain_id').doNothing())
    .execute();
}

// Each process takes the read chains in turn, from a random start, so two processes spread too.
let nextReadChain = Math.floor(Math.random() * READ_CHAINS);

/** The organisation's read chain this process writes to next. */
export function nextReadChainOf(organisationId: string): string {
  const k = nextReadChain;
  nextReadChain = (nextReadChain + 1) % READ_CHAINS;
  return readChainId(organisationId, k);
}
/** Read chains this process knows exist (created by it or seen locked): no insert needed. */
const knownReadChains = new Set<string>();

/**
 * Takes the head of one of the organisation's read chains for the rest of the transaction, to
 * append access rows to: never the organisation's change chain, so a logged read does not wait
 * for changes, nor they for it. On PostgreSQL this process's next chain in turn is preferred and,
 * if another transaction holds it, any other of the K that is free (`SKIP LOCKED`); only when all
 * K are held does it wait, for its preferred one. A chain's row is created in the transaction
 * that first appends to it, so no chain is ever empty. SQLite runs one write at a time.
 */
export async function lockReadChain(
  trx: Transaction<DB>,
  engine: Engine,
  organisationId: string,
): Promise<{ chainId: string; head: ChainHead }> {
  const preferred = nextReadChainOf(organisationId);
  if (engine === 'sqlite' || !knownReadChains.has(preferred)) await createChain(trx, preferred);
  if (engine === 'postgres') {
    const all = Array.from({ length: READ_CHAINS }, (_, i) => readChainId(organisationId, i));
    const free = await trx
      .selectFrom('audit_chains')
      .select(['chain_id', 'last_seq', 'last_hash'])
      .where('chain_id', 'in', all)
      .orderBy(sql`chain_id = ${preferred}`, 'desc')
      .orderBy(sql`random()`)
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
    if (free) {
      knownReadChains.add(free.chain_id);
      return {
        chainId: free.chain_id,
        head: { lastSeq: Number(free.last_seq), lastHash: free.last_hash },
      };
    }
  }
  // All K held (or this process's list of chains is out of date): wait for the preferred one.
  if (engine === 'postgres') await createChain(trx, preferred);
  let query = trx
    .selectFrom('audit_chains')
    .select(['last_seq', 'last_hash'])
    .where('chain_id', '=', preferred);
  if (engine === 'postgres') query = query.forUpdate();
  const head = await query.executeTakeFirstOrThrow();
  knownReadChains.add(preferred);
  return { chainId: preferred, head: { lastSeq: Number(head.last_seq), lastHash: head.last_hash } };
}

/** Appends rows to a locked chain and moves its head, in the caller's transaction. */
export async function appendToChain(
  trx: Transaction<DB>,
  chainId: string,
  head: ChainHead,
  entries: ChainEntry[],
): Promise<ChainHead> {
  let { lastSeq, lastHash } = head;
  const stored: AuditEventsTable[] = [];
  for (const entry of entries) {
    const row: HashedFields = {
      ...entry,
      hash_version: HASH_VERSION,
      payload_digest: payloadDigest(entry),
    };
    const hash = eventHash(lastHash, row);
    lastSeq += 1;
    stored.push({ ...row, seq: lastSeq, prev_hash: lastHash, hash, shredded_at: null });
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

/**
 * PostgreSQL: appends one row to a read chain in one statement, with no transaction around it:
 * the statement locks the chain's head row (held for that statement alone), computes the row's
 * place and hash from it (`sha256(prev_hash || '\n' || body)`, the body being the canonical JSON
 * `eventHash` covers, made here), inserts the row and moves the head. Concurrent appends to the
 * same chain wait on the head row in turn, and each then sees the head the one before it left
 * (read committed re-reads a row it waited for). Answers false, having written nothing, when the
 * chain has no head row yet: its first row is appended in a transaction that creates it.
 */
export async function appendOneRead(
  db: Kysely<DB>,
  chainId: string,
  entry: ChainEntry,
): Promise<boolean> {
  if (entry.chain_id !== chainId) throw new Error('The row names another chain');
  const row: HashedFields = {
    ...entry,
    hash_version: HASH_VERSION,
    payload_digest: payloadDigest(entry),
  };
  const result = await sql<{ seq: number }>`
    with head as (
      select last_seq, last_hash from audit_chains where chain_id = ${chainId} for update
    ), next as (
      select last_seq + 1 as seq, last_hash as prev_hash,
        encode(sha256(convert_to(last_hash || chr(10) || ${eventBody(row)}::text, 'UTF8')), 'hex') as hash
      from head
    ), appended as (
      insert into audit_events (id, chain_id, seq, organisation_id, at, category, action,
        actor_user_id, target_type, target_id, before_json, after_json, meta_json, prev_hash, hash,
        hash_version, payload_digest)
      select ${row.id}::text, ${chainId}::text, seq, ${row.organisation_id}::text,
        ${row.at}::timestamptz, ${row.category}::text, ${row.action}::text,
        ${row.actor_user_id}::text, ${row.target_type}::text, ${row.target_id}::text,
        ${row.before_json}::text, ${row.after_json}::text, ${row.meta_json}::text, prev_hash, hash,
        ${row.hash_version}::integer, ${row.payload_digest}::text
      from next
    )
    update audit_chains set last_seq = next.seq, last_hash = next.hash
    from next
    where audit_chains.chain_id = ${chainId}
    returning next.seq`.execute(db);
  return result.rows.length === 1;
}

/** The records whose audit rows a destruction shreds: a target type and its ids. */
export interface ShredTarget {
  type: string;
  ids: readonly string[];
}

/**
 * Shreds, in the caller's transaction, the rows about these targets in an organisation's change
 * chain (`chainId`) and in all its read chains (the reads of the record are about it too): their
 * before, after and meta go (null) and `shredded_at` is set, which their version-2 hashes do not
 * cover, so every chain still verifies. Version-1 rows (written before migration 0023) hash their
 * payloads and are left whole: the audit log's readers do not show them for a destroyed record.
 * Answers how many rows were shredded (over all those chains) and how many version-1 rows were
 * left whole; the change that shreds records the first as `shreddedAuditRows` in its meta, which
 * `verifyAuditChains` holds the organisation's shredded rows of that instant to.
 */
export async function shredAuditRows(
  trx: Transaction<DB>,
  chainId: string,
  at: string,
  targets: readonly ShredTarget[],
): Promise<{ shredded: number; keptWhole: number }> {
  let shredded = 0;
  let keptWhole = 0;
  // Every read chain the organisation has, however many there were when each was written.
  const prefix = `${chainId}${READS}`;
  const reads = await trx
    .selectFrom('audit_chains')
    .select('chain_id')
    .where(sql<string>`substr(chain_id, 1, ${prefix.length})`, '=', prefix)
    .execute();
  const chains = [chainId, ...reads.map((r) => r.chain_id)];
  for (const target of targets) {
    for (let i = 0; i < target.ids.length; i += 500) {
      const ids = target.ids.slice(i, i + 500);
      const result = await trx
        .updateTable('audit_events')
        .set({ before_json: null, after_json: null, meta_json: null, shredded_at: at })
        .where('chain_id', 'in', chains)
        .where('target_type', '=', target.type)
        .where('target_id', 'in', ids)
        .where('hash_version', '>=', 2)
        .where('shredded_at', 'is', null)
        .executeTakeFirst();
      shredded += Number(result.numUpdatedRows);
      const left = await trx
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('chain_id', 'in', chains)
        .where('target_type', '=', target.type)
        .where('target_id', 'in', ids)
        .where('hash_version', '=', 1)
        .executeTakeFirstOrThrow();
      keptWhole += Number(left.n);
    }
  }
  return { shredded, keptWhole };
}
