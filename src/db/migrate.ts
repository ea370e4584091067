import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
} from 'kysely';
import * as foundation from './migrations/0001_foundation.ts';
import * as studentsAndAccess from './migrations/0002_students_and_access.ts';
import * as twoFactor from './migrations/0003_two_factor.ts';
import * as records from './migrations/0004_records.ts';
import * as documents from './migrations/0005_documents.ts';
import * as searchInNameOrder from './migrations/0006_search_in_name_order.ts';
import type { DB } from './tables.ts';

/** Every migration, in order. One set serves SQLite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_students_and_access': studentsAndAccess,
  '0003_two_factor': twoFactor,
  '0004_records': records,
  '0005_documents': documents,
  '0006_search_in_name_order': searchInNameOrder,
};

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

export interface MigrationReport {
  applied: string[];
}

/** Brings the schema up to date; a failed migration is rolled back and raised. */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationReport> {
  return reported(await new Migrator({ db, provider }).migrateToLatest());
}

/** Brings the schema to the named migration (tests of a migration start from the one before). */
export async function migrateTo(db: Kysely<DB>, name: string): Promise<MigrationReport> {
  if (!(name in migrations)) throw new Error(`No migration ${name}`);
  return reported(await new Migrator({ db, provider }).migrateTo(name));
}

function reported({ error, results }: MigrationResultSet): MigrationReport {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return { applied: (results ?? []).map((r) => r.migrationName) };
}
