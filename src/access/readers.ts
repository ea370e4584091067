import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import type { DB } from '../db/tables.ts';
import { schoolSettings } from '../modules/organisations/settings.ts';
import type { Clearance } from './clearances.ts';
import { viewerOf } from './decide.ts';
import { heldAt } from './history.ts';
import type { Principal } from './principal.ts';
import {
  type AccessTime,
  holdsRoleAt,
  reachesUnblocked,
  studentLive,
  studentVisibleTo,
  type Viewer,
} from './visibility.ts';

/**
 * Who asks to read records. Every record policy (incidents, actions, documents, alerts, the audit
 * log) takes the reader in one of two forms, and builds the same SQL from either:
 *  - the signed-in caller, whose roles, clearances and step-up were loaded with the request; or
 *  - every user of a query over `users as u` (who would read this record? the widening preview,
 *    notifications), whose roles and clearances are read in SQL, a step-up assumed.
 */

/** A session's proof of a recent two-factor check, with the principal it belongs to. */
export interface Caller {
  principal: Principal;
  /** When this session last passed TOTP (null: never). */
  mfaAt: string | null;
}

/** The signed-in caller as the record policies need them. Built once per request. */
export interface Reader extends Viewer {
  organisationId: string;
  clearances: readonly Clearance[];
  /**
   * Schools where the caller may read child-protection and allegation records right now:
   * those that do not require the TOTP step-up, or all of them once the session passed it.
   */
  sensitiveSchools: 'all' | readonly string[];
}

/** A reader for a policy: the caller, or each user of the enclosing query (`u.id`). */
export type ReaderRef =
  | { kind: 'caller'; reader: Reader }
  | { kind: 'users'; user: Expression<string> };

export function asCaller(reader: Reader): ReaderRef {
  return { kind: 'caller', reader };
}

/** A school's setting: reading sensitive records needs a fresh TOTP step-up (default on). */
export function requiresStepUp(settings: string): boolean {
  return schoolSettings(settings).requireMfaForSensitive;
}

/**
 * The caller as every record policy takes them. `stepUp: 'assume'` asks what they could read
 * after a step-up (to tell "403 mfa_required" from "404"). Inside a change, pass the change's
 * own handle.
 */
export async function readerOf(
  db: Kysely<DB>,
  caller: Caller,
  mfaWindowMs: number,
  stepUp: 'actual' | 'assume' = 'actual',
): Promise<Reader> {
  const { principal } = caller;
  const fresh =
    stepUp === 'assume' ||
    (caller.mfaAt !== null && Date.now() - new Date(caller.mfaAt).getTime() <= mfaWindowMs);
  let sensitiveSchools: Reader['sensitiveSchools'] = 'all';
  if (!fresh) {
    const schools = await db
      .selectFrom('schools')
      .select(['id', 'settings'])
      .where('organisation_id', '=', principal.organisationId)
      .execute();
    sensitiveSchools = schools.filter((s) => !requiresStepUp(s.settings)).map((s) => s.id);
  }
  return {
    ...viewerOf(principal),
    organisationId: principal.organisationId,
    clearances: [...principal.clearances].sort() as Clearance[],
    sensitiveSchools,
  };
}

/** The reader's user id, as a value or as the column of the enclosing query. */
export function userOf(who: ReaderRef): string | Expression<string> {
  return who.kind === 'caller' ? who.reader.userId : who.user;
}

/**
 * The user holds the clearance (through a user group they belong to). For the caller it was
 * loaded with the request; for a column of users it is asked in SQL, as `loadHeldClearances` does.
 */
export function holdsClearance(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over incidents and over users
  eb: ExpressionBuilder<any, any>,
  t: { organisationId: string; asOf?: string | undefined },
  who: ReaderRef,
  clearance: Clearance,
): Expression<SqlBool> | boolean {
  if (who.kind === 'caller') return who.reader.clearances.includes(clearance);
  return eb.exists(
    db
      .selectFrom('user_group_clearances as uc')
      .innerJoin('user_group_members as ucm', 'ucm.user_group_id', 'uc.user_group_id')
      .select('uc.id')
      .where('uc.organisation_id', '=', t.organisationId)
      .where('uc.clearance', '=', clearance)
      .where('ucm.user_id', '=', who.user)
      .where((eb2) => heldAt(eb2, 'uc', t.asOf))
      .where((eb2) => heldAt(eb2, 'ucm', t.asOf)),
  );
}

/**
 * The user holds some role (Viewer or higher), directly or through a group: without one nobody
 * signs in, so nobody reads anything. For the caller it is already true (the request passed
 * authentication); for a column of users it is asked in SQL.
 */
export function holdsSomeRole(
  db: Kysely<DB>,
  // biome-ignore lint/suspicious/noExplicitAny: used inside queries over users
  eb: ExpressionBuilder<any, any>,
  t: { organisationId: string; asOf?: string | undefined },
  user: Expression<string>,
): Expression<SqlBool> {
  return holdsRoleAt(db, eb, t, user, 'anywhere');
}

/** The reader sees the child of a query over `students as s` (spec section 3). */
export function seesStudent(
  db: Kysely<DB>,
  eb: ExpressionBuilder<DB & { s: DB['students'] }, 's'>,
  t: AccessTime,
  who: ReaderRef,
): Expression<SqlBool> {
  if (who.kind === 'caller') return studentVisibleTo(db, eb, t, who.reader);
  return eb.and([
    eb('s.organisation_id', '=', t.organisationId),
    studentLive(eb, t.asOf),
    holdsRoleAt(db, eb, t, who.user, sql.ref<string>('s.school_id')),
    reachesUnblocked(db, eb, t, { user: who.user, student: sql.ref<string>('s.id') }),
  ]);
}
