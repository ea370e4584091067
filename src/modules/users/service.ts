import { z } from 'zod';
import { requireManageUser, requirePermission, requireSomewhere } from '../../access/decide.ts';
import { assertOrganisationKeepsAnOwner } from '../../access/owners.ts';
import { type HeldGrant, loadHeldGrants, type Principal } from '../../access/principal.ts';
import type { GrantableRole } from '../../access/roles.ts';
import type { Scope } from '../../access/scopes.ts';
import {
  findVisibleUserGroup,
  noHoldings,
  requireGroupAction,
  visibleUserGroupIds,
  withholdGrantSource,
} from '../../access/user-groups.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { conflict, invalidField, notFound, unauthorized } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { decodeCursor, type Page, toPage } from '../../lib/pagination.ts';
import { nowIso } from '../../lib/time.ts';
import type { Invitations } from '../accounts/invitations.ts';
import { currentInvitations, type InvitationView, retireTokens } from '../accounts/tokens.ts';
import { type Change, type ChangeOrigin, runChange } from '../audit/change.ts';
import { claimAttempt, settleAttempt } from '../auth/attempts.ts';
import { hashPassword, passwordWeakness, verifyPassword } from '../auth/passwords.ts';
import { endUserSessions } from '../auth/sessions.ts';
import { scopeNames } from '../organisations/repository.ts';
import { importStaff, type StaffImportOptions, type StaffImportReport } from './import.ts';
import {
  findUser,
  findUserByEmail,
  heldGrantsOf,
  insertUser,
  listUsers,
  type UserRow,
  type UserStatus,
} from './repository.ts';

export interface UserView {
  id: string;
  email: string;
  name: string;
  status: UserStatus;
  createdAt: string;
  updatedAt: string;
  disabledAt: string | null;
  lastSignInAt: string | null;
}

/** A user as the users list shows them: with their outstanding invitation, if any. */
export interface StaffView extends UserView {
  invitation: InvitationView | null;
}

/**
 * `invited` until the person first sets a password or signs in (an Admin who gives a password
 * at creation makes them active at once), `disabled` while disabled, else `active`.
 */
export function userStatus(row: Pick<UserRow, 'disabled_at' | 'activated_at'>): UserStatus {
  if (row.disabled_at) return 'disabled';
  return row.activated_at ? 'active' : 'invited';
}

/** The columns a user is presented from (a session reads these with itself, for `GET /me`). */
export type PresentableUser = Pick<
  UserRow,
  | 'id'
  | 'email'
  | 'name'
  | 'created_at'
  | 'updated_at'
  | 'disabled_at'
  | 'activated_at'
  | 'last_sign_in_at'
>;

export function presentUser(row: PresentableUser): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    status: userStatus(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    disabledAt: row.disabled_at,
    lastSignInAt: row.last_sign_in_at,
  };
}

/** Users with their current invitation (only those not yet in can have one). */
async function presentStaff(
  db: Database['db'],
  organisationId: string,
  rows: readonly UserRow[],
): Promise<StaffView[]> {
  const invitations = await currentInvitations(
    db,
    organisationId,
    rows.filter((r) => !r.activated_at).map((r) => r.id),
  );
  return rows.map((r) => ({ ...presentUser(r), invitation: invitations.get(r.id) ?? null }));
}

/** A held grant as the API shows it: the role, where it applies, and where it comes from. */
export function presentHeldGrant(grant: HeldGrant, names: Map<string, string>) {
  return {
    grantId: grant.grantId,
    role: grant.role,
    scope: { ...grant.scope, name: names.get(grant.scope.id) ?? '' },
    source: grant.source,
    since: grant.since,
  };
}

/** The password strength rules (`passwords.ts`), answered as a validation error naming `field`. */
export function checkPassword(password: string, field: string, context: string[]) {
  const weakness = passwordWeakness(password, context);
  if (weakness) throw invalidField(field, weakness);
}

/**
 * An edit of a user's name or whether they are disabled, in `change`: the caller must be able
 * to manage everyone the user is (anti-escalation), disabling ends their sessions and keeps an
 * active Owner, and a `user.update` audit entry says what changed. The users edit and imports.
 */
export async function updateUserIn(
  change: Change,
  principal: Principal,
  before: UserRow,
  patch: { name?: string | undefined; disabled?: boolean | undefined },
  meta: Record<string, unknown> = {},
): Promise<UserRow> {
  const organisationId = principal.organisationId;
  requireManageUser(principal, await loadHeldGrants(change.db, organisationId, before.id));
  const disabledAt =
    patch.disabled === undefined
      ? before.disabled_at
      : patch.disabled
        ? (before.disabled_at ?? change.now)
        : null;
  const name = patch.name ?? before.name;
  await change.db
    .updateTable('users')
    .set({ name, disabled_at: disabledAt, updated_at: change.now })
    .where('id', '=', before.id)
    .where('organisation_id', '=', organisationId)
    .execute();
  let sessionsEnded = 0;
  if (disabledAt && !before.disabled_at) {
    sessionsEnded = await endUserSessions(change.db, before.id, change.now, 'user_disabled');
    await assertOrganisationKeepsAnOwner(change.db, organisationId);
  }
  change.record({
    action: 'user.update',
    targetType: 'user',
    targetId: before.id,
    before: { name: before.name, disabledAt: before.disabled_at },
    after: { name, disabledAt },
    meta: { ...meta, ...(sessionsEnded > 0 ? { sessionsEnded } : {}) },
  });
  return { ...before, name, disabled_at: disabledAt, updated_at: change.now };
}

const userCursor = z.tuple([z.string(), z.string()]);

export class UserService {
  constructor(
    private readonly database: Database,
    private readonly loginLimits: Config['login'],
    private readonly invitations: Invitations,
  ) {}

  /**
   * Adds a user (holding only Member). With `invite`, they get an invitation email to set their
   * password (never with `password`; refused with 409 `email_off` when Haven sends no email).
   */
  async create(
    principal: Principal,
    input: {
      email: string;
      name: string;
      password?: string | undefined;
      invite?: boolean | undefined;
    },
    origin: ChangeOrigin,
  ): Promise<StaffView> {
    requireSomewhere(principal, 'users.manage');
    if (input.invite && input.password !== undefined)
      throw invalidField('invite', 'send either a password or `invite: true`, not both');
    if (input.invite) this.invitations.requireEmail();
    if (input.password !== undefined)
      checkPassword(input.password, 'password', [input.name, input.email]);
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    return runChange(this.database, origin, async (change) => {
      // Only the caller's own organisation is asked: another's addresses are neither told nor reserved.
      if (await findUserByEmail(change.db, principal.organisationId, input.email)) {
        throw conflict('A user with this email already exists', 'email_taken');
      }
      const id = newId();
      await insertUser(change.db, {
        id,
        organisation_id: principal.organisationId,
        email: input.email,
        name: input.name,
        password_hash: passwordHash,
        now: change.now,
      });
      const row = (await findUser(change.db, principal.organisationId, id))!;
      change.record({
        action: 'user.create',
        targetType: 'user',
        targetId: id,
        after: { email: row.email, name: row.name, hasPassword: passwordHash !== null },
      });
      const invitation = input.invite
        ? await this.invitations.send(change, principal.organisationId, [row], {
            createdBy: principal.userId,
            audit: 'each',
          })
        : undefined;
      return { ...presentUser(row), invitation: invitation?.get(id) ?? null };
    });
  }

  /** Staff from a CSV (`./import.ts`); `invite` emails each new person an invitation. */
  importStaff(
    principal: Principal,
    csv: string,
    options: StaffImportOptions,
    origin: ChangeOrigin,
  ): Promise<StaffImportReport> {
    return importStaff(this.database, this.invitations, principal, csv, options, origin);
  }

  async list(
    principal: Principal,
    query: {
      q?: string | undefined;
      inGroup?: string | undefined;
      status?: UserStatus | 'enabled' | 'all' | undefined;
      role?: GrantableRole | undefined;
      scope?: Scope | undefined;
      limit: number;
      cursor?: string | undefined;
    },
  ): Promise<
    Page<
      StaffView & {
        roles: ReturnType<typeof withholdGrantSource<ReturnType<typeof presentHeldGrant>>>[];
      }
    >
  > {
    requireSomewhere(principal, 'users.manage');
    const names = await scopeNames(this.database.db, principal.organisationId);
    if (query.scope && !names.has(query.scope.id)) throw notFound('Scope');
    // A group the caller may not see answers as one that does not exist: nobody is in it. One
    // they see without `view_members` is refused, as its member list is (spec section 5).
    if (query.inGroup && query.inGroup !== 'none') {
      const found = await findVisibleUserGroup(this.database.db, principal, query.inGroup);
      if (!found) return { items: [], nextCursor: null };
      requireGroupAction(principal, found.standing, noHoldings, 'view_members');
    }
    const rows = await listUsers(this.database.db, principal.organisationId, {
      q: query.q,
      inGroup: query.inGroup,
      status: query.status ?? 'all',
      role: query.role,
      scope: query.scope,
      after: decodeCursor(query.cursor, userCursor),
      limit: query.limit,
    });
    const page = toPage(
      rows,
      query.limit,
      (row) => row,
      (row) => [row.name, row.id],
    );
    const db = this.database.db;
    // Each person's roles, with their source: one query for the page, and the user-group policy
    // once for the groups named (a group homed where the caller administers nothing is not named).
    const [staff, held] = await Promise.all([
      presentStaff(db, principal.organisationId, page.items),
      heldGrantsOf(
        db,
        principal.organisationId,
        page.items.map((u) => u.id),
      ),
    ]);
    const groups = await visibleUserGroupIds(
      db,
      principal,
      [...held.values()].flatMap((grants) =>
        grants.flatMap((g) => (g.source.type === 'user_group' ? [g.source.userGroupId] : [])),
      ),
    );
    return {
      items: staff.map((person) => ({
        ...person,
        roles: (held.get(person.id) ?? []).map((g) =>
          withholdGrantSource(presentHeldGrant(g, names), groups),
        ),
      })),
      nextCursor: page.nextCursor,
    };
  }

  async get(principal: Principal, userId: string) {
    requireSomewhere(principal, 'users.manage');
    const db = this.database.db;
    const row = await findUser(db, principal.organisationId, userId);
    if (!row) throw notFound('User');
    const [grants, names] = await Promise.all([
      loadHeldGrants(db, principal.organisationId, userId),
      scopeNames(db, principal.organisationId),
    ]);
    const groups = await visibleUserGroupIds(
      db,
      principal,
      grants.flatMap((g) => (g.source.type === 'user_group' ? [g.source.userGroupId] : [])),
    );
    const [staff] = await presentStaff(db, principal.organisationId, [row]);
    return {
      ...staff!,
      roles: grants.map((g) => withholdGrantSource(presentHeldGrant(g, names), groups)),
    };
  }

  async update(
    principal: Principal,
    userId: string,
    patch: { name?: string | undefined; disabled?: boolean | undefined },
    origin: ChangeOrigin,
  ): Promise<UserView> {
    return runChange(this.database, origin, async (change) => {
      const before = await findUser(change.db, principal.organisationId, userId);
      if (!before) throw notFound('User');
      return presentUser(await updateUserIn(change, principal, before, patch));
    });
  }

  /**
   * Removes a user from the organisation (Owner). The user row stays for history; their
   * sessions end, and every grant, membership, ownership and permission set they hold is closed.
   */
  async remove(principal: Principal, userId: string, origin: ChangeOrigin): Promise<void> {
    await runChange(this.database, origin, async (change) => {
      const organisationId = principal.organisationId;
      const db = change.db;
      const before = await findUser(db, organisationId, userId);
      if (!before) throw notFound('User');
      requirePermission(principal, 'organisation.members.remove', {
        type: 'organisation',
        id: organisationId,
      });
      await db
        .updateTable('users')
        .set({ removed_at: change.now, updated_at: change.now })
        .where('id', '=', userId)
        .execute();
      const sessionsEnded = await endUserSessions(db, userId, change.now, 'user_removed');
      await db
        .updateTable('role_grants')
        .set({ valid_to: change.now, revoked_by: principal.userId })
        .where('user_id', '=', userId)
        .where('valid_to', 'is', null)
        .execute();
      for (const table of ['user_group_members', 'user_group_owners'] as const) {
        await db
          .updateTable(table)
          .set({ valid_to: change.now })
          .where('user_id', '=', userId)
          .where('valid_to', 'is', null)
          .execute();
      }
      // The permission sets assigned to them end too (those held as a member ended above).
      await db
        .updateTable('user_group_set_assignees')
        .set({ valid_to: change.now, removed_by: principal.userId || null })
        .where('organisation_id', '=', organisationId)
        .where('assignee_type', '=', 'user')
        .where('assignee_id', '=', userId)
        .where('valid_to', 'is', null)
        .execute();
      await assertOrganisationKeepsAnOwner(db, organisationId);
      change.record({
        action: 'user.remove',
        targetType: 'user',
        targetId: userId,
        before: { email: before.email, name: before.name },
        meta: { sessionsEnded },
      });
    });
  }

  /** A signed-in user changes their own password; their other sessions end. */
  async changeOwnPassword(
    principal: Principal,
    sessionId: string,
    input: { currentPassword: string; newPassword: string },
    origin: ChangeOrigin,
  ): Promise<void> {
    const db = this.database.db;
    const user = await findUser(db, principal.organisationId, principal.userId);
    if (!user) throw notFound('User');
    // Wrong current passwords count against the account's sign-in throttle, claimed before the check.
    const attempt = await claimAttempt(this.database, this.loginLimits, {
      email: user.email,
      now: nowIso(),
      ip: origin.ip ?? null,
      organisationId: principal.organisationId,
    });
    if (!user.password_hash || !(await verifyPassword(user.password_hash, input.currentPassword))) {
      await settleAttempt(db, attempt, 'wrong_current_password');
      throw unauthorized('The current password is not right');
    }
    await settleAttempt(db, attempt, 'current_password_ok');
    checkPassword(input.newPassword, 'newPassword', [user.name, user.email]);
    const passwordHash = await hashPassword(input.newPassword);
    await runChange(this.database, origin, async (change) => {
      await change.db
        .updateTable('users')
        .set({ password_hash: passwordHash, updated_at: change.now })
        .where('id', '=', user.id)
        .execute();
      const sessionsEnded = await endUserSessions(
        change.db,
        user.id,
        change.now,
        'password_changed',
        sessionId,
      );
      // A reset link asked for before stops working: the password it would replace is gone.
      await retireTokens(change.db, [user.id], change.now);
      change.record({
        action: 'user.password_change',
        targetType: 'user',
        targetId: user.id,
        meta: { sessionsEnded },
      });
    });
  }
}
