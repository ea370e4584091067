import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.ts';
import { eventHash, GENESIS_HASH } from './chain.ts';

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
 * chain must still hold that row, with that hash).
 */
export async function verifyAuditChains(
  db: Kysely<DB>,
  expected: readonly ChainHeadMark[] = [],
): Promise<VerifyReport> {
  const heads = await db.selectFrom('audit_chains').selectAll().orderBy('chain_id').execute();
  const report: VerifyReport = { chains: heads.length, rows: 0, problems: [], heads: [] };

  for (const head of heads) {
    const problem = await verifyChain(db, head.chain_id, head.last_seq, head.last_hash, report);
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

async function verifyChain(
  db: Kysely<DB>,
  chainId: string,
  headSeq: number,
  headHash: string,
  report: VerifyReport,
): Promise<ChainProblem | null> {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let afterSeq = 0;
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
      if (eventHash(row.prev_hash, row) !== row.hash) {
        return {
          ...at,
          kind: 'edited',
          message: `row ${row.seq} (${row.id}, ${row.action}) was edited: its contents no longer match its hash`,
        };
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
