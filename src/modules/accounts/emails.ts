import type { Kysely } from 'kysely';
import type { AccountTokenPurpose, DB } from '../../db/tables.ts';
import { openSecret, sealSecret } from '../auth/secret-seal.ts';
import { liveTokenById } from './tokens.ts';

/**
 * The emails that carry an account link. The raw token travels in the outbox payload sealed
 * (AES-256-GCM under the installation's `account_tokens` subkey, bound to the token's id), so a
 * copy of the database opens no account; the worker opens it only to write the email, and wipes
 * it from the payload once the email is sent, given up or withdrawn.
 */
interface PayloadOf<K extends AccountTokenPurpose> {
  kind: K;
  tokenId: string;
  /** Absent once the worker is done with the email. */
  sealedToken?: string | undefined;
}
export type AccountEmailPayload = PayloadOf<'invitation'> | PayloadOf<'password_reset'>;

/** The web pages the links open (written by the web app; keep the paths). */
const PAGES: Record<AccountTokenPurpose, string> = {
  invitation: '/accept-invitation',
  password_reset: '/reset-password',
};

export function accountEmailPayload(
  key: Buffer,
  purpose: AccountTokenPurpose,
  issued: { id: string; token: string },
): AccountEmailPayload {
  return {
    kind: purpose,
    tokenId: issued.id,
    sealedToken: sealSecret(key, issued.id, issued.token),
  };
}

/** The payload as kept after the email is done with: the sealed token gone. */
export function wipedAccountPayload(payload: AccountEmailPayload): AccountEmailPayload {
  return { kind: payload.kind, tokenId: payload.tokenId };
}

export interface AccountEmailContext {
  publicUrl: string;
  now: Date;
  /** The `account_tokens` subkey; without it an account email cannot be written (it fails). */
  accountTokenKey?: Buffer | undefined;
}

/**
 * The email for an account link, or null when the link no longer opens anything (spent,
 * replaced by a newer one, expired, the account disabled or removed, or the token wiped): the
 * email is then withdrawn rather than sent.
 */
export async function renderAccountEmail(
  db: Kysely<DB>,
  payload: AccountEmailPayload,
  context: AccountEmailContext,
): Promise<{ subject: string; text: string } | null> {
  if (!payload.sealedToken) return null;
  const token = await liveTokenById(db, payload.tokenId, context.now.toISOString());
  if (!token || token.purpose !== payload.kind) return null;
  if (!context.accountTokenKey)
    throw new Error('The worker was given no installation key to open account links with');
  const raw = openSecret(context.accountTokenKey, payload.tokenId, payload.sealedToken);
  const link = `${context.publicUrl}${PAGES[payload.kind]}?token=${encodeURIComponent(raw)}`;
  const organisation = token.organisation_name;
  if (payload.kind === 'password_reset')
    return {
      subject: `Reset your Haven password (${organisation})`,
      text:
        `Someone asked to reset the password of your Haven account at ${organisation}.\n\n` +
        `To choose a new password, open this link within one hour:\n\n${link}\n\n` +
        'The link works once. Resetting your password signs you out everywhere you are signed in.\n\n' +
        'If you did not ask for this, ignore this email: your password stays as it is.',
    };
  const inviter = token.created_by
    ? await db
        .selectFrom('users')
        .select('name')
        .where('id', '=', token.created_by)
        .executeTakeFirst()
    : undefined;
  return {
    subject: `You are invited to Haven at ${organisation}`,
    text:
      `${inviter ? `${inviter.name} has added you` : 'You have been added'} to Haven, the safeguarding ` +
      `records of ${organisation}.\n\nChoose your password to sign in:\n\n${link}\n\n` +
      'The link works once, within 7 days. If it has run out, ask whoever added you to send a ' +
      'new invitation.\n\nIf you did not expect this email, you can ignore it.',
  };
}
