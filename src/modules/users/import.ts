import { requireManageUser } from '../../access/decide.ts';
import { requireImport } from '../../access/imports.ts';
import { loadHeldGrants, type Principal } from '../../access/principal.ts';
import type { Database } from '../../db/database.ts';
import { chunks } from '../../db/sql.ts';
import { HavenError, validationFailed } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { email as emailSchema } from '../../lib/schemas.ts';
import type { Invitations } from '../accounts/invitations.ts';
import type { Change, ChangeOrigin } from '../audit/change.ts';
import * as cells from '../imports/cells.ts';
import { mapHeadings, type StaffColumn, staffHeadings } from '../imports/headings.ts';
import { byRow, type ImportProblem, readCsvText, rowProblem } from '../imports/problems.ts';
import {
  type CsvImportReport,
  concludeCsv,
  csvImportReport,
  csvRunCounts,
} from '../imports/report.ts';
import { type ImportOptions, ImportRun } from '../imports/runs.ts';
import { normaliseEmail, type UserRow } from './repository.ts';
import { updateUserIn } from './service.ts';

/**
 * Staff from a CSV, as a school's MIS or HR system exports them (docs/imports.md): new people
 * are added holding only Member (a role is given by hand, never by a file); a person whose email
 * the organisation holds keeps their account, their name updated as an edit would.
 */

export interface StaffImportOptions extends ImportOptions {
  /** Email each new person an invitation to set their password. */
  invite?: boolean | undefined;
}

export interface StaffImportReport extends CsvImportReport {
  invited: number;
  /** The new people's ids (not on a dry run). */
  createdIds: string[];
}

export interface StaffCandidate {
  line: number;
  file?: string | undefined;
  email: string;
  name: string;
  emailColumn: string;
  /** OneRoster `tobedeleted`: the account is disabled rather than added or renamed. */
  disable?: boolean | undefined;
}

export interface StaffPlan {
  creates: { line: number; email: string; name: string }[];
  updates: { line: number; before: UserRow; name: string; disable: boolean }[];
  unchanged: number;
  problems: ImportProblem[];
}

/** Sorts people into new, changed and unchanged, and finds every problem. */
export async function planStaff(
  database: Database,
  principal: Principal,
  candidates: readonly StaffCandidate[],
): Promise<StaffPlan> {
  const problems: ImportProblem[] = [];
  const first = new Map<string, StaffCandidate>();
  const good: StaffCandidate[] = [];
  for (const c of candidates) {
    const seen = first.get(c.email);
    if (seen) {
      problems.push(
        rowProblem(
          c.line,
          c.emailColumn,
          `the email ${c.email} is also on ${seen.file ? `${seen.file} ` : ''}row ${seen.line}`,
          c.file,
        ),
      );
      continue;
    }
    first.set(c.email, c);
    good.push(c);
  }
  const existing = new Map<string, UserRow>();
  for (const slice of chunks(good.map((c) => c.email))) {
    const rows = await database.db
      .selectFrom('users')
      .selectAll()
      .where('organisation_id', '=', principal.organisationId)
      .where('email', 'in', slice)
      .execute();
    for (const row of rows) existing.set(row.email, row);
  }
  const plan: StaffPlan = { creates: [], updates: [], unchanged: 0, problems };
  for (const c of good) {
    const before = existing.get(c.email);
    if (!before) {
      if (c.disable) plan.unchanged += 1;
      else plan.creates.push({ line: c.line, email: c.email, name: c.name });
      continue;
    }
    if (before.removed_at) {
      problems.push(
        rowProblem(
          c.line,
          c.emailColumn,
          `the email ${c.email} belonged to someone removed from your organisation, so it cannot be used again`,
          c.file,
        ),
      );
      continue;
    }
    const disable = c.disable === true && !before.disabled_at;
    const rename = !c.disable && c.name !== before.name;
    if (!disable && !rename) {
      plan.unchanged += 1;
      continue;
    }
    try {
      requireManageUser(
        principal,
        await loadHeldGrants(database.db, principal.organisationId, before.id),
      );
    } catch (error) {
      if (!(error instanceof HavenError) || error.status !== 403) throw error;
      problems.push(
        rowProblem(
          c.line,
          c.emailColumn,
          `you may not change ${before.name}'s account: they hold a role you may not manage`,
          c.file,
        ),
      );
      continue;
    }
    plan.updates.push({ line: c.line, before, name: rename ? c.name : before.name, disable });
  }
  problems.sort(byRow);
  return plan;
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
    if (taken)
      throw new HavenError(
        409,
        'email_taken',
        'Conflict',
        `A user with the email ${taken.email} already exists`,
      );
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

/** Writes a staff plan in the import's change: new people, renames and disabled accounts. */
export async function writeStaff(
  change: Change,
  principal: Principal,
  plan: Pick<StaffPlan, 'creates' | 'updates'>,
  options: { runId: string; progress?: (written: number) => void },
): Promise<{ createdIds: string[]; updated: number }> {
  const createdIds = await insertUsers(change, principal.organisationId, plan.creates);
  options.progress?.(createdIds.length);
  let updated = 0;
  for (const u of plan.updates) {
    await updateUserIn(
      change,
      principal,
      u.before,
      { name: u.name, ...(u.disable ? { disabled: true } : {}) },
      { importRunId: options.runId },
    );
    updated += 1;
    options.progress?.(createdIds.length + updated);
  }
  return { createdIds, updated };
}

/** Reads a staff CSV and writes it (or, on a dry run, only checks it). */
export async function importStaff(
  database: Database,
  invitations: Invitations | undefined,
  principal: Principal,
  csv: string,
  options: StaffImportOptions,
  origin: ChangeOrigin,
): Promise<StaffImportReport> {
  requireImport(principal, 'staff');
  // Refused before reading anything: an invitation without email would reach nobody.
  if (options.invite) {
    if (!invitations) throw new Error('importStaff: invite asked for without invitations');
    invitations.requireEmail();
  }
  const run = await ImportRun.start(database, principal, 'staff', options, origin);
  return run.guard(async () => {
    const { head, body } = readCsvText(csv);
    const { at, ignored } = mapHeadings(head, staffHeadings);
    const missing: string[] = [];
    if (at.email === undefined) missing.push('an email column (e.g. Work Email or Email)');
    if (
      at.name === undefined &&
      at.givenName === undefined &&
      at.familyName === undefined &&
      at.preferredGivenName === undefined &&
      at.preferredFamilyName === undefined
    )
      missing.push('a name column (Name, or Forename and Surname)');
    if (missing.length > 0)
      throw validationFailed(missing.map((m) => ({ field: 'body', message: `needs ${m}` })));
    const columns = (Object.entries(at) as [StaffColumn, number][])
      .sort((a, b) => a[1] - b[1])
      .map(([field, index]) => ({ column: head[index]!, field }));
    const emailColumn = head[at.email!]!;
    await run.begin(body.length, ignored);

    const problems: ImportProblem[] = [];
    const candidates: StaffCandidate[] = [];
    let processed = 0;
    for (const { line, cells: row } of body) {
      const cell = (field: StaffColumn) => {
        const index = at[field];
        return index === undefined ? '' : (row[index] ?? '');
      };
      const email = normaliseEmail(cell('email'));
      let bad = false;
      if (email === '') {
        problems.push(rowProblem(line, emailColumn, 'the email address is missing'));
        bad = true;
      } else if (!emailSchema.safeParse(email).success) {
        problems.push(rowProblem(line, emailColumn, `${email} is not an email address`));
        bad = true;
      }
      const given = cell('preferredGivenName').trim() || cell('givenName').trim();
      const family = cell('preferredFamilyName').trim() || cell('familyName').trim();
      const name = cells.personName(
        at.name !== undefined && cell('name').trim() !== '' ? cell('name') : `${given} ${family}`,
        'name',
        true,
      );
      if (!name.ok) {
        const nameAt =
          at.name ??
          at.givenName ??
          at.preferredGivenName ??
          at.familyName ??
          at.preferredFamilyName;
        problems.push(
          rowProblem(line, nameAt === undefined ? 'Name' : head[nameAt]!, name.problem),
        );
        bad = true;
      }
      if (!bad && name.ok) candidates.push({ line, email, name: name.value!, emailColumn });
      processed += 1;
      await run.checked(processed);
    }
    const plan = await planStaff(database, principal, candidates);
    const errors = [...problems, ...plan.problems].sort(byRow);
    const report: StaffImportReport = {
      ...csvImportReport(run, {
        rows: body.length,
        plan,
        errors,
        ignoredColumns: ignored,
        columns,
      }),
      invited: 0,
      createdIds: [],
    };
    return concludeCsv(
      run,
      report,
      plan,
      async (change, wrote) => {
        const written = await writeStaff(change, principal, plan, {
          runId: run.id,
          progress: wrote,
        });
        report.createdIds = written.createdIds;
        report.created = written.createdIds.length;
        report.updated = written.updated;
        if (options.invite && invitations && written.createdIds.length > 0) {
          await invitations.send(
            change,
            principal.organisationId,
            written.createdIds.map((id, i) => ({ id, email: plan.creates[i]!.email })),
            { createdBy: principal.userId || null, audit: 'summary' },
          );
          report.invited = written.createdIds.length;
        }
      },
      (r) => ({ ...csvRunCounts(r), invited: r.invited }),
    );
  });
}
