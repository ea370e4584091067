import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as foundation from './migrations/0001_foundation.ts';
import * as studentsAndAccess from './migrations/0002_students_and_access.ts';
import * as twoFactor from './migrations/0003_two_factor.ts';
import * as records from './migrations/0004_records.ts';
import * as documents from './migrations/0005_documents.ts';
import type { DB } from './tables.ts';

/** Every migration, in order. One set serves SQLite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_students_and_access': studentsAndAccess,
  '0003_two_factor': twoFactor,
  '0004_records': records,
  '0005_documents': documents,
};

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

export interface MigrationReport {
  applied: string[];
}

/** Brings the schema up to date; a failed migration is rolled back and raised. */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationReport> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return { applied: (results ?? []).map((r) => r.migrationName) };
}
