import type { Fixture } from './fixture.ts';

/**
 * An authorization engine measured against Haven on the same fixture, in the same process.
 * Each engine answers in its own way, as its documentation intends it to be used; the harness
 * builds lists (sort, search, pagination) the same way for every peer from `lookupStudents`.
 *
 * The question every engine must answer exactly as Haven does (spec section 3):
 * user U sees student S when
 *  - U holds a role (any grant) whose scope covers S's school, directly or through a user group:
 *    the organisation covers every school, a school group ("hub") its schools, a school itself;
 *  - S is not blocked for U (a block wins over every grant);
 *  - a path reaches S: a group U belongs to is linked to a student group containing S, or a
 *    group U belongs to is linked to S, or U is linked to S directly.
 */
export interface PeerEngine {
  readonly name: string;
  /** The files that model Haven's rules in the engine's own language, under bench/peers/. */
  readonly modelFiles: string[];
  /** Loads the fixture into the engine (timed by the harness as "load time"). */
  load(fixture: Fixture): Promise<void>;
  /** May U see S? */
  check(user: string, student: string): Promise<boolean>;
  /** Every student key U can see, in any order (the engine's "lookup resources"). */
  lookupStudents(user: string): Promise<string[]>;
  /** Every user key who can see S, in any order ("lookup subjects"); absent if the engine has no such query. */
  lookupUsers?(student: string): Promise<string[]>;
  /** The engine's own account of one decision (proof tree, matched rule, reasons). */
  explain?(user: string, student: string): Promise<unknown>;
  /** The engine's own account of what U holds (its nearest equivalent of effective permissions). */
  effectivePermissions?(user: string): Promise<unknown>;
  /** Takes U out of a user group; the next check must reflect it. */
  removeMember(user: string, userGroup: string): Promise<void>;
  /** Puts U back into a user group (so that revoke-then-check can be repeated). */
  addMember(user: string, userGroup: string): Promise<void>;
  close(): Promise<void>;
}
