import type { Kysely } from 'kysely';
import type { AuditEventsTable, DB } from '../../db/tables.ts';
import {
  eventHash,
  GENESIS_HASH,
  isReadChain,
  organisationOfChain,
  payloadDigest,
} from './chain.ts';

export type ChainProblemKind = 'edited' | 'deleted' | 'reordered';

export interface ChainProblem {
  chainId: string;
  kind: ChainProblemKind;
  seq: number;
  eventId: string | null;
  message: string;
}

/** Where a chain ends: its last row's sequence number and hash, worth keeping outside the database. */
export interface ChainHeadMark {
  chainId: string;
  seq: number;
  hash: string;
}

export interface VerifyReport {
  chains: number;
  rows: number;
  /** The first problem of each broken chain. */
  problems: ChainProblem[];
  /** The head of each chain that verified. */
  heads: ChainHeadMark[];
}

/** `<chain>:<seq>:<hash>`, the form `haven audit verify` prints and `--expect` takes. */
export function formatHead(head: ChainHeadMark): string {
  return `${head.chainId}:${head.seq}:${head.hash}`;
}

export function parseHead(text: string): ChainHeadMark | null {
  const match = /^(.+):(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) return null;
  return { chainId: match[1]!, seq: Number(match[2]), hash: match[3]! };
}

const PAGE = 5000;

/**
 * Recomputes every chain from its first row: a row whose hash no longer matches its content
 * was edited; a row whose predecessor is missing marks a deletion; a row whose predecessor
 * stands elsewhere in the chain was reordered; a head ahead of the last row means rows were
 * cut from the end. Cutting the end and rewriting the head row to match cannot be seen from
 * inside the database: `expected` heads, kept elsewhere from an earlier run, catch it (each
 * chain must still hold that row, with that hash). A version-2 row's payloads are checked against
 * its digest; a shredded row's must be gone, and the shredded rows of each instant, counted over
 * all of an organisation's chains (its change chain and its read chains), must number what the
 * destruction of that instant records in the change chain (`shreddedAuditRows`), so blanking a
 * payload outside a destruction is reported as an edit.
 */
export async function verifyAuditChains(
  db: Kysely<DB>,
  expected: readonly ChainHeadMark[] = [],
): Promise<VerifyReport> {
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain_id').execute();
  const report: VerifyReport = { chains: heads.length, rows: 0, problems: [], heads: [] };

  // A destruction in an organisation's change chain shreds rows in its read chains too, so the
  // shredded rows are counted across all of an organisation's chains (the installation's apart).
  const shreds = new Map<string, Shreds>();
  for (const head of heads) {
    const owner = organisationOfChain(head.chain_id) ?? head.chain_id;
    const found = shreds.get(owner) ?? { shredded: new Map(), vouched: new Map(), broken: false };
    shreds.set(owner, found);
    const problem = await verifyChain(
      db,
      head.chain_id,
      head.last_seq,
      head.last_hash,
      report,
      found,
    );
    if (problem) {
      report.problems.push(problem);
      found.broken = true;
    }
  }
  for (const found of shreds.values()) {
    // A broken chain stops its walk early: its counts are partial, and the break is reported.
    if (found.broken) continue;
    const problem = shredsUnvouched(found);
    if (problem) report.problems.push(problem);
  }
  for (const mark of expected) {
    if (report.problems.some((p) => p.chainId === mark.chainId)) continue;
    const problem = await checkExpectedHead(db, mark, report);
    if (problem) report.problems.push(problem);
  }
  report.heads = report.heads.filter((h) => !report.problems.some((p) => p.chainId === h.chainId));
  return report;
}

async function checkExpectedHead(
  db: Kysely<DB>,
  mark: ChainHeadMark,
  report: VerifyReport,
): Promise<ChainProblem | null> {
  const at = { chainId: mark.chainId, seq: mark.seq, eventId: null };
  const head = report.heads.find((h) => h.chainId === mark.chainId);
  if (!head) {
    return {
      ...at,
      kind: 'deleted',
      message: `the chain is missing: a head at row ${mark.seq} was expected`,
    };
  }
  if (head.seq < mark.seq) {
    return {
      ...at,
      kind: 'deleted',
      message: `the chain ends at row ${head.seq}, shorter than the expected head at row ${mark.seq}: rows were cut from its end`,
    };
  }
  const row = await db
    .selectFrom('audit_events')
    .select(['id', 'hash'])
    .where('chain_id', '=', mark.chainId)
    .where('seq', '=', mark.seq)
    .executeTakeFirst();
  if (row?.hash === mark.hash) return null;
  return {
    ...at,
    eventId: row?.id ?? null,
    kind: 'edited',
    message: `row ${mark.seq} no longer has the expected hash: the chain was cut and written again from there or earlier`,
  };
}

/** An organisation's shredded rows by when they were shredded, and the rows each destruction says it shredded. */
interface Shreds {
  /** Instant -> the first shredded row seen (chain and sequence number), and how many. */
  shredded: Map<string, { chainId: string; seq: number; count: number }>;
  /** Instant -> the `shreddedAuditRows` the change chain's rows of that instant declare. */
  vouched: Map<string, number>;
  /** One of the organisation's chains is broken: its counts are partial. */
  broken: boolean;
}

/** The first instant whose shredded rows, over all of an organisation's chains, differ from what the destruction declared. */
function shredsUnvouched(found: Shreds): ChainProblem | null {
  for (const [when, first] of found.shredded) {
    const declared = found.vouched.get(when) ?? 0;
    if (declared === first.count) continue;
    return {
      chainId: first.chainId,
      kind: 'edited',
      seq: first.seq,
      eventId: null,
      message: `${first.count} row(s) were shredded at ${when} (the first in chain ${first.chainId}, row ${first.seq}), but the organisation's chain records ${declared} shredded then: payloads were blanked outside a destruction`,
    };
  }
  return null;
}

async function verifyChain(
  db: Kysely<DB>,
  chainId: string,
  headSeq: number,
  headHash: string,
  report: VerifyReport,
  shreds: Shreds,
): Promise<ChainProblem | null> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let afterSeq = 0;
  // Only the change chain's rows vouch for shredding: a read chain holds access rows alone.
  const vouches = !isReadChain(chainId);
  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('chain_id', '=', chainId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      report.rows += 1;
      const at = { chainId, seq: row.seq, eventId: row.id };
      const edited = rowEdited(row);
      if (edited) {
        return {
          ...at,
          kind: 'edited',
          message: `row ${row.seq} (${row.id}, ${row.action}) was edited: ${edited}`,
        };
      }
      if (row.shredded_at !== null) {
        const first = shreds.shredded.get(row.shredded_at);
        if (first) first.count += 1;
        else shreds.shredded.set(row.shredded_at, { chainId, seq: row.seq, count: 1 });
      } else if (vouches) {
        const declared = shreddedBy(row.meta_json);
        if (declared > 0) shreds.vouched.set(row.at, (shreds.vouched.get(row.at) ?? 0) + declared);
      }
      if (row.prev_hash !== prevHash) {
        const predecessor = await db
          .selectFrom('audit_events')
          .select(['seq', 'id'])
          .where('chain_id', '=', chainId)
          .where('hash', '=', row.prev_hash)
          .executeTakeFirst();
        if (predecessor) {
          return {
            ...at,
            kind: 'reordered',
            message: `row ${row.seq} (${row.id}) was reordered: it was written after row ${predecessor.seq} (${predecessor.id}), not after row ${expectedSeq - 1}`,
          };
        }
        const missing =
          row.seq > expectedSeq ? `rows ${expectedSeq} to ${row.seq - 1}` : 'the row before it';
        return {
          ...at,
          kind: 'deleted',
          message: `row ${row.seq} (${row.id}) has lost its predecessor: ${missing} were deleted or rewritten`,
        };
      }
      if (row.seq !== expectedSeq) {
        return {
          ...at,
          kind: 'edited',
          message: `row ${row.seq} (${row.id}) has an altered sequence number: expected ${expectedSeq}`,
        };
      }
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
    }
    if (rows.length < PAGE) break;
    afterSeq = rows[rows.length - 1]!.seq;
  }
  if (headSeq !== expectedSeq - 1 || headHash !== prevHash) {
    return {
      chainId,
      kind: 'deleted',
      seq: expectedSeq,
      eventId: null,
      message: `rows ${expectedSeq} to ${headSeq} at the end of the chain were deleted`,
    };
  }
  report.heads.push({ chainId, seq: expectedSeq - 1, hash: prevHash });
  return null;
}

/**
 * Why a row no longer matches its hash, or null. A version-2 row's payloads must match its
 * digest, unless it was shredded, when they must be gone; its hash covers the digest. A
 * version-1 row's hash covers its payloads: it has no digest and cannot be shredded.
 */
function rowEdited(row: AuditEventsTable): string | null {
  const blank = row.before_json === null && row.after_json === null && row.meta_json === null;
  if (row.hash_version === 1) {
    if (row.payload_digest !== null || row.shredded_at !== null)
      return 'a row written before migration 0023 has no digest and cannot be shredded';
  } else if (row.hash_version === 2) {
    if (row.shredded_at !== null) {
      if (!blank) return 'it is marked shredded but still holds a payload';
    } else if (row.payload_digest !== payloadDigest(row)) {
      return 'its payload no longer matches its digest';
    }
  } else {
    return `it names an unknown hash version, ${row.hash_version}`;
  }
  if (eventHash(row.prev_hash, row) !== row.hash) return 'its contents no longer match its hash';
  return null;
}

/** The rows a destruction says it shredded (`shreddedAuditRows` in its meta). */
function shreddedBy(metaJson: string | null): number {
  if (metaJson === null || !metaJson.includes('"shreddedAuditRows"')) return 0;
  try {
    const meta = JSON.parse(metaJson) as { shreddedAuditRows?: unknown };
    return typeof meta.shreddedAuditRows === 'number' ? meta.shreddedAuditRows : 0;
  } catch {
    return 0;
  }
}
