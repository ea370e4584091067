import type { Transaction } from 'kysely';
import { changeRunningOn, type Database, type Engine, withinChange } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import {
  appendToChain,
  chainIdFor,
  type HashedFields,
  INSTALLATION_CHAIN,
  lockChain,
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
    const meta = {
      ...(origin.requestId ? { requestId: origin.requestId } : {}),
      ...(origin.ip ? { ip: origin.ip } : {}),
      via: origin.via ?? 'api',
      ...origin.meta,
    };
    const rows: HashedFields[] = change.entries.map((entry) => ({
      id: newId(),
      chain_id: chainId,
      organisation_id: origin.organisationId,
      at: change.now,
      category: entry.category ?? 'change',
      action: entry.action,
      actor_user_id: origin.userId,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      before_json: toJson(entry.before),
      after_json: toJson(entry.after),
      meta_json: toJson({ ...meta, ...entry.meta }),
    }));
    await appendToChain(trx, chainId, head, rows);
    return result;
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
