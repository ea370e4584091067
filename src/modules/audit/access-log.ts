import type { Database } from '../../db/database.ts';
import { type ChangeOrigin, runChange } from './change.ts';

/** One read of a sensitive record, or a refused read, in the access log (the audit chain's `access` rows). */
export async function logRead(
  database: Database,
  origin: ChangeOrigin,
  entry: {
    action: string;
    targetType: string;
    targetId: string;
    outcome: 'allowed' | 'not_found' | 'mfa_required' | 'forbidden';
    path?: unknown;
  },
): Promise<void> {
  await runChange(database, origin, async (change) => {
    change.record({
      category: 'access',
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      after: { outcome: entry.outcome, ...(entry.path === undefined ? {} : { path: entry.path }) },
    });
  });
}
