import type { Transaction } from 'kysely';
import { changeRunningOn, type Database, type Engine, withinChange } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import {
  appendOneRead,
  appendToChain,
  type ChainEntry,
  chainIdFor,
  INSTALLATION_CHAIN,
  lockChain,
  lockReadChain,
  nextReadChainOf,
} from './chain.ts';

export type AuditCategory = 'change' | 'denied' | 'access';

export interface AuditEntry {
  action: string;
  category?: AuditCategory;
  targetType?: string;
  targetId?: string;
  before?: unknown;
  after?: unknown;
  meta?: Record<string, unknown>;
}

/** Who makes a change, and from where; written on every audit row of the change. */
export interface ChangeOrigin {
  organisationId: string | null;
  userId: string | null;
  requestId?: string;
  ip?: string;
  via?: 'api' | 'cli' | 'scim';
  /** Facts written on every row of the change (the SCIM token that made it). */
  meta?: Record<string, unknown>;
  /** Write to the installation's chain (creating organisations), still tagged with the organisation. */
  installationChain?: boolean;
}

/**
 * One unit of work: a database transaction, one instant (`now`) for everything it writes,
 * and the audit rows that describe it, appended to the hash chain before it commits.
 */
export class Change {
  readonly #entries: AuditEntry[] = [];

  constructor(
    readonly db: Transaction<DB>,
    readonly engine: Engine,
    readonly now: string,
    readonly origin: ChangeOrigin,
  ) {}

  record(entry: AuditEntry): void {
    this.#entries.push(entry);
  }

  get entries(): readonly AuditEntry[] {
    return this.#entries;
  }
}

function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/**
 * Runs `work` as one change. Inside it only `change.db` answers: the outer handle (and a
 * nested change) would wait on this very transaction, so they are refused with an error.
 */
export async function runChange<T>(
  database: Database,
  origin: ChangeOrigin,
  work: (change: Change) => Promise<T>,
): Promise<T> {
  if (changeRunningOn(database)) {
    throw new Error(
      'runChange was called inside a running change: pass the running change (change.db) down instead',
    );
  }
  return database.db.transaction().execute(async (trx) => {
    const chainId = origin.installationChain
      ? INSTALLATION_CHAIN
      : chainIdFor(origin.organisationId);
    const head = await lockChain(trx, database.engine, chainId);
    const change = new Change(trx, database.engine, nowIso(), origin);
    const result = await withinChange(database, () => work(change));
    // A unit of work that changed nothing (adding members already there) records nothing.
    if (change.entries.length === 0) return result;
    await appendToChain(trx, chainId, head, chainEntries(change, chainId));
    return result;
  });
}

/** The change's entries as rows of `chainId`, each with the change's instant and origin. */
function chainEntries(change: Change, chainId: string): ChainEntry[] {
  return toChainEntries(change.entries, change.origin, change.now, chainId);
}

function toChainEntries(
  entries: readonly AuditEntry[],
  origin: ChangeOrigin,
  now: string,
  chainId: string,
): ChainEntry[] {
  const meta = {
    ...(origin.requestId ? { requestId: origin.requestId } : {}),
    ...(origin.ip ? { ip: origin.ip } : {}),
    via: origin.via ?? 'api',
    ...origin.meta,
  };
  return entries.map((entry) => ({
    id: newId(),
    chain_id: chainId,
    organisation_id: origin.organisationId,
    at: now,
    category: entry.category ?? 'change',
    action: entry.action,
    actor_user_id: origin.userId,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    before_json: toJson(entry.before),
    after_json: toJson(entry.after),
    meta_json: toJson({ ...meta, ...entry.meta }),
  }));
}

/**
 * Runs `work`, which reads and writes nothing but `access` rows (a logged read), as one
 * transaction whose rows go to one of the organisation's read chains (`lockReadChain`), not to
 * its change chain: reads neither wait for changes nor make them wait. The read chain's head is
 * taken only after the work, so it is held for the append and the commit alone. Anything but an
 * `access` entry is refused (the whole unit rolls back): a write belongs in `runChange`, whose
 * lock keeps the organisation's invariants. Without an organisation (or for the installation's
 * chain) it is `runChange`.
 */
export async function runRead<T>(
  database: Database,
  origin: ChangeOrigin,
  work: (change: Change) => Promise<T>,
): Promise<T> {
  const organisationId = origin.organisationId;
  if (organisationId === null || origin.installationChain) return runChange(database, origin, work);
  if (changeRunningOn(database)) {
    throw new Error(
      'runRead was called inside a running change: record the read on the running change instead',
    );
  }
  return database.db.transaction().execute(async (trx) => {
    const change = new Change(trx, database.engine, nowIso(), origin);
    const result = await withinChange(database, () => work(change));
    if (change.entries.length === 0) return result;
    const other = change.entries.find((entry) => entry.category !== 'access');
    if (other) {
      throw new Error(
        `runRead records reads only: ${other.action} is a ${other.category ?? 'change'} and belongs in runChange`,
      );
    }
    const { chainId, head } = await lockReadChain(trx, database.engine, organisationId);
    await appendToChain(trx, chainId, head, chainEntries(change, chainId));
    return result;
  });
}

/**
 * Writes one `access` row for a read already made (`logRead`). On PostgreSQL it is one statement
 * with no transaction of its own (`appendOneRead`), to this process's next read chain in turn: a
 * logged read costs one round trip, not five. A chain without its head row yet gets its first row
 * in a transaction that creates it; SQLite, and reads without an organisation, go through
 * `runRead`.
 */
export async function recordRead(
  database: Database,
  origin: ChangeOrigin,
  entry: Omit<AuditEntry, 'category'>,
): Promise<void> {
  const access: AuditEntry = { ...entry, category: 'access' };
  const organisationId = origin.organisationId;
  if (database.engine !== 'postgres' || organisationId === null || origin.installationChain) {
    await runRead(database, origin, async (change) => change.record(access));
    return;
  }
  if (changeRunningOn(database)) {
    throw new Error(
      'recordRead was called inside a running change: record the read on the running change instead',
    );
  }
  const chainId = nextReadChainOf(organisationId);
  const [row] = toChainEntries([access], origin, nowIso(), chainId);
  if (await appendOneRead(database.db, chainId, row!)) return;
  await database.db.transaction().execute(async (trx) => {
    const head = await lockChain(trx, database.engine, chainId);
    await appendToChain(trx, chainId, head, [row!]);
  });
}

/** Thrown to undo a trial: it never commits. */
class TrialOver extends Error {}

/**
 * Runs `work` as a change that is always rolled back: the widening preview tries the very
 * command a save runs and counts what it would do. The same guard as a change holds inside it
 * (only `change.db` answers); nothing it writes, audit rows included, is kept.
 */
export async function runTrial<T>(
  database: Database,
  origin: ChangeOrigin,
  work: (change: Change) => Promise<T>,
): Promise<T> {
  if (changeRunningOn(database)) {
    throw new Error('runTrial was called inside a running change');
  }
  let result: { value: T } | undefined;
  try {
    await database.db.transaction().execute(async (trx) => {
      const change = new Change(trx, database.engine, nowIso(), origin);
      result = { value: await withinChange(database, () => work(change)) };
      throw new TrialOver();
    });
  } catch (error) {
    if (!(error instanceof TrialOver)) throw error;
  }
  return result!.value;
}
