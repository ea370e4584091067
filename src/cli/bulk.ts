import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { installationPrincipal, type Principal } from '../access/principal.ts';
import { type Scope, scopeTypes } from '../access/scopes.ts';
import { findVisibleUserGroup } from '../access/user-groups.ts';
import type { Database } from '../db/database.ts';
import { chunks } from '../db/sql.ts';
import { invalidField, notFound, validationFailed } from '../lib/errors.ts';
import type { Invitations } from '../modules/accounts/invitations.ts';
import { type Change, type ChangeOrigin, runChange } from '../modules/audit/change.ts';
import { namedFiles, OneRosterCsvBundle, unzipBundle } from '../modules/imports/oneroster.ts';
import { importRoster, type RosterImportReport } from '../modules/imports/sync.ts';
import { scopeName } from '../modules/organisations/repository.ts';
import { importStudents } from '../modules/students/import.ts';
import { UserGroupEditor } from '../modules/user-groups/editor.ts';
import {
  currentIn,
  existingUserIds,
  type UserGroupRow,
} from '../modules/user-groups/repository.ts';
import { addUserGroup } from '../modules/user-groups/service.ts';
import { importStaff, insertUsers } from '../modules/users/import.ts';
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
 * `haven users import`: staff from a CSV (an MIS or HR export, or `email` and `name` columns);
 * new people hold only Member, and a person whose email is known has their name updated. All
 * rows or none. With `invitations` (`--invite`), each new person is sent an invitation email in
 * the same change.
 */
export async function importUsers(
  database: Database,
  organisationId: string,
  file: string,
  invitations?: Invitations,
): Promise<string[]> {
  const report = await importStaff(
    database,
    invitations,
    installationPrincipal(organisationId),
    readFileSync(file, 'utf8'),
    { dryRun: false, invite: invitations !== undefined },
    cliOrigin(organisationId),
  );
  if (report.errors.length > 0)
    throw validationFailed(
      report.errors.map((e) => ({ field: `line ${e.line}, ${e.column}`, message: e.message })),
    );
  return report.createdIds;
}

export { insertUsers };

/** `haven students import`: the same rules as the API's import, all rows or none. */
export async function importStudentsFromFile(
  database: Database,
  organisationId: string,
  file: string,
  dryRun: boolean,
  schoolId?: string,
) {
  return importStudents(
    database,
    installationPrincipal(organisationId),
    readFileSync(file, 'utf8'),
    { dryRun, schoolId },
    cliOrigin(organisationId),
  );
}

/** `haven roster import`: a OneRoster CSV bundle, as a zip or a directory of its files. */
export async function importRosterFromPath(
  database: Database,
  organisationId: string,
  from: string,
  dryRun: boolean,
) {
  let files: Map<string, string>;
  if (statSync(from).isDirectory()) {
    files = namedFiles(
      Object.fromEntries(
        readdirSync(from)
          .filter((name) => name.toLowerCase().endsWith('.csv'))
          .map((name) => [name, readFileSync(path.join(from, name), 'utf8')]),
      ),
    );
  } else {
    files = unzipBundle(readFileSync(from));
  }
  return importRoster(
    database,
    installationPrincipal(organisationId),
    new OneRosterCsvBundle(files),
    { dryRun },
    cliOrigin(organisationId),
  );
}

/** One line: what a roster import did (or, on a dry run, would do). */
export function rosterSummary(report: RosterImportReport): string {
  const done = (c: RosterImportReport['students']) => ({
    create: c.created,
    update: c.updated,
    unchanged: c.unchanged,
  });
  const pupils = report.dryRun ? report.plan.students : done(report.students);
  const staff = report.dryRun ? report.plan.staff : done(report.staff);
  const line = (c: typeof pupils) =>
    `${c.create} new, ${c.update} updated, ${c.unchanged} unchanged`;
  return `${report.dryRun ? 'Checked' : 'Imported'} ${report.source}: pupils ${line(pupils)}; staff ${line(staff)}; ${report.errors.length} problems`;
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
