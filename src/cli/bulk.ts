import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { installationPrincipal, type Principal } from '../access/principal.ts';
import { type Scope, scopeTypes } from '../access/scopes.ts';
import { findVisibleUserGroup } from '../access/user-groups.ts';
import type { Database } from '../db/database.ts';
import { chunks } from '../db/sql.ts';
import { conflict, invalidField, notFound } from '../lib/errors.ts';
import { newId } from '../lib/ids.ts';
import { email as emailSchema } from '../lib/schemas.ts';
import type { Invitations } from '../modules/accounts/invitations.ts';
import { type Change, type ChangeOrigin, runChange } from '../modules/audit/change.ts';
import { scopeName } from '../modules/organisations/repository.ts';
import { importStudents } from '../modules/students/import.ts';
import { UserGroupEditor } from '../modules/user-groups/editor.ts';
import {
  currentIn,
  existingUserIds,
  type UserGroupRow,
} from '../modules/user-groups/repository.ts';
import { addUserGroup } from '../modules/user-groups/service.ts';
import { normaliseEmail } from '../modules/users/repository.ts';

/**
 * Bulk work from the server's own console, for what is too large for one API call: a million
 * group members, a hundred thousand students. Each command is one change: all of it or nothing.
 */

function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parse(readFileSync(file, 'utf8'), {
    bom: true,
    skip_empty_lines: true,
  }) as string[][];
  if (!header) throw invalidField('file', 'is empty');
  return { header: header.map((h) => h.trim().toLowerCase()), rows };
}

export async function resolveOrganisation(
  database: Database,
  requested: string | undefined,
): Promise<string> {
  const organisations = await database.db
    .selectFrom('organisations')
    .select('id')
    .limit(2)
    .execute();
  if (requested) {
    const found = await database.db
      .selectFrom('organisations')
      .select('id')
      .where('id', '=', requested)
      .executeTakeFirst();
    if (!found) throw notFound(`Organisation ${requested}`);
    return found.id;
  }
  if (organisations.length !== 1) {
    throw invalidField(
      '--org',
      organisations.length === 0
        ? 'no organisation exists yet'
        : 'name the organisation: there are several',
    );
  }
  return organisations[0]!.id;
}

const cliOrigin = (organisationId: string): ChangeOrigin => ({
  organisationId,
  userId: null,
  via: 'cli',
});

/** `haven user-groups create`: a group homed at `organisation` (the default), `school:<id>` or `school_group:<id>`. */
export async function createUserGroupFromConsole(
  database: Database,
  organisationId: string,
  name: string,
  home: string | undefined,
): Promise<string> {
  const [type, id] = (home ?? 'organisation').split(':', 2);
  const homeScope = {
    type,
    id: type === 'organisation' ? (id ?? organisationId) : id,
  } as Scope;
  if (!scopeTypes.includes(homeScope.type) || !homeScope.id)
    throw invalidField('--home', 'is organisation, school:<id> or school_group:<id>');
  if ((await scopeName(database.db, organisationId, homeScope)) === undefined)
    throw notFound(`Scope ${home}`);
  const group = await runChange(database, cliOrigin(organisationId), (change) =>
    addUserGroup(change, organisationId, { name, homeScope }),
  );
  return group.id;
}

/**
 * `haven users import`: users from a CSV with `email` and `name` columns; they hold only Member.
 * With `invitations` (`--invite`), each is sent an invitation email in the same change.
 */
export async function importUsers(
  database: Database,
  organisationId: string,
  file: string,
  invitations?: Invitations,
): Promise<string[]> {
  // Refused before reading anything: an invitation without email would reach nobody.
  invitations?.requireEmail();
  const { header, rows } = readCsv(file);
  const emailAt = header.indexOf('email');
  const nameAt = header.indexOf('name');
  if (emailAt < 0 || nameAt < 0) throw invalidField('file', 'needs email and name columns');
  const seen = new Set<string>();
  const users = rows.map((row, i) => {
    const email = normaliseEmail(row[emailAt] ?? '');
    const name = (row[nameAt] ?? '').trim();
    if (!emailSchema.safeParse(email).success)
      throw invalidField(`line ${i + 2}, email`, 'is not an email address');
    if (!name || name.length > 200)
      throw invalidField(`line ${i + 2}, name`, 'must be 1 to 200 characters');
    if (seen.has(email)) throw invalidField(`line ${i + 2}, email`, 'appears twice in the file');
    seen.add(email);
    return { email, name };
  });
  return runChange(database, cliOrigin(organisationId), async (change) => {
    const ids = await insertUsers(change, organisationId, users);
    if (invitations)
      await invitations.send(
        change,
        organisationId,
        ids.map((id, i) => ({ id, email: users[i]!.email })),
        { createdBy: null, audit: 'summary' },
      );
    return ids;
  });
}

/** Inserts many users (holding only Member) in one change; emails must be free in the organisation. */
export async function insertUsers(
  change: Change,
  organisationId: string,
  users: readonly { email: string; name: string }[],
): Promise<string[]> {
  for (const slice of chunks(users.map((u) => u.email))) {
    const taken = await change.db
      .selectFrom('users')
      .select('email')
      .where('organisation_id', '=', organisationId)
      .where('email', 'in', slice)
      .executeTakeFirst();
    if (taken) throw conflict(`A user with the email ${taken.email} already exists`, 'email_taken');
  }
  const ids: string[] = [];
  for (const slice of chunks(users, 1000)) {
    const rowsToInsert = slice.map((u) => ({
      id: newId(),
      organisation_id: organisationId,
      email: u.email,
      name: u.name,
      password_hash: null,
      created_at: change.now,
      updated_at: change.now,
      disabled_at: null,
      removed_at: null,
    }));
    await change.db.insertInto('users').values(rowsToInsert).execute();
    ids.push(...rowsToInsert.map((r) => r.id));
  }
  for (const slice of chunks(ids, 10_000)) {
    change.record({
      action: 'user.import',
      targetType: 'user_import',
      after: { count: slice.length, userIds: slice },
    });
  }
  return ids;
}

/** `haven students import`: the same rules as the API's import, all rows or none. */
export async function importStudentsFromFile(
  database: Database,
  organisationId: string,
  file: string,
  dryRun: boolean,
) {
  return importStudents(
    database,
    installationPrincipal(organisationId),
    readFileSync(file, 'utf8'),
    { dryRun },
    cliOrigin(organisationId),
  );
}

/** `haven user-groups add-members`: members from a CSV with an `id` or an `email` column. */
export async function addGroupMembersFromFile(
  database: Database,
  organisationId: string,
  groupId: string,
  file: string,
): Promise<{ added: number; alreadyMembers: number }> {
  const { header, rows } = readCsv(file);
  const idAt = header.indexOf('id');
  const emailAt = header.indexOf('email');
  if (idAt < 0 && emailAt < 0) throw invalidField('file', 'needs an id or an email column');
  const group = (
    await findVisibleUserGroup(database.db, installationPrincipal(organisationId), groupId)
  )?.group;
  if (!group) throw notFound('User group');
  let userIds: string[];
  if (idAt >= 0) {
    userIds = [...new Set(rows.map((r) => (r[idAt] ?? '').trim()).filter(Boolean))];
  } else {
    const emails = [...new Set(rows.map((r) => normaliseEmail(r[emailAt] ?? '')).filter(Boolean))];
    userIds = [];
    for (const slice of chunks(emails)) {
      // Emails are unique within the organisation, so each names at most one of its users.
      const found = await database.db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('organisation_id', '=', organisationId)
        .where('email', 'in', slice)
        .where('removed_at', 'is', null)
        .execute();
      if (found.length !== slice.length) {
        const known = new Set(found.map((f) => f.email));
        throw notFound(`User ${slice.find((e) => !known.has(e))}`);
      }
      userIds.push(...found.map((f) => f.id));
    }
  }
  return runChange(database, cliOrigin(organisationId), (change) =>
    addMembersInBulk(change, installationPrincipal(organisationId), group, userIds),
  );
}

/** Adds any number of members to a group in one change, with the same checks as the API. */
export async function addMembersInBulk(
  change: Change,
  principal: Principal,
  group: UserGroupRow,
  userIds: readonly string[],
): Promise<{ added: number; alreadyMembers: number }> {
  const editor = new UserGroupEditor(change, principal, group);
  const existing = await existingUserIds(change.db, group.organisation_id, userIds);
  const absent = userIds.find((id) => !existing.has(id));
  if (absent) throw notFound(`User ${absent}`);
  const already = await currentIn(change.db, 'user_group_members', group.id, userIds);
  const fresh = userIds.filter((id) => !already.has(id));
  await editor.requireMayAdd(userIds);
  await editor.insertMembers(fresh);
  return { added: fresh.length, alreadyMembers: already.size };
}
