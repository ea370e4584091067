import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
  PostgresAdapter,
  sql,
} from 'kysely';
import * as foundation from './migrations/0001_foundation.ts';
import * as studentsAndAccess from './migrations/0002_students_and_access.ts';
import * as twoFactor from './migrations/0003_two_factor.ts';
import * as records from './migrations/0004_records.ts';
import * as documents from './migrations/0005_documents.ts';
import * as searchInNameOrder from './migrations/0006_search_in_name_order.ts';
import * as revisionShapes from './migrations/0007_revision_shapes.ts';
import * as userGroupHome from './migrations/0008_user_group_home.ts';
import * as emailPerOrganisation from './migrations/0009_email_per_organisation.ts';
import * as notifications from './migrations/0010_notifications.ts';
import * as reporting from './migrations/0011_reporting.ts';
import * as defaultNotificationRules from './migrations/0012_default_notification_rules.ts';
import * as accounts from './migrations/0013_accounts.ts';
import * as singleSignOn from './migrations/0014_single_sign_on.ts';
import * as scim from './migrations/0015_scim.ts';
import * as signInAbuse from './migrations/0016_sign_in_abuse.ts';
import * as accessAudit from './migrations/0017_access_audit.ts';
import * as accessReviews from './migrations/0018_access_reviews.ts';
import * as oversight from './migrations/0019_oversight.ts';
import * as permissionSets from './migrations/0020_permission_sets.ts';
import * as retention from './migrations/0021_retention.ts';
import * as transfers from './migrations/0022_transfers.ts';
import * as auditShredding from './migrations/0023_audit_shredding.ts';
import * as imports from './migrations/0024_imports.ts';
import * as accessEpochs from './migrations/0025_access_epochs.ts';
import * as studentCounts from './migrations/0026_student_counts.ts';
import * as importRetention from './migrations/0027_import_retention.ts';
import type { DB } from './tables.ts';

/** Every migration, in order. One set serves SQLite and PostgreSQL. */
const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_students_and_access': studentsAndAccess,
  '0003_two_factor': twoFactor,
  '0004_records': records,
  '0005_documents': documents,
  '0006_search_in_name_order': searchInNameOrder,
  '0007_revision_shapes': revisionShapes,
  '0008_user_group_home': userGroupHome,
  '0009_email_per_organisation': emailPerOrganisation,
  '0010_notifications': notifications,
  '0011_reporting': reporting,
  '0012_default_notification_rules': defaultNotificationRules,
  '0013_accounts': accounts,
  '0014_single_sign_on': singleSignOn,
  '0015_scim': scim,
  '0016_sign_in_abuse': signInAbuse,
  '0017_access_audit': accessAudit,
  '0018_access_reviews': accessReviews,
  '0019_oversight': oversight,
  '0020_permission_sets': permissionSets,
  '0021_retention': retention,
  '0022_transfers': transfers,
  '0023_audit_shredding': auditShredding,
  '0024_imports': imports,
  '0025_access_epochs': accessEpochs,
  '0026_student_counts': studentCounts,
  '0027_import_retention': importRetention,
};

/** The migrations' names in order (a migration's test starts from the one before it). */
export const migrationNames = Object.keys(migrations);

const provider: MigrationProvider = {
  getMigrations: async () => migrations,
};

export interface MigrationReport {
  applied: string[];
}

/**
 * On PostgreSQL the migrator is told the schema Haven lives in. Without it, Kysely takes a
 * `kysely_migration` table in any schema of the database for its own and skips creating one:
 * two installations (or two test runs) in one database would share, and break, each other's
 * migration state.
 */
async function migrator(db: Kysely<DB>): Promise<Migrator> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return new Migrator({ db, provider });
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('PostgreSQL has no current schema: check the search_path');
  return new Migrator({ db, provider, migrationTableSchema: schema });
}

/** Brings the schema up to date; a failed migration is rolled back and raised. */
export async function migrateToLatest(db: Kysely<DB>): Promise<MigrationReport> {
  return reported(await (await migrator(db)).migrateToLatest());
}

/** Brings the schema to the named migration (tests of a migration start from the one before). */
export async function migrateTo(db: Kysely<DB>, name: string): Promise<MigrationReport> {
  if (!(name in migrations)) throw new Error(`No migration ${name}`);
  return reported(await (await migrator(db)).migrateTo(name));
}

function reported({ error, results }: MigrationResultSet): MigrationReport {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Migration ${failed} failed: ${String(error)}`, { cause: error });
  }
  return { applied: (results ?? []).map((r) => r.migrationName) };
}

/** How the database's applied migrations compare with this version's (for `/api/v1/ready`). */
export interface MigrationState {
  /** This version's migrations the database has not applied. */
  pending: string[];
  /** Migrations the database has applied that this version does not know (a newer Haven ran). */
  unknown: string[];
}

/**
 * Reads the migrations Kysely recorded as applied, without creating its tables (the migrator
 * would) and without its introspection of every schema on PostgreSQL.
 */
export async function migrationState(db: Kysely<DB>): Promise<MigrationState> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // On PostgreSQL the table is the one in the first schema of the search_path (see `migrator`).
  const { rows: found } = postgres
    ? await sql<{
        found: string | null;
      }>`select to_regclass('kysely_migration')::text as found`.execute(db)
    : await sql<{ found: string | null }>`
        select name as found from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(
        db,
      );
  const applied = found[0]?.found
    ? (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map(
        (r) => r.name,
      )
    : [];
  const known = new Set(migrationNames);
  const done = new Set(applied);
  return {
    pending: migrationNames.filter((name) => !done.has(name)),
    unknown: applied.filter((name) => !known.has(name)).sort(),
  };
}
