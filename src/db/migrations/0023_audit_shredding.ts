import type { Kysely } from 'kysely';
import { columnTypes } from './helpers.ts';

/**
 * Shreddable audit payloads (issue 16, retention). A row's hash now covers a digest of its
 * payloads (`payload_digest`, SHA-256 of the canonical JSON of before, after and meta) rather than
 * the payloads themselves, so destroying a record can blank the payloads of the rows about it
 * (`shredded_at`) and the chain still verifies. `hash_version` says which formula a row was
 * hashed with: every row already written is version 1 (the payloads in the hash, no digest) and
 * keeps its bytes, since changing them would break the chain; Haven writes version 2 from here on.
 * The default stays 1: a row inserted by anything that does not know of digests is verified by
 * the formula it was written with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { timestamp } = columnTypes(db);
  await db.schema
    .alterTable('audit_events')
    .addColumn('hash_version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('audit_events').addColumn('payload_digest', 'text').execute();
  await db.schema.alterTable('audit_events').addColumn('shredded_at', timestamp).execute();
}
