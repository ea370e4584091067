import { createHmac } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../db/tables.ts';
import type { ChainHeadMark } from '../audit/verify.ts';
import { isMemberName } from './tar.ts';

/**
 * `manifest.json`, the last member of a backup: what the archive holds and what the database in
 * it must show once restored. Restore trusts nothing in the archive until every member's SHA-256
 * matches this list and the restored database's audit chains verify up to exactly these heads.
 */

export const MANIFEST_MEMBER = 'manifest.json';
export const KEY_MEMBER = 'secret.key';
export const SQLITE_MEMBER = 'database/haven.sqlite';
export const PG_DUMP_MEMBER = 'database/haven.pgdump';
export const DOCUMENTS_PREFIX = 'documents/';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().min(0);

const counts = z.strictObject({
  organisations: count,
  users: count,
  students: count,
  incidents: count,
  documents: count,
  auditEvents: count,
});
export type SnapshotCounts = z.infer<typeof counts>;

export const manifestSchema = z.strictObject({
  format: z.literal('haven-backup'),
  formatVersion: z.literal(1),
  createdAt: z.iso.datetime(),
  engine: z.enum(['sqlite', 'postgres']),
  /** The last migration applied to the database in the archive. */
  schemaVersion: z.string().min(1),
  database: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('sqlite'), member: z.literal(SQLITE_MEMBER) }),
      z.strictObject({
        kind: z.literal('pg_dump_custom'),
        member: z.literal(PG_DUMP_MEMBER),
        /** The PostgreSQL schema Haven lives in; the dump creates it. */
        schema: z.string().min(1).max(63),
      }),
    ])
    // PostgreSQL without pg_dump on PATH: the database is dumped apart (see the README).
    .nullable(),
  auditHeads: z.array(
    z.strictObject({ chainId: z.string().min(1), seq: z.number().int().min(1), hash: sha256 }),
  ),
  counts,
  /** Documents the database lists whose files were already gone when the backup copied them. */
  missingDocuments: z.array(z.string()),
  key: z.strictObject({
    included: z.boolean(),
    /** HMAC-SHA256(master key, KEY_CHECK_LABEL): tells whether a key is this installation's, reveals nothing of it. */
    check: sha256.nullable(),
  }),
  members: z.array(
    z.strictObject({
      path: z.string().refine(isMemberName, 'not a plain relative name'),
      size: count,
      sha256,
    }),
  ),
});
export type Manifest = z.infer<typeof manifestSchema>;

const KEY_CHECK_LABEL = 'haven:backup-key-check:v1';

export function keyCheck(master: Buffer): string {
  return createHmac('sha256', master).update(KEY_CHECK_LABEL).digest('hex');
}

/** What a consistent snapshot of the database holds, as the manifest records and restore re-reads it. */
export interface SnapshotFacts {
  schemaVersion: string;
  auditHeads: ChainHeadMark[];
  counts: SnapshotCounts;
  /** Every document the database lists (soft-deleted ones too: their files are kept). */
  documents: { id: string; sha256: string }[];
}

/** Reads the facts from `db`, which must be one snapshot (a copy, or one repeatable-read transaction). */
export async function readSnapshotFacts(db: Kysely<DB>): Promise<SnapshotFacts> {
  const migration = await sql<{ name: string }>`
    select name from kysely_migration order by name desc limit 1`.execute(db);
  const schemaVersion = migration.rows[0]?.name;
  if (!schemaVersion) throw new Error('The database has no migrations applied: nothing to back up');
  const heads = await db
    .selectFrom('audit_chains')
    .select(['chain_id', 'last_seq', 'last_hash'])
    .orderBy('chain_id')
    .execute();
  const countOf = async (table: 'organisations' | 'users' | 'students' | 'incidents') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const auditEvents = Number(
    (
      await db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const documents = await db
    .selectFrom('documents')
    .select(['id', 'sha256'])
    .orderBy('id')
    .execute();
  return {
    schemaVersion,
    auditHeads: heads.map((h) => ({
      chainId: h.chain_id,
      seq: Number(h.last_seq),
      hash: h.last_hash,
    })),
    counts: {
      organisations: await countOf('organisations'),
      users: await countOf('users'),
      students: await countOf('students'),
      incidents: await countOf('incidents'),
      documents: documents.length,
      auditEvents,
    },
    documents,
  };
}

/** `documents/<xy>/<id>`, as the file store lays documents out. */
export function documentMember(id: string): string {
  return `${DOCUMENTS_PREFIX}${id.slice(-2)}/${id}`;
}
