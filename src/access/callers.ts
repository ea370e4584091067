import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.ts';
import { enrolmentRequired } from './enrolment.ts';
import { loadPrincipal, type Principal } from './principal.ts';

/**
 * Who a session's user is to the access module, worked out once and kept while nothing it rests
 * on has changed. Every change to grants, user groups and their members and clearances, school
 * groups, schools (and their settings), two-factor enrolment or the organisation raises the
 * organisation's access epoch in the same transaction (triggers, migration 0025). Each request
 * reads its session, with that epoch, in one statement; a caller kept under another epoch, or
 * for longer than `maxAgeMs`, is worked out again. So a change still restricts open sessions
 * from their next request, in every `haven serve` process, as when each request loaded it all.
 *
 * What a session is (ended, expired, idle, its user disabled or removed, its step-up time) is
 * never kept: it is read on every request.
 */
export interface Caller {
  readonly principal: Principal;
  /** The user must enrol two-factor sign-in first (`enrolment.ts`). */
  readonly mfaEnrolmentRequired: boolean;
  /** The organisation's access epoch the caller was worked out under. */
  readonly epoch: string;
  readonly totpActive: boolean;
  readonly loadedAt: number;
  /** Answers derived from the same data only (e.g. `GET /me`'s names), kept with the caller. */
  readonly derived: Map<string, Promise<unknown>>;
}

export interface CallerKey {
  sessionId: string;
  organisationId: string;
  userId: string;
  totpActive: boolean;
  /** Null when the organisation has no epoch yet: nothing is then kept. */
  accessEpoch: string | null;
}

export class Callers {
  readonly #entries = new Map<string, Caller>();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: { maxEntries: number; maxAgeMs: number } = {
      maxEntries: 10_000,
      maxAgeMs: 60_000,
    },
  ) {}

  /** The caller for this session, kept or worked out now. */
  async of(key: CallerKey, nowMs = Date.now()): Promise<Caller> {
    const kept = this.#entries.get(key.sessionId);
    if (
      kept &&
      key.accessEpoch !== null &&
      kept.epoch === key.accessEpoch &&
      kept.totpActive === key.totpActive &&
      nowMs - kept.loadedAt < this.options.maxAgeMs &&
      kept.principal.userId === key.userId &&
      kept.principal.organisationId === key.organisationId
    ) {
      return kept;
    }
    // The epoch was read before anything below: a change committed meanwhile leaves this
    // caller under the older epoch, and the next request works it out again.
    const principal = await loadPrincipal(this.db, key.organisationId, key.userId);
    const caller: Caller = {
      principal,
      mfaEnrolmentRequired: await enrolmentRequired(this.db, principal, key.totpActive),
      epoch: key.accessEpoch ?? '',
      totpActive: key.totpActive,
      loadedAt: nowMs,
      derived: new Map(),
    };
    this.#entries.delete(key.sessionId);
    if (key.accessEpoch !== null) {
      if (this.#entries.size >= this.options.maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      this.#entries.set(key.sessionId, caller);
    }
    return caller;
  }
}

/** A value derived from the caller's data alone, worked out once per kept caller. */
export function derived<T>(caller: Caller, name: string, load: () => Promise<T>): Promise<T> {
  let value = caller.derived.get(name) as Promise<T> | undefined;
  if (!value) {
    value = load();
    caller.derived.set(name, value);
    // A failure is not kept: the next request tries again.
    value.catch(() => caller.derived.delete(name));
  }
  return value;
}
