import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { requirePermission } from '../../access/decide.ts';
import { loadSchoolGroupsBySchool, type Principal } from '../../access/principal.ts';
import { scimPrincipal } from '../../access/scim.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { HavenError, notFound } from '../../lib/errors.ts';
import { newId, newSecret } from '../../lib/ids.ts';
import { nowIso } from '../../lib/time.ts';
import { type ChangeOrigin, runChange } from '../audit/change.ts';
import { tokenHash } from '../auth/sessions.ts';

/** Who is calling `/scim/v2`: one organisation's provisioning token. */
export interface ScimCaller {
  tokenId: string;
  organisationId: string;
  /** The token's authority (`src/access/scim.ts`). */
  principal: Principal;
  /** Where its changes come from, for the audit log: `via: 'scim'` and the token's id. */
  origin: ChangeOrigin;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route is part of the SCIM service: authenticated by SCIM token alone. */
    scim?: true;
  }
  interface FastifyRequest {
    /** The SCIM token's caller, on `/scim/v2` routes (null elsewhere). */
    scim: ScimCaller | null;
  }
}

/** A token starts with this, so secret scanners and people can tell what it is. */
const TOKEN_PREFIX = 'haven_scim_';

function bearer(request: FastifyRequest): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

function refused(detail: string): HavenError {
  return new HavenError(401, 'unauthorized', 'Unauthorized', detail);
}

/**
 * The caller of a `/scim/v2` request, from `Authorization: Bearer <token>` and nothing else (no
 * cookie, no session token); every other request there is refused with 401. A revoked token's
 * refusal is written to its organisation's audit log.
 */
export async function authenticateScim(
  db: Kysely<DB>,
  request: FastifyRequest,
): Promise<ScimCaller> {
  const token = bearer(request);
  if (!token) throw refused('Send the SCIM token as Authorization: Bearer <token>');
  const row = await db
    .selectFrom('scim_tokens')
    .select(['id', 'organisation_id', 'revoked_at', 'last_used_at'])
    .where('token_hash', '=', tokenHash(token))
    .executeTakeFirst();
  if (!row) throw refused('This SCIM token is not valid');
  if (row.revoked_at !== null) {
    throw refused('This SCIM token was revoked').withAudit(
      { scimTokenId: row.id, via: 'scim' },
      row.organisation_id,
    );
  }
  const now = nowIso();
  // Written at most once a minute, like a session's last use: enough to tell a token in use.
  if (row.last_used_at === null || Date.parse(now) - Date.parse(row.last_used_at) >= 60_000) {
    await db
      .updateTable('scim_tokens')
      .set({ last_used_at: now })
      .where('id', '=', row.id)
      .execute();
  }
  const organisationId = row.organisation_id;
  return {
    tokenId: row.id,
    organisationId,
    principal: scimPrincipal(organisationId, await loadSchoolGroupsBySchool(db, organisationId)),
    origin: {
      organisationId,
      userId: null,
      requestId: request.id,
      ip: request.ip,
      via: 'scim',
      meta: { scimTokenId: row.id },
    },
  };
}

export interface ScimTokenView {
  id: string;
  name: string;
  createdAt: string;
  createdBy: { id: string; name: string } | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/**
 * An organisation's provisioning tokens, managed by its Owners (`organisation.update` at the
 * organisation): a token provisions accounts and groups across every school.
 */
export class ScimTokenService {
  constructor(private readonly database: Database) {}

  #requireOwner(principal: Principal) {
    requirePermission(principal, 'organisation.update', {
      type: 'organisation',
      id: principal.organisationId,
    });
  }

  /** A new token; its text is answered once and only its hash is kept. */
  async create(
    principal: Principal,
    input: { name: string },
    origin: ChangeOrigin,
  ): Promise<{ id: string; token: string }> {
    this.#requireOwner(principal);
    const token = `${TOKEN_PREFIX}${newSecret()}`;
    const id = newId();
    await runChange(this.database, origin, async (change) => {
      await change.db
        .insertInto('scim_tokens')
        .values({
          id,
          organisation_id: principal.organisationId,
          name: input.name,
          token_hash: tokenHash(token),
          created_at: change.now,
          created_by: principal.userId || null,
          last_used_at: null,
          revoked_at: null,
          revoked_by: null,
        })
        .execute();
      change.record({
        action: 'scim_token.create',
        targetType: 'scim_token',
        targetId: id,
        after: { name: input.name },
      });
    });
    return { id, token };
  }

  async list(principal: Principal): Promise<ScimTokenView[]> {
    this.#requireOwner(principal);
    const rows = await this.database.db
      .selectFrom('scim_tokens as t')
      .leftJoin('users as u', 'u.id', 't.created_by')
      .select([
        't.id',
        't.name',
        't.created_at',
        't.created_by',
        'u.name as creator_name',
        't.last_used_at',
        't.revoked_at',
      ])
      .where('t.organisation_id', '=', principal.organisationId)
      .orderBy('t.created_at', 'desc')
      .orderBy('t.id', 'desc')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      createdBy: row.created_by ? { id: row.created_by, name: row.creator_name ?? '' } : null,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }));
  }

  /** Revokes a token: its next request is refused (401). Revoking it again changes nothing. */
  async revoke(principal: Principal, tokenId: string, origin: ChangeOrigin): Promise<void> {
    this.#requireOwner(principal);
    await runChange(this.database, origin, async (change) => {
      const row = await change.db
        .selectFrom('scim_tokens')
        .select(['id', 'name', 'revoked_at'])
        .where('organisation_id', '=', principal.organisationId)
        .where('id', '=', tokenId)
        .executeTakeFirst();
      if (!row) throw notFound('SCIM token');
      if (row.revoked_at !== null) return;
      await change.db
        .updateTable('scim_tokens')
        .set({ revoked_at: change.now, revoked_by: principal.userId || null })
        .where('id', '=', tokenId)
        .execute();
      change.record({
        action: 'scim_token.revoke',
        targetType: 'scim_token',
        targetId: tokenId,
        before: { name: row.name },
      });
    });
  }
}
