import { createHash } from 'node:crypto';
import { holdsActiveRole, requirePermission } from '../../access/decide.ts';
import { loadPrincipal, type Principal } from '../../access/principal.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { SsoProviderKind } from '../../db/tables.ts';
import { conflict, HavenError, invalidField } from '../../lib/errors.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { addMs, nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import type { ClientInfo } from '../auth/service.ts';
import type { NewSession } from '../auth/sessions.ts';
import { openSignedInSession } from '../auth/sign-in.ts';
import { deriveKey } from '../documents/keys.ts';
import { findUser, findUserByEmail, insertUser } from '../users/repository.ts';
import { openClientSecret, sealClientSecret } from './client-secret.ts';
import { assertsMultiFactor, authenticatedAt, verifiedEmail } from './identity.ts';
import {
  authorizationRequest,
  cancelledAtProvider,
  exchangeCode,
  OidcClients,
} from './oidc-client.ts';
import {
  authorizationHints,
  defaultLabel,
  GOOGLE_ISSUER,
  issuerProblem,
  microsoftIssuer,
} from './presets.ts';
import type { SsoProviderRow, SsoSettings } from './repository.ts';
import * as repo from './repository.ts';

/** How long a sign-in may take at the provider. */
export const SIGN_IN_TTL_MS = 10 * 60_000;
export const MAX_PROVIDERS = 10;

/** A provider as the Owner sends it (`PUT /organisation/sso`). */
export interface ProviderInput {
  /** An existing provider of the organisation; absent for a new one. */
  id?: string | undefined;
  kind: SsoProviderKind;
  label?: string | null | undefined;
  tenantId?: string | null | undefined;
  issuer?: string | undefined;
  clientId: string;
  /** Absent: the stored secret is kept (an existing provider only). */
  clientSecret?: string | undefined;
  allowedDomains: string[];
}

export interface SsoConfigurationInput extends SsoSettings {
  providers: ProviderInput[];
}

/**
 * Why a single sign-on failed, as the web app's sign-in page is told (`?sso_error=<code>`). The
 * status only decides how the refusal is audited (401 and 403 are); the browser is redirected.
 */
export type SsoErrorCode =
  | 'sso_unknown_provider'
  | 'sso_unavailable'
  | 'sso_state'
  | 'sso_expired'
  | 'sso_cancelled'
  | 'sso_failed'
  | 'sso_unverified_email'
  | 'sso_domain'
  | 'sso_no_account'
  | 'sso_disabled'
  | 'sso_no_role';

const SSO_ERROR_DETAIL: Record<SsoErrorCode, string> = {
  sso_unknown_provider: 'There is no such sign-in provider',
  sso_unavailable: 'The sign-in provider could not be reached',
  sso_state: 'This sign-in was not started in this browser, or has already been used; start again',
  sso_expired: 'The sign-in took too long; start again',
  sso_cancelled: 'The sign-in was cancelled at the provider',
  sso_failed: 'The sign-in provider’s answer could not be checked',
  sso_unverified_email: 'The provider did not vouch for the email address',
  sso_domain: 'This email address is not in a domain the organisation allows',
  sso_no_account: 'There is no Haven account for this email address',
  sso_disabled: 'This account has been disabled',
  sso_no_role: 'Your account has no role yet',
};

export function ssoError(code: SsoErrorCode, status: 401 | 403 | 404 | 503 = 401): HavenError {
  return new HavenError(status, code, 'Single sign-on failed', SSO_ERROR_DETAIL[code]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The organisation's single sign-on providers and switches (Owner; spec api.md, "Accounts"). */
export class SsoService {
  readonly #key: Buffer;
  readonly #clients: OidcClients;

  constructor(
    private readonly database: Database,
    private readonly config: Config,
    masterKey: Buffer,
  ) {
    this.#key = deriveKey(masterKey, 'sso');
    this.#clients = new OidcClients(config.sso.allowHttpLoopback);
  }

  /**
   * The provider's own callback under `HAVEN_PUBLIC_URL`, else under this request's origin. Each
   * provider has its own, so an answer is only ever taken for the provider it was asked of: with
   * one callback for all, a provider run by another organisation's Owner could pass a victim on
   * to this organisation's provider and have the code it answers sent to itself (the "mix-up"
   * attack, RFC 9700 section 4.4).
   */
  redirectUri(requestOrigin: string, providerId: string): string {
    return `${this.config.sso.publicUrl ?? requestOrigin}${callbackPath(providerId)}`;
  }

  async configuration(principal: Principal, requestOrigin: string) {
    requireOwner(principal);
    const db = this.database.db;
    const [providers, settings] = await Promise.all([
      repo.listProviders(db, principal.organisationId),
      repo.readSsoSettings(db, principal.organisationId),
    ]);
    return {
      providers: providers.map((row) => ({
        ...presentProvider(row),
        redirectUri: this.redirectUri(requestOrigin, row.id),
      })),
      ...settings,
    };
  }

  /**
   * Replaces the providers and switches. A provider sent with `id` is one of the organisation's
   * (another id answers 404 naming it) and keeps its secret unless one is sent; one without `id`
   * is new and needs its secret; those not sent are removed, with their links. Password sign-in
   * may be off only while the Owner saving it has signed in through a provider that stays as it
   * is, so nobody turns it off before single sign-on is known to work.
   */
  async replace(
    principal: Principal,
    input: SsoConfigurationInput,
    origin: ChangeOrigin,
    requestOrigin: string,
  ) {
    requireOwner(principal);
    const organisationId = principal.organisationId;
    const resolved = input.providers.map((p, index) => this.#resolve(p, index));
    const sentIds = input.providers.flatMap((p) => (p.id ? [p.id] : []));
    const duplicate = sentIds.find((id, i) => sentIds.indexOf(id) !== i);
    if (duplicate) throw invalidField('providers', `provider ${duplicate} is listed twice`);

    await runChange(this.database, origin, async (change) => {
      const db = change.db;
      const before = await repo.listProviders(db, organisationId);
      const beforeSettings = await repo.readSsoSettings(db, organisationId);
      const existing = new Map(before.map((p) => [p.id, p]));
      const unchanged: string[] = [];
      const after: ReturnType<typeof auditView>[] = [];

      for (const [index, provider] of resolved.entries()) {
        const field = `providers.${index}`;
        const old = provider.id ? existing.get(provider.id) : undefined;
        if (provider.id && !old) {
          throw new HavenError(404, 'not_found', 'Not found', `${field}.id: provider not found`, {
            errors: [{ field: `${field}.id`, message: 'is not a provider of this organisation' }],
          });
        }
        if (!old && provider.clientSecret === undefined)
          throw invalidField(`${field}.clientSecret`, 'a new provider needs its client secret');
        const id = old?.id ?? newId();
        const sealed =
          provider.clientSecret === undefined
            ? old!.client_secret
            : sealClientSecret(this.#key, organisationId, id, provider.clientSecret);
        const values = {
          kind: provider.kind,
          label: provider.label,
          tenant_id: provider.tenantId,
          issuer: provider.issuer,
          client_id: provider.clientId,
          client_secret: sealed,
          allowed_domains: JSON.stringify(provider.allowedDomains),
          position: index,
          updated_at: change.now,
        };
        let linksForgotten = 0;
        if (old) {
          // A `sub` is the issuer's name for a person, and Microsoft's differs per client id.
          if (old.issuer !== provider.issuer || old.client_id !== provider.clientId)
            linksForgotten = await repo.deleteLinks(db, id);
          else unchanged.push(id);
          await db
            .updateTable('sso_providers')
            .set(values)
            .where('organisation_id', '=', organisationId)
            .where('id', '=', id)
            .execute();
        } else {
          await db
            .insertInto('sso_providers')
            .values({ id, organisation_id: organisationId, created_at: change.now, ...values })
            .execute();
        }
        after.push({
          ...auditView({ id, ...values }),
          ...(old && provider.clientSecret !== undefined ? { clientSecretChanged: true } : {}),
          ...(linksForgotten > 0 ? { linksForgotten } : {}),
        });
      }

      const removed = before.filter((p) => !resolved.some((r) => r.id === p.id)).map((p) => p.id);
      await repo.deleteProviders(db, organisationId, removed);

      if (!input.passwordSignIn) {
        const proven = await repo.hasSignedInThrough(
          db,
          organisationId,
          principal.userId,
          unchanged,
        );
        if (!proven) {
          throw conflict(
            'Password sign-in can be turned off only by an Owner who has signed in through one of the providers (kept as they are), so that single sign-on is known to work',
            'sso_not_proven',
          );
        }
      }
      const settings: SsoSettings = {
        passwordSignIn: input.passwordSignIn,
        createAccounts: input.createAccounts,
        acceptProviderMfa: input.acceptProviderMfa,
      };
      await repo.writeSsoSettings(db, organisationId, settings, change.now);
      change.record({
        action: 'organisation.sso',
        targetType: 'organisation',
        targetId: organisationId,
        before: { providers: before.map(auditView), ...beforeSettings },
        after: { providers: after, ...settings },
      });
    });
    return this.configuration(principal, requestOrigin);
  }

  /** The provider as stored: its issuer from the preset, validated. */
  #resolve(p: ProviderInput, index: number) {
    const field = `providers.${index}`;
    let issuer: string;
    let tenantId: string | null = null;
    switch (p.kind) {
      case 'microsoft': {
        if (p.tenantId != null) {
          tenantId = p.tenantId.toLowerCase();
          if (!GUID.test(tenantId))
            throw invalidField(
              `${field}.tenantId`,
              'must be the directory (tenant) id, a GUID such as 7d3f0c52-1e2a-4b8e-9c0d-2f4a6b8c0e1f',
            );
          issuer = microsoftIssuer(tenantId);
          if (p.issuer !== undefined && p.issuer !== issuer)
            throw invalidField(
              `${field}.issuer`,
              `must be ${issuer} for this tenantId, or left out`,
            );
        } else if (p.issuer !== undefined) {
          issuer = p.issuer;
        } else {
          throw invalidField(`${field}.tenantId`, 'send the tenant id (or the whole issuer)');
        }
        break;
      }
      case 'google':
        if (p.tenantId != null) throw invalidField(`${field}.tenantId`, 'is for Microsoft only');
        if (p.issuer !== undefined && p.issuer !== GOOGLE_ISSUER)
          throw invalidField(`${field}.issuer`, `must be ${GOOGLE_ISSUER}, or left out`);
        issuer = GOOGLE_ISSUER;
        break;
      case 'oidc':
        if (p.tenantId != null) throw invalidField(`${field}.tenantId`, 'is for Microsoft only');
        if (p.issuer === undefined) throw invalidField(`${field}.issuer`, 'is needed');
        issuer = p.issuer;
        break;
    }
    issuer = issuer.replace(/\/+$/, '');
    const problem = issuerProblem(issuer, this.config.sso.allowHttpLoopback);
    if (problem) throw invalidField(`${field}.issuer`, problem);
    return {
      id: p.id,
      kind: p.kind,
      label: p.label ?? null,
      tenantId,
      issuer,
      clientId: p.clientId,
      clientSecret: p.clientSecret,
      allowedDomains: [...new Set(p.allowedDomains)],
    };
  }

  /**
   * The sign-in buttons for the sign-in page. Nothing about an organisation is shown to anyone
   * unless they ask by the domain of their email address, or the installation holds one
   * organisation (which its sign-in page names anyway).
   */
  async publicProviders(email: string | undefined) {
    const db = this.database.db;
    let rows: Awaited<ReturnType<typeof repo.publicProviders>>;
    if (email !== undefined) {
      rows = await repo.publicProviders(db, { domain: email.slice(email.lastIndexOf('@') + 1) });
    } else {
      const organisations = await repo.organisationIds(db, 2);
      rows =
        organisations.length === 1
          ? await repo.publicProviders(db, { organisationIds: organisations })
          : [];
    }
    const organisations = new Set(rows.map((r) => r.organisation_id));
    const passwordOff = new Set(
      rows
        .filter((r) => r.password_sign_in !== null && Number(r.password_sign_in) === 0)
        .map((r) => r.organisation_id),
    );
    return {
      items: rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        label: r.label ?? defaultLabel(r.kind),
        organisationName: r.organisation_name,
        startUrl: `/api/v1/auth/oidc/${r.id}/start`,
      })),
      // Off only when every organisation asked about has turned it off.
      passwordSignIn: organisations.size === 0 || passwordOff.size < organisations.size,
    };
  }

  /**
   * Starts a sign-in: a pending row (PKCE verifier, state and nonce; hashes of the state and of
   * the browser's secret) and the provider's authorization URL. The caller sets `browserSecret`
   * as a short-lived cookie, which the answer must come back with.
   */
  async start(providerId: string, requestOrigin: string) {
    const db = this.database.db;
    const redirectUri = this.redirectUri(requestOrigin, providerId);
    const provider = await repo.findProviderToStart(db, providerId);
    if (!provider) throw ssoError('sso_unknown_provider', 404);
    let request: Awaited<ReturnType<typeof authorizationRequest>>;
    try {
      const config = await this.#clients.configuration(this.#clientOf(provider));
      request = await authorizationRequest(
        config,
        redirectUri,
        authorizationHints(provider.kind, repo.allowedDomains(provider.allowed_domains)),
      );
    } catch (error) {
      throw ssoError('sso_unavailable', 503).withAudit(
        { providerId, reason: reasonOf(error) },
        provider.organisation_id,
      );
    }
    const browserSecret = newSecret();
    const now = nowIso();
    await repo.deleteExpiredSignIns(db, now);
    await repo.insertSignIn(db, {
      id: newId(),
      state_hash: sha256(request.state),
      browser_hash: sha256(browserSecret),
      organisation_id: provider.organisation_id,
      provider_id: provider.id,
      nonce: request.nonce,
      code_verifier: request.codeVerifier,
      redirect_uri: redirectUri,
      created_at: now,
      expires_at: addMs(now, SIGN_IN_TTL_MS),
      used_at: null,
    });
    return { location: request.url.href, browserSecret, maxAgeMs: SIGN_IN_TTL_MS };
  }

  /**
   * The provider's answer: spends the pending sign-in (this browser's, unspent, in time), has
   * openid-client exchange the code and check the ID token, finds the person (by the provider's
   * `sub` once linked, else by the address the provider vouches for within the allowed domains),
   * and opens a session as a password sign-in does. Every refusal is a HavenError with an
   * `sso_` code, audited in the provider's organisation once it is known.
   */
  async finish(
    providerId: string,
    query: URLSearchParams,
    browserSecret: string | undefined,
    client: ClientInfo,
  ): Promise<NewSession> {
    const db = this.database.db;
    const state = query.get('state');
    if (!state || !browserSecret) throw ssoError('sso_state');
    const now = nowIso();
    const pending = await repo.claimSignIn(db, sha256(state), sha256(browserSecret), now);
    if (!pending) throw ssoError('sso_state');
    const organisationId = pending.organisation_id;
    const refuse = (
      code: SsoErrorCode,
      meta: Record<string, unknown> = {},
      status: 401 | 403 = 401,
    ) =>
      ssoError(code, status).withAudit(
        { providerId: pending.provider_id, ...meta },
        organisationId,
      );
    if (pending.expires_at <= now) throw refuse('sso_expired');
    // Started with one provider, answered at another's callback: someone passed the person on.
    if (pending.provider_id !== providerId)
      throw refuse('sso_state', { answeredAt: providerId, reason: 'another provider’s callback' });

    const provider = await repo.findProvider(db, organisationId, pending.provider_id);
    if (!provider) throw refuse('sso_failed', { reason: 'the provider was removed' });
    const callbackUrl = new URL(pending.redirect_uri);
    callbackUrl.search = query.toString();
    let claims: Record<string, unknown>;
    try {
      const config = await this.#clients.configuration(this.#clientOf(provider));
      claims = await exchangeCode(config, callbackUrl, {
        codeVerifier: pending.code_verifier,
        state,
        nonce: pending.nonce,
      });
    } catch (error) {
      throw refuse(cancelledAtProvider(error) ? 'sso_cancelled' : 'sso_failed', {
        reason: reasonOf(error),
      });
    }
    const subject = typeof claims.sub === 'string' ? claims.sub : '';
    if (!subject) throw refuse('sso_failed', { reason: 'the ID token names no subject' });

    const settings = await repo.readSsoSettings(db, organisationId);
    const person = await this.#findPerson(provider, subject, claims, settings, refuse);
    const principal = person.create ? null : await loadPrincipal(db, organisationId, person.userId);
    const withRole = principal !== null && holdsActiveRole(principal);
    const providerMfa = settings.acceptProviderMfa && assertsMultiFactor(claims);
    const origin: ChangeOrigin = {
      organisationId,
      userId: person.userId,
      requestId: client.requestId,
      ...(client.ip ? { ip: client.ip } : {}),
      via: 'api',
    };
    const session = await runChange(this.database, origin, async (change) => {
      if (person.create) {
        // Another sign-in may have made the account a moment ago: then this one is refused.
        if (await findUserByEmail(change.db, organisationId, person.create.email))
          throw refuse('sso_no_account', { reason: 'the account was made meanwhile' }, 403);
        await insertUser(change.db, {
          id: person.userId,
          organisation_id: organisationId,
          email: person.create.email,
          name: person.create.name,
          password_hash: null,
          now: change.now,
        });
        change.record({
          action: 'user.create',
          targetType: 'user',
          targetId: person.userId,
          after: { email: person.create.email, name: person.create.name, hasPassword: false },
          meta: { via: 'sso', providerId: provider.id },
        });
      }
      if (!person.linked) {
        change.record({
          action: 'auth.sso.linked',
          targetType: 'user',
          targetId: person.userId,
          meta: { providerId: provider.id, subject, email: person.email },
        });
      }
      await repo.saveLink(
        change.db,
        { providerId: provider.id, subject, organisationId, userId: person.userId },
        change.now,
      );
      if (!withRole) {
        await repo.markActivated(change.db, person.userId, change.now);
        return null;
      }
      return openSignedInSession(change, {
        userId: person.userId,
        organisationId,
        limits: this.config.session,
        mfaAt: providerMfa ? authenticatedAt(claims, change.now) : null,
        client,
        method: 'sso',
        meta: {
          secondFactor: providerMfa ? 'provider' : null,
          providerId: provider.id,
          amr: Array.isArray(claims.amr) ? claims.amr.slice(0, 10) : null,
        },
      });
    });
    // As a password sign-in without a role: the person is told to ask for one (Member only).
    if (!session) throw refuse('sso_no_role', { email: person.email }, 403);
    return session;
  }

  /** Who signs in: the linked user, the user with the vouched-for address, or one to create. */
  async #findPerson(
    provider: SsoProviderRow,
    subject: string,
    claims: Record<string, unknown>,
    settings: SsoSettings,
    refuse: (code: SsoErrorCode, meta?: Record<string, unknown>, status?: 401 | 403) => HavenError,
  ): Promise<{
    userId: string;
    email: string;
    linked: boolean;
    create: { email: string; name: string } | null;
  }> {
    const db = this.database.db;
    const organisationId = provider.organisation_id;
    const link = await repo.findLink(db, provider.id, subject);
    if (link) {
      const user = await findUser(db, organisationId, link.user_id);
      if (!user)
        throw refuse('sso_no_account', { subject, reason: 'the linked user was removed' }, 403);
      if (user.disabled_at) throw refuse('sso_disabled', { email: user.email }, 403);
      return { userId: user.id, email: user.email, linked: true, create: null };
    }
    const vouched = verifiedEmail(
      provider.kind,
      claims,
      repo.allowedDomains(provider.allowed_domains),
    );
    if (!vouched.ok) {
      const email = typeof claims.email === 'string' ? claims.email.slice(0, 254) : null;
      throw refuse(vouched.reason, { subject, email }, 403);
    }
    const user = await findUserByEmail(db, organisationId, vouched.email);
    if (user?.removed_at) throw refuse('sso_no_account', { email: vouched.email }, 403);
    if (user?.disabled_at) throw refuse('sso_disabled', { email: vouched.email }, 403);
    if (user) return { userId: user.id, email: user.email, linked: false, create: null };
    if (!settings.createAccounts) throw refuse('sso_no_account', { email: vouched.email }, 403);
    const name =
      typeof claims.name === 'string' && claims.name.trim()
        ? claims.name.trim().slice(0, 200)
        : vouched.email.slice(0, vouched.email.indexOf('@'));
    return {
      userId: newId(),
      email: vouched.email,
      linked: false,
      create: { email: vouched.email, name },
    };
  }

  #clientOf(provider: SsoProviderRow) {
    return {
      id: provider.id,
      issuer: provider.issuer,
      clientId: provider.client_id,
      clientSecret: openClientSecret(
        this.#key,
        provider.organisation_id,
        provider.id,
        provider.client_secret,
      ),
      version: provider.updated_at,
    };
  }
}

function requireOwner(principal: Principal) {
  requirePermission(principal, 'organisation.update', {
    type: 'organisation',
    id: principal.organisationId,
  });
}

function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 200);
}

/** Where a provider's answers come back (its redirect URI, under the public URL). */
export function callbackPath(providerId: string): string {
  return `/api/v1/auth/oidc/${providerId}/callback`;
}

export function presentProvider(row: SsoProviderRow) {
  return {
    id: row.id,
    kind: row.kind,
    label: row.label,
    tenantId: row.tenant_id,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSet: true as const,
    allowedDomains: repo.allowedDomains(row.allowed_domains),
    startUrl: `/api/v1/auth/oidc/${row.id}/start`,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A provider in the audit log: everything but the secret. */
function auditView(p: {
  id: string;
  kind: string;
  label: string | null;
  tenant_id: string | null;
  issuer: string;
  client_id: string;
  allowed_domains: string;
}) {
  return {
    id: p.id,
    kind: p.kind,
    label: p.label,
    tenantId: p.tenant_id,
    issuer: p.issuer,
    clientId: p.client_id,
    allowedDomains: repo.allowedDomains(p.allowed_domains),
  };
}
