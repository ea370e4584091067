import type { Kysely } from 'kysely';
import type { DB, SsoProvidersTable, SsoSignInsTable } from '../../db/tables.ts';

export type SsoProviderRow = SsoProvidersTable;

/** The organisation-wide switches (`PUT /organisation/sso`). */
export interface SsoSettings {
  /** Staff may sign in with their Haven password; turned off only once SSO has been used. */
  passwordSignIn: boolean;
  /** A verified address within the allowed domains with no account gets one, as a Member. */
  createAccounts: boolean;
  /** A sign-in the provider says was multi-factor (`amr`) counts as a passed two-factor check. */
  acceptProviderMfa: boolean;
}

export const defaultSsoSettings: Readonly<SsoSettings> = {
  passwordSignIn: true,
  createAccounts: false,
  acceptProviderMfa: false,
};

export async function readSsoSettings(
  db: Kysely<DB>,
  organisationId: string,
): Promise<SsoSettings> {
  const row = await db
    .selectFrom('sso_settings')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
  if (!row) return { ...defaultSsoSettings };
  return {
    passwordSignIn: Number(row.password_sign_in) === 1,
    createAccounts: Number(row.create_accounts) === 1,
    acceptProviderMfa: Number(row.accept_provider_mfa) === 1,
  };
}

export async function writeSsoSettings(
  db: Kysely<DB>,
  organisationId: string,
  settings: SsoSettings,
  now: string,
): Promise<void> {
  const values = {
    password_sign_in: settings.passwordSignIn ? 1 : 0,
    create_accounts: settings.createAccounts ? 1 : 0,
    accept_provider_mfa: settings.acceptProviderMfa ? 1 : 0,
    updated_at: now,
  };
  await db
    .insertInto('sso_settings')
    .values({ organisation_id: organisationId, ...values })
    .onConflict((oc) => oc.column('organisation_id').doUpdateSet(values))
    .execute();
}

export async function listProviders(
  db: Kysely<DB>,
  organisationId: string,
): Promise<SsoProviderRow[]> {
  return db
    .selectFrom('sso_providers')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .orderBy('position')
    .orderBy('id')
    .execute();
}

export async function findProvider(db: Kysely<DB>, organisationId: string, providerId: string) {
  return db
    .selectFrom('sso_providers')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', providerId)
    .executeTakeFirst();
}

/**
 * A provider by its id alone: the one lookup not scoped to an organisation, for the public start
 * of a sign-in, which is where the organisation is learnt from.
 */
export async function findProviderToStart(db: Kysely<DB>, providerId: string) {
  return db.selectFrom('sso_providers').selectAll().where('id', '=', providerId).executeTakeFirst();
}

/**
 * The sign-in buttons anyone may see: the providers of the organisations given, or of whichever
 * organisation allows `domain`, with the organisation's name and password sign-in switch.
 */
export async function publicProviders(
  db: Kysely<DB>,
  filter: { organisationIds: string[] } | { domain: string },
) {
  let query = db
    .selectFrom('sso_providers as p')
    .innerJoin('organisations as o', 'o.id', 'p.organisation_id')
    .leftJoin('sso_settings as s', 's.organisation_id', 'p.organisation_id')
    .select([
      'p.id',
      'p.kind',
      'p.label',
      'p.allowed_domains',
      'p.organisation_id',
      'o.name as organisation_name',
      's.password_sign_in',
    ]);
  if ('domain' in filter) {
    // A coarse match in SQL; the exact one is made on the parsed list.
    query = query.where('p.allowed_domains', 'like', `%${JSON.stringify(filter.domain)}%`);
  } else {
    if (filter.organisationIds.length === 0) return [];
    query = query.where('p.organisation_id', 'in', filter.organisationIds);
  }
  const rows = await query
    .orderBy('o.name')
    .orderBy('p.position')
    .orderBy('p.id')
    .limit(50)
    .execute();
  return 'domain' in filter
    ? rows.filter((r) => allowedDomains(r.allowed_domains).includes(filter.domain))
    : rows;
}

/** The installation's organisations, up to `limit`. */
export async function organisationIds(db: Kysely<DB>, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('organisations').select('id').limit(limit).execute();
  return rows.map((r) => r.id);
}

export function allowedDomains(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    return Array.isArray(parsed) ? parsed.filter((d): d is string => typeof d === 'string') : [];
  } catch {
    // An unreadable list allows nobody.
    return [];
  }
}

/** Removes providers with their links and unfinished sign-ins. */
export async function deleteProviders(
  db: Kysely<DB>,
  organisationId: string,
  providerIds: string[],
): Promise<void> {
  if (providerIds.length === 0) return;
  await db.deleteFrom('sso_links').where('provider_id', 'in', providerIds).execute();
  await db.deleteFrom('sso_sign_ins').where('provider_id', 'in', providerIds).execute();
  await db
    .deleteFrom('sso_providers')
    .where('organisation_id', '=', organisationId)
    .where('id', 'in', providerIds)
    .execute();
}

/** Forgets who a provider's subjects are (its issuer or client changed: `sub` means another thing). */
export async function deleteLinks(db: Kysely<DB>, providerId: string): Promise<number> {
  const result = await db
    .deleteFrom('sso_links')
    .where('provider_id', '=', providerId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function findLink(db: Kysely<DB>, providerId: string, subject: string) {
  return db
    .selectFrom('sso_links')
    .selectAll()
    .where('provider_id', '=', providerId)
    .where('subject', '=', subject)
    .executeTakeFirst();
}

export async function saveLink(
  db: Kysely<DB>,
  link: { providerId: string; subject: string; organisationId: string; userId: string },
  now: string,
): Promise<void> {
  await db
    .insertInto('sso_links')
    .values({
      provider_id: link.providerId,
      subject: link.subject,
      organisation_id: link.organisationId,
      user_id: link.userId,
      created_at: now,
      last_used_at: now,
    })
    .onConflict((oc) => oc.columns(['provider_id', 'subject']).doUpdateSet({ last_used_at: now }))
    .execute();
}

/** Whether the user has signed in through one of these providers (a link to them exists). */
export async function hasSignedInThrough(
  db: Kysely<DB>,
  organisationId: string,
  userId: string,
  providerIds: string[],
): Promise<boolean> {
  if (providerIds.length === 0) return false;
  const row = await db
    .selectFrom('sso_links')
    .select('provider_id')
    .where('organisation_id', '=', organisationId)
    .where('user_id', '=', userId)
    .where('provider_id', 'in', providerIds)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * A person whose sign-in through the provider checked out but who holds no role yet: they count
 * as active (no invitation is awaited), as a session would have made them.
 */
export async function markActivated(db: Kysely<DB>, userId: string, now: string): Promise<void> {
  await db
    .updateTable('users')
    .set((eb) => ({ activated_at: eb.fn.coalesce('activated_at', eb.val(now)) }))
    .where('id', '=', userId)
    .execute();
}

export async function insertSignIn(db: Kysely<DB>, row: SsoSignInsTable): Promise<void> {
  await db.insertInto('sso_sign_ins').values(row).execute();
}

/** Sign-ins past their time are of no further use (a late answer finds nothing: `sso_state`). */
export async function deleteExpiredSignIns(db: Kysely<DB>, now: string): Promise<void> {
  await db.deleteFrom('sso_sign_ins').where('expires_at', '<', now).execute();
}

/**
 * Spends the sign-in with this state, started in this browser, if it is unspent: at most one
 * answer from the provider is ever taken for it, however many arrive at once.
 */
export async function claimSignIn(
  db: Kysely<DB>,
  stateHash: string,
  browserHash: string,
  now: string,
): Promise<SsoSignInsTable | undefined> {
  return db
    .updateTable('sso_sign_ins')
    .set({ used_at: now })
    .where('state_hash', '=', stateHash)
    .where('browser_hash', '=', browserHash)
    .where('used_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}
