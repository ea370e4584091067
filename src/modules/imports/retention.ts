import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.ts';

/**
 * How long an import run keeps what its file said (docs/decisions.md). The problems name children
 * and staff, the unused columns and a failure are the file's own words: 30 days after a run ended
 * (checked, imported, refused or failed) the worker blanks them and notes when. The status, the
 * counts and the number of problems stay, and the audit chain keeps what was written. A run that
 * never ended (its process stopped) is cleared 30 days after its last progress.
 */
export const IMPORT_PROBLEMS_KEPT_DAYS = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

/** One pass of the worker: blanks the runs due at `now`; answers how many. */
export async function clearImportProblems(db: Kysely<DB>, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - IMPORT_PROBLEMS_KEPT_DAYS * DAY_MS).toISOString();
  const cleared = await db
    .updateTable('import_runs')
    .set({
      errors: '[]',
      ignored_columns: '[]',
      failure: null,
      problems_cleared_at: now.toISOString(),
    })
    .where('problems_cleared_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([
          eb('status', 'in', ['checked', 'imported', 'refused', 'failed']),
          eb('finished_at', '<=', cutoff),
        ]),
        eb.and([
          eb('status', 'in', ['waiting', 'checking', 'writing']),
          eb('updated_at', '<=', cutoff),
        ]),
      ]),
    )
    .executeTakeFirst();
  return Number(cleared.numUpdatedRows ?? 0);
}
