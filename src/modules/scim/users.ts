import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import SCIMMY from 'scimmy';
import { z } from 'zod';
import { loadHeldClearances } from '../../access/clearances.ts';
import { requireManageUser } from '../../access/decide.ts';
import { assertOrganisationKeepsAnOwner } from '../../access/owners.ts';
import { loadHeldGrants } from '../../access/principal.ts';
import { requireProvisionableSignIn } from '../../access/scim.ts';
import type { Database } from '../../db/database.ts';
import type { DB } from '../../db/tables.ts';
import { newId } from '../../lib/ids.ts';
import { laterOf } from '../../lib/time.ts';
import { retireTokens } from '../accounts/tokens.ts';
import { type Change, runChange } from '../audit/change.ts';
import { endUserSessions } from '../auth/sessions.ts';
import { findUserByEmail, insertUser, normaliseEmail } from '../users/repository.ts';
import {
  bodyObject,
  type Comparison,
  enterpriseDeclares,
  extensionOf,
  type ListQuery,
  listResponse,
  type PatchOperation,
  paging,
  parseFilter,
  patchOperations,
  readPage,
  rootAttribute,
  schemaIds,
  scimError,
  selectAttributes,
  splitPathless,
  straightenBooleans,
  textValue,
  underScimmy,
  unsupportedFilter,
  userDeclares,
} from './protocol.ts';
import type { ScimCaller } from './tokens.ts';

/**
 * SCIM Users (RFC 7643 section 4.1) as Haven's users of the organisation: `userName` is the
 * sign-in email, the name is one text (from `displayName`, else `name.formatted`, else the given
 * and family names), `active: false` disables the account and ends its sessions, DELETE disables
 * it too (removing someone from the organisation stays an Owner's decision, in Haven). What Haven
 * has no field for (`externalId`, given and family names) is kept in `scim_users`; the other
 * attributes Entra ID and Google send (emails, phone numbers, title, the enterprise extension)
 * are accepted and not kept.
 */

type Joined = DB & { u: DB['users']; s: DB['scim_users'] };
type UserBuilder = ExpressionBuilder<Joined, 'u' | 's'>;

const always = sql<SqlBool>`1 = 1`;
const never = sql<SqlBool>`1 = 0`;

const FILTERABLE =
  "userName, emails.value, externalId, id and displayName with 'eq', active with 'eq', and externalId with 'pr'";

/** One comparison of a Users filter as SQL, or 400 `invalidFilter`. */
function userComparison(eb: UserBuilder, c: Comparison): Expression<SqlBool> {
  if (c.op === 'pr' && c.path === 'externalid') return eb('s.external_id', 'is not', null);
  if (c.op !== 'eq') unsupportedFilter(c, FILTERABLE);
  switch (c.path) {
    case 'username':
    case 'emails':
    case 'emails.value':
      return eb('u.email', '=', normaliseEmail(textValue(c)));
    // Haven shows one email per person, of type work and primary.
    case 'emails.type':
      return textValue(c).toLowerCase() === 'work' ? always : never;
    case 'emails.primary':
      return c.value === true ? always : never;
    case 'externalid':
      return eb('s.external_id', '=', textValue(c));
    case 'id':
      return eb('u.id', '=', textValue(c));
    case 'displayname':
      return eb(eb.fn('lower', ['u.name']), '=', textValue(c).toLowerCase());
    case 'active':
      if (typeof c.value !== 'boolean') unsupportedFilter(c, FILTERABLE);
      return eb('u.disabled_at', c.value ? 'is' : 'is not', null);
    default:
      unsupportedFilter(c, FILTERABLE);
  }
}

function selectUsers(db: Kysely<DB>, organisationId: string) {
  return db
    .selectFrom('users as u')
    .leftJoin('scim_users as s', 's.user_id', 'u.id')
    .select([
      'u.id',
      'u.email',
      'u.name',
      'u.created_at',
      'u.updated_at',
      'u.disabled_at',
      's.external_id',
      's.given_name',
      's.family_name',
      's.disabled_at as scim_disabled_at',
      's.updated_at as scim_updated_at',
    ])
    .where('u.organisation_id', '=', organisationId)
    .where('u.removed_at', 'is', null);
}

type UserRecord = Awaited<ReturnType<ReturnType<typeof selectUsers>['executeTakeFirstOrThrow']>>;

async function findUserRecord(db: Kysely<DB>, organisationId: string, userId: string) {
  const row = await selectUsers(db, organisationId).where('u.id', '=', userId).executeTakeFirst();
  if (!row) throw scimError(404, undefined, `User ${userId} not found`);
  return row;
}

export type ScimUser = ReturnType<typeof presentUser>;

function presentUser(row: UserRecord, base: string) {
  return {
    schemas: [schemaIds.user],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    userName: row.email,
    name: {
      formatted: row.name,
      ...(row.given_name !== null ? { givenName: row.given_name } : {}),
      ...(row.family_name !== null ? { familyName: row.family_name } : {}),
    },
    displayName: row.name,
    active: row.disabled_at === null,
    emails: [{ value: row.email, type: 'work', primary: true }],
    meta: {
      resourceType: 'User',
      created: row.created_at,
      lastModified: row.scim_updated_at
        ? laterOf(row.updated_at, row.scim_updated_at)
        : row.updated_at,
      location: `${base}/Users/${row.id}`,
    },
  };
}

const emailSchema = z.email().max(254);
const NAME_MAX = 200;

function checkedEmail(userName: unknown): string {
  if (typeof userName !== 'string' || userName.trim() === '')
    throw scimError(400, 'invalidValue', 'userName is required');
  const email = normaliseEmail(userName);
  if (!emailSchema.safeParse(email).success)
    throw scimError(
      400,
      'invalidValue',
      'userName must be the email address the person signs in with',
    );
  return email;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function checkedName(name: string): string {
  if (name.length > NAME_MAX)
    throw scimError(400, 'invalidValue', `A name has at most ${NAME_MAX} characters`);
  return name;
}

/** What a SCIM User says about the attributes Haven keeps. */
interface UserAttributes {
  email: string;
  displayName: string | null;
  formatted: string | null;
  givenName: string | null;
  familyName: string | null;
  active: boolean | undefined;
  externalId: string | null;
}

interface UserShape {
  userName?: unknown;
  displayName?: unknown;
  name?: { formatted?: unknown; givenName?: unknown; familyName?: unknown };
  active?: unknown;
  externalId?: unknown;
}

function attributesOf(resource: object): UserAttributes {
  const user = resource as UserShape;
  return {
    email: checkedEmail(user.userName),
    displayName: text(user.displayName),
    formatted: text(user.name?.formatted),
    givenName: text(user.name?.givenName),
    familyName: text(user.name?.familyName),
    active: typeof user.active === 'boolean' ? user.active : undefined,
    externalId: text(user.externalId),
  };
}

/** Haven's one name from a whole resource: displayName, else formatted, else given + family. */
function wholeName(a: UserAttributes): string | null {
  const parts = [a.givenName, a.familyName].filter(Boolean).join(' ');
  return a.displayName ?? a.formatted ?? (parts || null);
}

/** A User body (POST, PUT) through SCIMMY's User schema: types and required attributes. */
async function readUser(body: unknown): Promise<UserAttributes> {
  const request = straightenBooleans(bodyObject(body)) as Record<string, unknown>;
  const user = await underScimmy(() => new SCIMMY.Schemas.User(request, 'in'));
  return attributesOf(user);
}

/** A user's attributes after a change: what Haven writes. */
interface NextUser {
  email: string;
  name: string;
  active: boolean | undefined;
  externalId: string | null;
  givenName: string | null;
  familyName: string | null;
}

/** Core attributes provisioning may not write (RFC 7643: read-only). */
const READ_ONLY = new Set(['id', 'meta', 'groups']);

/** The attributes Haven keeps or shows: the rest of a User is accepted and not kept. */
const KEPT = new Set(['username', 'name', 'displayname', 'active', 'externalid', 'emails']);

/**
 * Whether SCIMMY's PatchOp should apply an operation on this path: not on a read-only attribute
 * (`mutability`), nor on one no schema declares (`invalidPath`); an attribute Haven does not keep
 * (a phone number, an address, the enterprise extension) is checked and left out, since its
 * value filters (`phoneNumbers[type eq "work"]`) could match nothing Haven shows.
 */
function applies(path: string): boolean {
  if (extensionOf(path)) {
    if (!enterpriseDeclares(path)) throw scimError(400, 'invalidPath', `Invalid path '${path}'`);
    return false;
  }
  const root = rootAttribute(path);
  if (READ_ONLY.has(root)) throw scimError(400, 'mutability', `'${root}' is read-only`);
  if (KEPT.has(root)) return true;
  if (!userDeclares(path)) throw scimError(400, 'invalidPath', `Invalid path '${path}'`);
  return false;
}

/** The PATCH operations SCIMMY's PatchOp applies to the user as Haven shows them. */
function userOperations(operations: PatchOperation[]): PatchOperation[] {
  const kept: PatchOperation[] = [];
  for (const operation of operations) {
    if (operation.path !== undefined) {
      if (applies(operation.path)) kept.push(operation);
      continue;
    }
    const { rest } = splitPathless(operation, (attribute) => !applies(attribute));
    if (rest) kept.push(rest);
  }
  return kept;
}

export class ScimUsers {
  constructor(
    private readonly database: Database,
    private readonly base: string,
  ) {}

  /** One SQL query for the page and the total, whatever the filter (`readPage`). */
  async list(caller: ScimCaller, query: ListQuery) {
    const { offset, count } = paging(query);
    const branches = query.filter ? parseFilter(query.filter) : null;
    const db = this.database.db;
    let select = selectUsers(db, caller.organisationId);
    if (branches) {
      select = select.where((eb) =>
        eb.or(branches.map((branch) => eb.and(branch.map((c) => userComparison(eb, c))))),
      );
    }
    const { rows: page, total } = await readPage(select.orderBy('u.id'), { offset, count });
    return listResponse(
      page.map((row) => selectAttributes(presentUser(row, this.base), query)),
      total,
      offset,
    );
  }

  async get(caller: ScimCaller, userId: string, query: ListQuery = {}) {
    const row = await findUserRecord(this.database.db, caller.organisationId, userId);
    return selectAttributes(presentUser(row, this.base), query);
  }

  /**
   * A new user holding only Member (no role: they sign in once a group or a grant gives them
   * one). A `userName` already used in the organisation, by a removed account too, is 409.
   */
  async create(caller: ScimCaller, body: unknown) {
    const input = await readUser(body);
    const name = checkedName(wholeName(input) ?? input.email);
    const active = input.active ?? true;
    const organisationId = caller.organisationId;
    return runChange(this.database, caller.origin, async (change) => {
      if (await findUserByEmail(change.db, organisationId, input.email))
        throw scimError(409, 'uniqueness', `The userName ${input.email} is already in use`);
      const id = newId();
      await insertUser(change.db, {
        id,
        organisation_id: organisationId,
        email: input.email,
        name,
        password_hash: null,
        now: change.now,
      });
      if (!active) {
        await change.db
          .updateTable('users')
          .set({ disabled_at: change.now })
          .where('id', '=', id)
          .execute();
      }
      await change.db
        .insertInto('scim_users')
        .values({
          user_id: id,
          organisation_id: organisationId,
          external_id: input.externalId,
          given_name: input.givenName,
          family_name: input.familyName,
          disabled_at: active ? null : change.now,
          updated_at: change.now,
        })
        .execute();
      change.record({
        action: 'user.create',
        targetType: 'user',
        targetId: id,
        after: {
          email: input.email,
          name,
          hasPassword: false,
          active,
          externalId: input.externalId,
        },
      });
      return presentUser(await findUserRecord(change.db, organisationId, id), this.base);
    });
  }

  /** PUT: the resource as given replaces what provisioning set (an absent `active` is kept). */
  async replace(caller: ScimCaller, userId: string, body: unknown) {
    const input = await readUser(body);
    return runChange(this.database, caller.origin, async (change) => {
      const before = await findUserRecord(change.db, caller.organisationId, userId);
      await this.#update(change, caller, before, {
        email: input.email,
        name: checkedName(wholeName(input) ?? before.name),
        active: input.active,
        externalId: input.externalId,
        givenName: input.givenName,
        familyName: input.familyName,
      });
      return presentUser(await findUserRecord(change.db, caller.organisationId, userId), this.base);
    });
  }

  /**
   * PATCH through SCIMMY's PatchOp, applied to the user as Haven shows them; Haven then writes
   * what changed. The name follows what the request changed: `displayName`, else
   * `name.formatted`, else the given or family name (joined with the other one).
   */
  async patch(caller: ScimCaller, userId: string, body: unknown) {
    const operations = userOperations(patchOperations(body));
    return runChange(this.database, caller.origin, async (change) => {
      const before = await findUserRecord(change.db, caller.organisationId, userId);
      const shown = presentUser(before, this.base);
      if (operations.length === 0) return shown;
      const patched = await underScimmy(async () => {
        const resource = new SCIMMY.Schemas.User(shown, 'out');
        const message = new SCIMMY.Messages.PatchOp({
          schemas: [schemaIds.patchOp],
          Operations: operations,
        } as never);
        return (await message.apply(resource)) ?? resource;
      });
      const was = attributesOf(shown);
      const now = attributesOf(patched);
      const changed = (key: keyof UserAttributes) => was[key] !== now[key];
      const parts = [now.givenName, now.familyName].filter(Boolean).join(' ');
      let name = before.name;
      if (changed('displayName') && now.displayName) name = now.displayName;
      else if (changed('formatted') && now.formatted) name = now.formatted;
      else if ((changed('givenName') || changed('familyName')) && parts) name = parts;
      await this.#update(change, caller, before, {
        email: now.email,
        name: checkedName(name),
        active: now.active,
        externalId: now.externalId,
        givenName: now.givenName,
        familyName: now.familyName,
      });
      return presentUser(await findUserRecord(change.db, caller.organisationId, userId), this.base);
    });
  }

  /** DELETE disables the account (as `active: false`); it stays in Haven, and nothing is lost. */
  async remove(caller: ScimCaller, userId: string): Promise<void> {
    await runChange(this.database, caller.origin, async (change) => {
      const before = await findUserRecord(change.db, caller.organisationId, userId);
      await this.#update(change, caller, before, {
        email: before.email,
        name: before.name,
        active: false,
        externalId: before.external_id,
        givenName: before.given_name,
        familyName: before.family_name,
      });
    });
  }

  /**
   * Writes a user's next attributes in the caller's change, with the rules the Users API applies
   * (`requireManageUser`: never an Owner's account; at least one active Owner stays), and the
   * token's own (`src/access/scim.ts`): it changes no safeguarding lead's sign-in address, and
   * enables only an account it disabled itself.
   */
  async #update(change: Change, caller: ScimCaller, before: UserRecord, next: NextUser) {
    const organisationId = caller.organisationId;
    const userId = before.id;
    const emailChanges = next.email !== before.email;
    const nameChanges = next.name !== before.name;
    const disabling = next.active === false && before.disabled_at === null;
    const enabling = next.active === true && before.disabled_at !== null;
    if (emailChanges || nameChanges || disabling || enabling) {
      const grants = await loadHeldGrants(change.db, organisationId, userId);
      requireManageUser(caller.principal, grants);
      if (emailChanges) {
        const clearances = await loadHeldClearances(change.db, organisationId, userId);
        requireProvisionableSignIn(
          grants,
          clearances.map((c) => c.clearance),
        );
        if (await findUserByEmail(change.db, organisationId, next.email))
          throw scimError(409, 'uniqueness', `The userName ${next.email} is already in use`);
      }
    }
    if (enabling && before.scim_disabled_at !== before.disabled_at) {
      throw scimError(
        400,
        'mutability',
        'This account was disabled in Haven by a person; only someone in Haven enables it again',
      );
    }
    const disabledAt = disabling ? change.now : enabling ? null : before.disabled_at;
    const scimDisabledAt = disabling ? change.now : enabling ? null : before.scim_disabled_at;
    const scimChanges =
      next.externalId !== before.external_id ||
      next.givenName !== before.given_name ||
      next.familyName !== before.family_name ||
      scimDisabledAt !== before.scim_disabled_at;
    if (!emailChanges && !nameChanges && !disabling && !enabling && !scimChanges) return;

    if (emailChanges || nameChanges || disabling || enabling) {
      await change.db
        .updateTable('users')
        .set({
          email: next.email,
          name: next.name,
          disabled_at: disabledAt,
          updated_at: change.now,
        })
        .where('id', '=', userId)
        .where('organisation_id', '=', organisationId)
        .execute();
    }
    const kept = {
      external_id: next.externalId,
      given_name: next.givenName,
      family_name: next.familyName,
      disabled_at: scimDisabledAt,
      updated_at: change.now,
    };
    await change.db
      .insertInto('scim_users')
      .values({ user_id: userId, organisation_id: organisationId, ...kept })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(kept))
      .execute();
    // Links emailed to the old address (an invitation, a reset) must not open the account now that
    // the address is not theirs: a mistyped address is someone else's mailbox.
    const linksEnded = emailChanges ? await retireTokens(change.db, [userId], change.now) : 0;
    let sessionsEnded = 0;
    if (disabling) {
      sessionsEnded = await endUserSessions(change.db, userId, change.now, 'user_disabled');
      await assertOrganisationKeepsAnOwner(change.db, organisationId);
    }

    const changedFrom: Record<string, unknown> = {};
    const changedTo: Record<string, unknown> = {};
    const note = (key: string, from: unknown, to: unknown) => {
      if (from === to) return;
      changedFrom[key] = from;
      changedTo[key] = to;
    };
    note('email', before.email, next.email);
    note('name', before.name, next.name);
    note('disabledAt', before.disabled_at, disabledAt);
    note('externalId', before.external_id, next.externalId);
    note('givenName', before.given_name, next.givenName);
    note('familyName', before.family_name, next.familyName);
    change.record({
      action: 'user.update',
      targetType: 'user',
      targetId: userId,
      before: changedFrom,
      after: changedTo,
      meta: {
        ...(sessionsEnded > 0 ? { sessionsEnded } : {}),
        ...(linksEnded > 0 ? { linksEnded } : {}),
      },
    });
  }
}
