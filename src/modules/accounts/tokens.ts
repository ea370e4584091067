import type { Kysely, Transaction } from 'kysely';
import { chunks } from '../../db/sql.ts';
import type { AccountTokenPurpose, AccountTokensTable, DB } from '../../db/tables.ts';
import { HavenError } from '../../lib/errors.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { addMs } from '../../lib/time.ts';
import { tokenHash } from '../auth/sessions.ts';

/**
 * The single-use links of invitations and password resets (`account_tokens`, the one writer of
 * that table). A token is 256 random bits, handed out once (sealed in its email); only its
 * SHA-256 hash is stored. It opens nothing once spent, replaced by a newer one of its kind (or
 * by the password being set another way), or past its time.
 */

export const TOKEN_LIFETIME_MS: Record<AccountTokenPurpose, number> = {
  invitation: 7 * 24 * 3_600_000,
  password_reset: 3_600_000,
};

type Db = Kysely<DB> | Transaction<DB>;

/** One stable answer for a link that is unknown, used, replaced or expired: which it was is not told. */
export function invalidToken(): HavenError {
  return new HavenError(
    400,
    'invalid_token',
    'Link not valid',
    'This link has expired, has already been used, or was replaced by a newer one. Ask for a new one.',
  );
}

export interface IssuedToken {
  id: string;
  userId: string;
  /** The raw token: sealed into its email at once, never stored or logged. */
  token: string;
  createdAt: string;
  expiresAt: string;
}

/**
 * New tokens of one kind for some users of an organisation, each replacing that user's live ones
 * of the same kind (so the link of an earlier email stops working).
 */
export async function issueTokens(
  db: Transaction<DB>,
  input: {
    organisationId: string;
    userIds: readonly string[];
    purpose: AccountTokenPurpose;
    createdBy: string | null;
    now: string;
  },
): Promise<IssuedToken[]> {
  if (input.userIds.length === 0) return [];
  const expiresAt = addMs(input.now, TOKEN_LIFETIME_MS[input.purpose]);
  for (const slice of chunks(input.userIds))
    await retireTokens(db, slice, input.now, [input.purpose]);
  const issued = input.userIds.map((userId) => ({
    id: newId(),
    userId,
    token: newSecret(),
    createdAt: input.now,
    expiresAt,
  }));
  for (const slice of chunks(issued))
    await db
      .insertInto('account_tokens')
      .values(
        slice.map(
          (t): AccountTokensTable => ({
            id: t.id,
            organisation_id: input.organisationId,
            user_id: t.userId,
            purpose: input.purpose,
            token_hash: tokenHash(t.token),
            created_at: t.createdAt,
            expires_at: t.expiresAt,
            used_at: null,
            replaced_at: null,
            created_by: input.createdBy,
          }),
        ),
      )
      .execute();
  return issued;
}

/**
 * Ends the users' live tokens (of the given kinds): a newer one was sent, or the password was
 * set another way. Answers how many it ended.
 */
export async function retireTokens(
  db: Db,
  userIds: readonly string[],
  now: string,
  purposes: readonly AccountTokenPurpose[] = ['invitation', 'password_reset'],
): Promise<number> {
  if (userIds.length === 0) return 0;
  const result = await db
    .updateTable('account_tokens')
    .set({ replaced_at: now })
    .where('user_id', 'in', userIds)
    .where('purpose', 'in', purposes)
    .where('used_at', 'is', null)
    .where('replaced_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * The live token of `purpose` for this raw token, with its user (not removed), or undefined: an
 * unknown, spent, replaced or expired token all answer the same.
 */
export async function findLiveToken(
  db: Db,
  purpose: AccountTokenPurpose,
  token: string,
  now: string,
) {
  return db
    .selectFrom('account_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select([
      't.id',
      't.organisation_id',
      't.user_id',
      'u.email',
      'u.name',
      'u.disabled_at',
      'u.activated_at',
    ])
    .where('t.token_hash', '=', tokenHash(token))
    .where('t.purpose', '=', purpose)
    .where('t.used_at', 'is', null)
    .where('t.replaced_at', 'is', null)
    .where('t.expires_at', '>', now)
    .where('u.removed_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Spends a token in the change that acts on it: true for the one caller that spent it, false
 * if it was spent, replaced or expired meanwhile (a conditional update, so two uses racing each
 * other cannot both pass).
 */
export async function spendToken(db: Transaction<DB>, tokenId: string, now: string) {
  const result = await db
    .updateTable('account_tokens')
    .set({ used_at: now })
    .where('id', '=', tokenId)
    .where('used_at', 'is', null)
    .where('replaced_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** A token by id, if it still opens something at `now` (an email whose link is dead is withdrawn). */
export async function liveTokenById(db: Db, tokenId: string, now: string) {
  return db
    .selectFrom('account_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .innerJoin('organisations as o', 'o.id', 't.organisation_id')
    .select(['t.id', 't.purpose', 't.expires_at', 't.created_by', 'o.name as organisation_name'])
    .where('t.id', '=', tokenId)
    .where('t.used_at', 'is', null)
    .where('t.replaced_at', 'is', null)
    .where('t.expires_at', '>', now)
    .where('u.disabled_at', 'is', null)
    .where('u.removed_at', 'is', null)
    .executeTakeFirst();
}

/** How many tokens of `purpose` were made for the user since `since` (spent and replaced ones too). */
export async function tokensMadeSince(
  db: Db,
  userId: string,
  purpose: AccountTokenPurpose,
  since: string,
): Promise<number> {
  const row = await db
    .selectFrom('account_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface InvitationView {
  /** When it was queued for sending. */
  sentAt: string;
  /** The link opens nothing after this. */
  expiresAt: string;
}

/**
 * Each user's current invitation (the latest, neither spent nor replaced, perhaps expired), for
 * users who have not yet set a password or signed in.
 */
export async function currentInvitations(
  db: Db,
  organisationId: string,
  userIds: readonly string[],
): Promise<Map<string, InvitationView>> {
  const found = new Map<string, InvitationView>();
  for (const slice of chunks(userIds)) {
    if (slice.length === 0) continue;
    const rows = await db
      .selectFrom('account_tokens')
      .select(['user_id', 'created_at', 'expires_at'])
      .where('organisation_id', '=', organisationId)
      .where('user_id', 'in', slice)
      .where('purpose', '=', 'invitation')
      .where('used_at', 'is', null)
      .where('replaced_at', 'is', null)
      .orderBy('created_at')
      .execute();
    for (const r of rows) found.set(r.user_id, { sentAt: r.created_at, expiresAt: r.expires_at });
  }
  return found;
}

/** A request URL fit for the logs: the token of an account link (`?token=…`) blanked out. */
export function withoutLinkToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}
